/**
 * Cross-field rules written once and enforced twice: as CEL `x-kubernetes-validations` by the
 * Kubernetes API server (so `kubectl apply` refuses a bad manifest), and as a zod refinement in
 * TypeScript (so the SDK, the CLI and `freehold dev` refuse the same manifest with the same message).
 *
 * @module
 */
import type { z } from "zod";

/** The reasons the API server accepts for a failed rule; they pick the error's wording. */
export type RuleReason =
  "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";

/** One rule on an object. */
export interface ValidationRule<T> {
  /** The rule in CEL, evaluated by the API server with `self` bound to the object. */
  readonly rule: string;
  /** What is wrong and how to fix it; shown by both the API server and zod. */
  readonly message: string;
  /** The field the message is about, relative to the object (`.requireApproval`); named in errors. */
  readonly fieldPath?: string;
  /** How the API server words the failure; `FieldValueInvalid` when absent. */
  readonly reason?: RuleReason;
  /** The same rule in TypeScript: true when the value satisfies it. */
  readonly check: (value: T) => boolean;
}

/** The CEL part of a rule, as it appears in a CRD's `x-kubernetes-validations`. */
export type CelRule = Omit<ValidationRule<never>, "check">;

/** The metadata key under which rules are stored; the CRD generator copies it into the schema. */
export const validationsKey = "x-kubernetes-validations";

/**
 * Attaches rules to an object schema: a zod refinement for each, and their CEL in the schema's
 * metadata for the CRD generator.
 *
 * @example
 * ```ts
 * const Range = withRules(z.object({ min: z.int(), max: z.int() }), [
 *   { rule: "self.min <= self.max", message: "min must not exceed max", fieldPath: ".min",
 *     check: (range) => range.min <= range.max },
 * ]);
 * ```
 */
export function withRules<S extends z.ZodObject>(
  schema: S,
  rules: readonly ValidationRule<z.output<S>>[],
): S {
  const existing = schema.meta() ?? {};
  const existingRules = (existing[validationsKey] as CelRule[] | undefined) ?? [];
  const refined = schema.superRefine((value, context) => {
    for (const rule of rules) {
      if (!rule.check(value)) {
        context.addIssue({ code: "custom", message: rule.message, path: fieldPathToPath(rule.fieldPath) });
      }
    }
  });
  const celRules: CelRule[] = rules.map(({ check: _check, ...celRule }) => celRule);
  return refined.meta({ ...existing, [validationsKey]: [...existingRules, ...celRules] });
}

/** `.spec.model` → `["spec", "model"]`. */
function fieldPathToPath(fieldPath: string | undefined): string[] {
  return fieldPath === undefined ? [] : fieldPath.split(".").filter((segment) => segment !== "");
}
