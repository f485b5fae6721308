import { describe, expect, it } from "vitest";
import { isFreeholdError } from "@freehold/api";
import { loadModelScript, parseModelScript } from "./model-script.ts";

function failure(run: () => unknown): { code: string; message: string; details: unknown } {
  try {
    run();
  } catch (error) {
    if (isFreeholdError(error)) return { code: error.code, message: error.message, details: error.details };
    throw error;
  }
  throw new Error("expected a failure");
}

describe("model scripts", () => {
  it("loads YAML and applies defaults", () => {
    const script = loadModelScript(`
turns:
  - toolCalls: [{ name: get_invoice }]
  - text: Done.
    delayMs: 10
  - error: { status: 429, retryAfterSeconds: 2 }
`);
    expect(script).toEqual({
      model: "scripted-model",
      loop: false,
      turns: [
        { toolCalls: [{ name: "get_invoice", arguments: {} }] },
        { text: "Done.", delayMs: 10 },
        { error: { status: 429, retryAfterSeconds: 2, times: 1 } },
      ],
    });
  });

  it("takes a bare list of turns", () => {
    expect(parseModelScript([{ text: "hi" }]).turns).toEqual([{ text: "hi" }]);
  });

  it("names the turn and the field of each problem", () => {
    const { code, message, details } = failure(() =>
      parseModelScript({
        turns: [
          { text: "ok" },
          { toolCalls: [{ name: 7 }] },
          { error: { status: 200 } },
          {},
          { text: "x", colour: "red" },
        ],
      }),
    );
    expect(code).toBe("model-script.invalid");
    expect(message).toContain("turn 2, field toolCalls[0].name");
    expect(message).toContain("turn 3, field error.status");
    expect(message).toContain("turn 4: a turn needs one of text, toolCalls or error");
    expect(message).toContain("turn 5, field colour: unknown field");
    const issues = (details as { issues: { turn?: number; field: string }[] }).issues;
    expect(issues).toContainEqual(expect.objectContaining({ turn: 2, field: "toolCalls[0].name" }));
  });

  it("refuses an error turn with text, an empty match, and an empty script", () => {
    expect(failure(() => parseModelScript([{ text: "x", error: { status: 500 } }])).message).toContain(
      "turn 1, field error: an error turn takes no text or toolCalls",
    );
    expect(failure(() => parseModelScript([{ text: "x", match: {} }])).message).toContain(
      "turn 1, field match",
    );
    expect(failure(() => parseModelScript({ turns: [] })).message).toContain("field turns");
  });

  it("reports YAML syntax errors with the line", () => {
    const { code, message } = failure(() => loadModelScript("turns:\n  - text: [unclosed\n", "script.yaml"));
    expect(code).toBe("model-script.yaml");
    expect(message).toMatch(/^script\.yaml:\d+:\d+ is not valid YAML/);
  });
});
