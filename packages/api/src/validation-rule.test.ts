import { describe, expect, it } from "vitest";
import { z } from "zod";
import { validationsKey, withRules } from "./validation-rule.ts";

const Range = withRules(z.object({ min: z.int(), max: z.int() }).describe("A range."), [
  {
    rule: "self.min <= self.max",
    message: "min must not exceed max",
    fieldPath: ".min",
    check: (range) => range.min <= range.max,
  },
]);

describe("withRules", () => {
  it("enforces the rule in zod at the rule's field", () => {
    const result = Range.safeParse({ min: 3, max: 1 });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toMatchObject([{ message: "min must not exceed max", path: ["min"] }]);
    expect(Range.safeParse({ min: 1, max: 3 }).success).toBe(true);
  });

  it("puts the CEL rule into the JSON Schema and keeps the description", () => {
    const schema = z.toJSONSchema(Range) as Record<string, unknown>;
    expect(schema.description).toBe("A range.");
    expect(schema[validationsKey]).toEqual([
      { rule: "self.min <= self.max", message: "min must not exceed max", fieldPath: ".min" },
    ]);
  });

  it("adds to rules attached before", () => {
    const Twice = withRules(Range, [
      { rule: "self.max < 100", message: "max below 100", check: (range) => range.max < 100 },
    ]);
    expect((z.toJSONSchema(Twice) as Record<string, unknown[]>)[validationsKey]).toHaveLength(2);
    expect(Twice.safeParse({ min: 5, max: 200 }).error?.issues.map((issue) => issue.message)).toEqual([
      "max below 100",
    ]);
  });
});
