import { describe, expect, it } from "vitest";
import { toGrammarSchema } from "./grammar-schema.ts";

const anyValue = {
  oneOf: [
    { type: ["string", "number", "boolean", "null"] },
    { type: "object", additionalProperties: true },
    { type: "array" },
  ],
};

describe("toGrammarSchema", () => {
  it("keeps the required properties of an object and drops what a grammar cannot say", () => {
    expect(
      toGrammarSchema({
        $schema: "http://json-schema.org/draft-07/schema#",
        type: "object",
        properties: {
          city: { type: "string", pattern: "^[A-Z]", description: "The city" },
          units: { type: "string", enum: ["metric", "imperial"] },
        },
        required: ["city"],
        additionalProperties: false,
      }),
    ).toEqual({ type: "object", properties: { city: { type: "string" } } });
  });

  it("keeps every property when none is required", () => {
    expect(
      toGrammarSchema({
        type: "object",
        properties: { limit: { type: "integer", minimum: 1 }, status: { enum: ["open", "paid"] } },
      }),
    ).toEqual({
      type: "object",
      properties: { limit: { type: "integer" }, status: { enum: ["open", "paid"] } },
    });
  });

  it("allows only {} for a tool without arguments, and any object when extra keys are allowed", () => {
    expect(toGrammarSchema({ type: "object", properties: {}, additionalProperties: false })).toEqual({
      type: "object",
      properties: {},
    });
    expect(toGrammarSchema({ type: "object" })).toEqual({ type: "object", additionalProperties: true });
  });

  it("resolves $ref into $defs and definitions, and turns unions into oneOf", () => {
    expect(
      toGrammarSchema({
        type: "object",
        properties: {
          item: { $ref: "#/$defs/item" },
          old: { $ref: "#/definitions/old" },
          value: { anyOf: [{ type: "string" }, { type: "null" }] },
          when: { type: "string", format: "date-time" },
          tags: { type: "array", items: { type: "string", maxLength: 20 }, maxItems: 3 },
          both: { type: ["string", "number"] },
        },
        $defs: { item: { type: "object", properties: { id: { const: 7 } } } },
        definitions: { old: { type: "boolean" } },
      }),
    ).toEqual({
      type: "object",
      properties: {
        item: { type: "object", properties: { id: { const: 7 } } },
        old: { type: "boolean" },
        value: { oneOf: [{ type: "string" }, { type: "null" }] },
        when: { type: "string", format: "date-time" },
        tags: { type: "array", items: { type: "string", maxLength: 20 }, maxItems: 3 },
        both: { type: ["string", "number"] },
      },
    });
  });

  it("gives up on cycles and unknown shapes with any JSON value", () => {
    const cyclic = toGrammarSchema({
      type: "object",
      properties: { node: { $ref: "#/$defs/node" } },
      $defs: { node: { type: "object", properties: { next: { $ref: "#/$defs/node" } } } },
    });
    expect(JSON.stringify(cyclic)).toContain(JSON.stringify(anyValue));
    expect(toGrammarSchema({ not: { type: "string" } })).toEqual(anyValue);
    expect(toGrammarSchema({ $ref: "https://example.com/schema" })).toEqual(anyValue);
  });
});
