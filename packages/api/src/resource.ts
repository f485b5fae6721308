/**
 * A resource kind: its zod schema (apiVersion, kind, metadata, spec, status) and what the CRD
 * generator needs to know about it (plural, short names, scope, printer columns).
 *
 * @module
 */
import { z } from "zod";
import { apiVersion, ObjectMeta, resourceNamePattern } from "./names.ts";
import type { CelRule } from "./validation-rule.ts";

/** A column of `kubectl get`. */
export interface PrinterColumn {
  readonly name: string;
  readonly type: "string" | "integer" | "number" | "boolean" | "date";
  readonly jsonPath: string;
  readonly description?: string;
  readonly priority?: number;
}

/**
 * What a resource's name must be: `service` when it names a Service (DNS-1035 label: starts with a
 * letter, at most 63 characters), `label` for a DNS-1123 label.
 */
export type NameRule = "service" | "label";

/** Options of {@link defineResource}. */
export interface ResourceDefinition<
  Spec extends z.ZodType,
  Status extends z.ZodType,
  Kind extends string = string,
> {
  readonly kind: Kind;
  readonly plural: string;
  readonly shortNames: readonly string[];
  readonly scope: "Namespaced" | "Cluster";
  readonly description: string;
  readonly spec: Spec;
  readonly status: Status;
  readonly printerColumns: readonly PrinterColumn[];
  readonly nameRule: NameRule;
  /** Rules on the whole object, for checks that need `metadata.name` (e.g. no self-reference). */
  readonly rules?: readonly ResourceRule<z.output<Spec>>[];
}

/** A rule on the whole object; `check` gets the name and the spec. */
export interface ResourceRule<Spec> extends CelRule {
  readonly check: (name: string, spec: Spec) => boolean;
}

/** A resource kind, ready for parsing manifests and generating its CRD. */
export interface ResourceKind<
  Spec extends z.ZodType = z.ZodType,
  Status extends z.ZodType = z.ZodType,
  Kind extends string = string,
> extends ResourceDefinition<Spec, Status, Kind> {
  /** The whole object: apiVersion, kind, metadata, spec, status. */
  readonly schema: z.ZodObject<{
    apiVersion: z.ZodLiteral<string>;
    kind: z.ZodLiteral<Kind>;
    metadata: typeof ObjectMeta;
    spec: Spec;
    status: z.ZodOptional<Status>;
  }>;
  /** The rules on the whole object in CEL, including the one on metadata.name. */
  readonly rootRules: readonly CelRule[];
}

const nameRules: Record<NameRule, { rule: string; message: string; check: (name: string) => boolean }> = {
  service: {
    rule: `self.metadata.name.matches('${resourceNamePattern}') && size(self.metadata.name) <= 63`,
    message:
      "metadata.name must be at most 63 lower-case letters, digits and '-', starting with a letter " +
      "(it names a Service)",
    check: (name) => new RegExp(resourceNamePattern).test(name) && name.length <= 63,
  },
  label: {
    rule: "size(self.metadata.name) <= 63",
    message: "metadata.name must be at most 63 characters",
    check: (name) => name.length <= 63,
  },
};

/**
 * Defines a resource kind from its spec and status schemas.
 *
 * @example
 * ```ts
 * const Widget = defineResource({ kind: "Widget", plural: "widgets", shortNames: [], scope: "Namespaced",
 *   description: "A widget.", spec: z.object({ size: z.int() }), status: z.object({}),
 *   printerColumns: [], nameRule: "label" });
 * Widget.schema.parse(manifest);
 * ```
 */
export function defineResource<Spec extends z.ZodType, Status extends z.ZodType, const Kind extends string>(
  definition: ResourceDefinition<Spec, Status, Kind>,
): ResourceKind<Spec, Status, Kind> {
  const nameRule = nameRules[definition.nameRule];
  const rules = definition.rules ?? [];
  const schema = z
    .object({
      apiVersion: z.literal(apiVersion),
      kind: z.literal(definition.kind),
      metadata: ObjectMeta,
      spec: definition.spec,
      status: definition.status.optional(),
    })
    .superRefine((value, context) => {
      const resource = value as { metadata: { name: string }; spec: z.output<Spec> };
      if (!nameRule.check(resource.metadata.name)) {
        context.addIssue({ code: "custom", message: nameRule.message, path: ["metadata", "name"] });
      }
      for (const rule of rules) {
        if (!rule.check(resource.metadata.name, resource.spec)) {
          const path = (rule.fieldPath ?? "").split(".").filter((segment) => segment !== "");
          context.addIssue({ code: "custom", message: rule.message, path });
        }
      }
    });
  const rootRules: CelRule[] = [
    { rule: nameRule.rule, message: nameRule.message },
    ...rules.map(({ check: _check, ...celRule }) => celRule),
  ];
  return { ...definition, schema, rootRules };
}
