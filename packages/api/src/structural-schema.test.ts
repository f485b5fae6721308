import { describe, expect, it } from "vitest";
import { toStructuralSchema } from "./structural-schema.ts";

describe("toStructuralSchema", () => {
  it("drops what CRDs refuse and keeps the rest", () => {
    expect(
      toStructuralSchema({
        $schema: "https://json-schema.org/draft/2020-12/schema",
        type: "object",
        additionalProperties: false,
        properties: {
          kind: { type: "string", const: "Agent" },
          steps: { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
          labels: { type: "object", additionalProperties: { type: "string" } },
        },
      }),
    ).toEqual({
      type: "object",
      properties: {
        kind: { type: "string", enum: ["Agent"] },
        steps: { type: "integer", minimum: 1 },
        labels: { type: "object", additionalProperties: { type: "string" } },
      },
    });
  });

  it("refuses unions, naming the field", () => {
    expect(() =>
      toStructuralSchema({
        type: "object",
        properties: { value: { anyOf: [{ type: "string" }, { type: "number" }] } },
      }),
    ).toThrow(/<root>\.value: 'anyOf' cannot be expressed in a CRD schema/);
  });

  it("refuses an untyped node", () => {
    expect(() => toStructuralSchema({ type: "object", properties: { value: {} } })).toThrow(
      /value: every node/,
    );
  });
});
