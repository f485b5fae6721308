/**
 * Turns the JSON Schema that zod writes into a Kubernetes structural schema: what a CRD's
 * `openAPIV3Schema` may hold (no `additionalProperties: false`, no `const`, no JavaScript-only number
 * bounds; every node typed).
 *
 * @module
 */

/** A JSON Schema node, loosely typed: the converter walks arbitrary schemas. */
export type JsonSchema = { [key: string]: unknown };

const maxSafeInteger = Number.MAX_SAFE_INTEGER;

/** Keys zod writes that a structural schema does not take. */
const droppedKeys = new Set(["$schema", "id", "$id", "title", "examples"]);

/**
 * Converts one schema node and everything below it. Throws when the node uses a construct that
 * cannot be expressed structurally (a union of types), so a schema change that breaks the CRD is
 * caught by the generator, not by the API server.
 */
export function toStructuralSchema(node: JsonSchema, path = "<root>"): JsonSchema {
  const result: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (droppedKeys.has(key)) continue;
    switch (key) {
      case "additionalProperties":
        if (value === false) continue;
        result[key] = toStructuralSchema(value as JsonSchema, `${path}[*]`);
        break;
      case "properties":
        result[key] = Object.fromEntries(
          Object.entries(value as Record<string, JsonSchema>).map(([name, child]) => [
            name,
            toStructuralSchema(child, `${path}.${name}`),
          ]),
        );
        break;
      case "items":
        result[key] = toStructuralSchema(value as JsonSchema, `${path}[]`);
        break;
      case "const":
        result.enum = [value];
        break;
      case "maximum":
        if (value !== maxSafeInteger) result[key] = value;
        break;
      case "minimum":
        if (value !== -maxSafeInteger) result[key] = value;
        break;
      case "anyOf":
      case "oneOf":
      case "allOf":
      case "not":
        throw new Error(
          `${path}: '${key}' cannot be expressed in a CRD schema; model alternatives as optional fields ` +
            "with a validation rule (withRules)",
        );
      default:
        result[key] = value;
    }
  }
  if (result.type === undefined && result["x-kubernetes-preserve-unknown-fields"] !== true) {
    throw new Error(`${path}: every node of a CRD schema needs a type`);
  }
  return result;
}
