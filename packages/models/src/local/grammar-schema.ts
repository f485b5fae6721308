/**
 * Turns a tool's JSON Schema (as MCP servers publish it) into the subset node-llama-cpp can compile to
 * a grammar, so the local model can only write arguments of the right shape. What the subset cannot
 * say (patterns, numeric ranges, `not`) is dropped: the tool still validates its input.
 *
 * @module
 */
import type { GbnfJsonSchema } from "node-llama-cpp";

/** Any JSON value. */
const anyValue: GbnfJsonSchema = {
  oneOf: [
    { type: ["string", "number", "boolean", "null"] },
    { type: "object", additionalProperties: true },
    { type: "array" },
  ],
};

const immutableTypes = ["string", "number", "integer", "boolean", "null"] as const;
type ImmutableType = (typeof immutableTypes)[number];

/** Nesting beyond this becomes "any JSON value" (and so do `$ref` cycles). */
const maxDepth = 12;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isImmutableType(value: unknown): value is ImmutableType {
  return (immutableTypes as readonly unknown[]).includes(value);
}

function isLiteral(value: unknown): value is string | number | boolean | null {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}

/** The definitions a `$ref` may point into: `$defs` and the older `definitions`. */
function definitionsOf(root: Record<string, unknown>): Record<string, unknown> {
  return {
    ...(isRecord(root.definitions) ? root.definitions : {}),
    ...(isRecord(root.$defs) ? root.$defs : {}),
  };
}

function convert(schema: unknown, definitions: Record<string, unknown>, depth: number): GbnfJsonSchema {
  if (!isRecord(schema) || depth > maxDepth) return anyValue;
  if (typeof schema.$ref === "string") {
    const match = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(schema.$ref);
    const target = match?.[1] === undefined ? undefined : definitions[match[1]];
    return target === undefined ? anyValue : convert(target, definitions, depth + 1);
  }
  if ("const" in schema) return isLiteral(schema.const) ? { const: schema.const } : anyValue;
  if (Array.isArray(schema.enum)) {
    const values = schema.enum.filter(isLiteral);
    return values.length === 0 ? anyValue : { enum: values };
  }
  const alternatives = Array.isArray(schema.anyOf) ? schema.anyOf : schema.oneOf;
  if (Array.isArray(alternatives) && alternatives.length > 0) {
    return { oneOf: alternatives.map((alternative) => convert(alternative, definitions, depth + 1)) };
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    const merged = Object.assign({}, ...schema.allOf.filter(isRecord), {
      ...schema,
      allOf: undefined,
    }) as Record<string, unknown>;
    return convert(merged, definitions, depth + 1);
  }
  const type = schema.type ?? (isRecord(schema.properties) ? "object" : undefined);
  if (Array.isArray(type)) {
    if (type.every(isImmutableType)) return { type };
    return { oneOf: type.map((item: unknown) => convert({ ...schema, type: item }, definitions, depth + 1)) };
  }
  switch (type) {
    case "object":
      return convertObject(schema, definitions, depth);
    case "array": {
      const items = isRecord(schema.items) ? convert(schema.items, definitions, depth + 1) : undefined;
      const minItems = typeof schema.minItems === "number" ? schema.minItems : undefined;
      const maxItems = typeof schema.maxItems === "number" ? schema.maxItems : undefined;
      return {
        type: "array",
        ...(items === undefined ? {} : { items }),
        ...(minItems === undefined ? {} : { minItems }),
        ...(maxItems === undefined ? {} : { maxItems }),
      };
    }
    case "string": {
      if (schema.format === "date-time" || schema.format === "date" || schema.format === "time") {
        return { type: "string", format: schema.format };
      }
      const minLength = typeof schema.minLength === "number" ? schema.minLength : undefined;
      const maxLength = typeof schema.maxLength === "number" ? schema.maxLength : undefined;
      return {
        type: "string",
        ...(minLength === undefined ? {} : { minLength }),
        ...(maxLength === undefined ? {} : { maxLength }),
      };
    }
    default:
      return isImmutableType(type) ? { type } : anyValue;
  }
}

/**
 * An object: its required properties when it names any (a small model fills in every property the
 * grammar offers, so optional ones are left out), else all of them; no other keys.
 */
function convertObject(
  schema: Record<string, unknown>,
  definitions: Record<string, unknown>,
  depth: number,
): GbnfJsonSchema {
  const properties = isRecord(schema.properties) ? schema.properties : {};
  const names = Object.keys(properties);
  if (names.length === 0) {
    return schema.additionalProperties === false
      ? { type: "object", properties: {} }
      : { type: "object", additionalProperties: true };
  }
  const required = Array.isArray(schema.required)
    ? schema.required.filter((name): name is string => typeof name === "string" && name in properties)
    : [];
  const chosen = required.length > 0 ? required : names;
  return {
    type: "object",
    properties: Object.fromEntries(
      chosen.map((name) => [name, convert(properties[name], definitions, depth + 1)]),
    ),
  };
}

/**
 * The grammar schema for a tool's input schema.
 *
 * @example
 * ```ts
 * toGrammarSchema({ type: "object", properties: { city: { type: "string", pattern: "^[A-Z]" } }, required: ["city"] });
 * // { type: "object", properties: { city: { type: "string" } } }
 * ```
 */
export function toGrammarSchema(inputSchema: Readonly<Record<string, unknown>>): GbnfJsonSchema {
  return convert(inputSchema, definitionsOf(inputSchema), 0);
}
