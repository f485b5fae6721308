import { z } from "zod";
import { describe, expect, it } from "vitest";
import { invalidRequest, requestIssues } from "./request-issues.ts";

const Body = z.strictObject({
  input: z.string().min(1),
  options: z.strictObject({ limit: z.int().min(1) }).optional(),
});

function issues(value: unknown) {
  const result = Body.safeParse(value);
  if (result.success) throw new Error("expected a failure");
  return requestIssues(result.error, value);
}

describe("requestIssues", () => {
  it("names missing fields as required, wrong types by what was expected, and unknown fields", () => {
    expect(issues({})).toEqual([{ field: "input", problem: "required" }]);
    expect(issues({ input: 3 })).toEqual([{ field: "input", problem: "expected string, received number" }]);
    expect(issues({ input: "x", colour: "red", size: 2 })).toEqual([
      { field: "colour", problem: "unknown field" },
      { field: "size", problem: "unknown field" },
    ]);
    expect(issues({ input: "x", options: { limit: 0, extra: true } })).toEqual([
      { field: "options.limit", problem: "Too small: expected number to be >=1" },
      { field: "options.extra", problem: "unknown field" },
    ]);
    expect(issues("text")).toEqual([{ field: "", problem: "expected object, received string" }]);
  });
});

describe("invalidRequest", () => {
  it("is one request.invalid error whose message lists every field", () => {
    const value = { input: 3, colour: "red" };
    const result = Body.safeParse(value);
    if (result.success) throw new Error("expected a failure");
    const error = invalidRequest("body", result.error, value);
    expect(error.code).toBe("request.invalid");
    expect(error.message).toBe(
      "invalid request body: input: expected string, received number; colour: unknown field",
    );
    expect(error.details).toEqual({
      in: "body",
      issues: [
        { field: "input", problem: "expected string, received number" },
        { field: "colour", problem: "unknown field" },
      ],
    });
  });
});
