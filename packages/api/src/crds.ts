/**
 * CustomResourceDefinitions and JSON Schemas, generated from the zod schemas. `pnpm generate` writes
 * them to `packages/api/generated/`; `freehold crds` prints them.
 *
 * @module
 */
import { stringify } from "yaml";
import { z } from "zod";
import { group, version } from "./names.ts";
import type { ResourceKind } from "./resource.ts";
import { resourceKinds } from "./resources.ts";
import { toStructuralSchema, type JsonSchema } from "./structural-schema.ts";

const generatedNotice = "Generated from the zod schemas in packages/api/src by `pnpm generate`. Do not edit.";

function crdSchema(schema: z.ZodType): JsonSchema {
  return toStructuralSchema(
    z.toJSONSchema(schema, { target: "openapi-3.0", io: "input", unrepresentable: "throw" }),
  );
}

/**
 * The CRD of one kind, as an object ready to serialize.
 *
 * @example
 * ```ts
 * import { Agent, customResourceDefinition } from "@freehold/api";
 * customResourceDefinition(Agent).metadata.name; // "agents.freehold.dev"
 * ```
 */
export function customResourceDefinition(kind: ResourceKind) {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${kind.plural}.${group}`,
      labels: { "app.kubernetes.io/part-of": "freehold" },
    },
    spec: {
      group,
      names: {
        kind: kind.kind,
        listKind: `${kind.kind}List`,
        plural: kind.plural,
        singular: kind.kind.toLowerCase(),
        shortNames: [...kind.shortNames],
        categories: ["freehold"],
      },
      scope: kind.scope,
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: kind.printerColumns.map((column) => ({ ...column })),
          schema: {
            openAPIV3Schema: {
              type: "object",
              description: kind.description,
              properties: {
                apiVersion: { type: "string", description: `The API version: ${group}/${version}.` },
                kind: { type: "string", description: `The kind: ${kind.kind}.` },
                metadata: { type: "object" },
                spec: crdSchema(kind.spec),
                status: crdSchema(kind.status),
              },
              required: ["spec"],
              "x-kubernetes-validations": kind.rootRules.map((rule) => ({ ...rule })),
            },
          },
        },
      ],
    },
  };
}

/** One CRD as YAML, with a header that says it is generated. */
export function customResourceDefinitionYaml(kind: ResourceKind): string {
  return `# ${generatedNotice}\n${stringify(customResourceDefinition(kind), { lineWidth: 0 })}`;
}

/** Every CRD, as one multi-document YAML stream (what `freehold crds` prints). */
export function allCustomResourceDefinitionsYaml(): string {
  return resourceKinds.map((kind) => customResourceDefinitionYaml(kind)).join("---\n");
}

/** A JSON Schema (draft 2020-12) of a whole manifest of the kind, for editors and other languages. */
export function manifestJsonSchema(kind: ResourceKind): JsonSchema {
  return {
    $comment: generatedNotice,
    ...(z.toJSONSchema(kind.schema, {
      target: "draft-2020-12",
      io: "input",
      unrepresentable: "throw",
    }) as JsonSchema),
    $id: `https://${group}/schemas/${version}/${kind.kind.toLowerCase()}.json`,
    title: kind.kind,
    description: kind.description,
  };
}

/** The files `pnpm generate` writes, relative to `packages/api/generated/`, with their content. */
export function generatedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const kind of resourceKinds) {
    files.set(`crds/${group}_${kind.plural}.yaml`, customResourceDefinitionYaml(kind));
    files.set(
      `json-schema/${kind.kind.toLowerCase()}.json`,
      `${JSON.stringify(manifestJsonSchema(kind), null, 2)}\n`,
    );
  }
  return files;
}
