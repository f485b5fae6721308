import { describe, expect, it } from "vitest";
import {
  answerStopTriggers,
  cleanAnswer,
  createAnswerText,
  finalAnswer,
  repeatedLineStart,
} from "./answer-text.ts";

describe("answerStopTriggers", () => {
  it("ends an answer at the caller's stops, a heading and the call markers", () => {
    expect(answerStopTriggers({ stop: ["END"], afterToolResults: false })).toEqual([
      "END",
      "\n### ",
      "||call:",
      "||result:",
    ]);
  });

  it("also ends an answer after tool results at a new question", () => {
    expect(answerStopTriggers({ stop: [], afterToolResults: true })).toContain("\nQuestion:");
  });
});

describe("cleanAnswer", () => {
  it("trims the answer and cuts it before a call marker", () => {
    expect(cleanAnswer(' Dana Okafor.\n||result: "# ACME teams"')).toBe("Dana Okafor.");
    expect(cleanAnswer("1\n||call: read_text_file({})")).toBe("1");
    expect(cleanAnswer("\n- Platform team.\n- Billing team.\n")).toBe("- Platform team.\n- Billing team.");
  });
});

describe("repeatedLineStart", () => {
  it("finds the first complete line that repeats an earlier one", () => {
    const text = "- Dana Okafor\n- Marco Ruiz\n- Priya Natarajan\n- Priya Natarajan\n- Priya Nata";
    expect(repeatedLineStart(text)).toBe(text.lastIndexOf("- Priya Natarajan\n"));
  });

  it("lets short lines, blank lines and a line still being written repeat", () => {
    expect(repeatedLineStart("```\ncode here\n```\n\n}\n}\n")).toBeUndefined();
    expect(repeatedLineStart("- Priya Natarajan\n- Priya Natarajan")).toBeUndefined();
    expect(repeatedLineStart("- Dana\n- Priya\n- Priya\n- Priya\n")).toBe(15);
  });
});

describe("createAnswerText", () => {
  function stream(chunks: readonly string[], endAtRepeatedLine = true): { sent: string[]; ended: boolean } {
    const sent: string[] = [];
    const answer = createAnswerText({ endAtRepeatedLine, onText: (text) => sent.push(text) });
    let ended = false;
    for (const chunk of chunks) ended = answer.push(chunk);
    return { sent, ended };
  }

  it("drops leading whitespace and holds whitespace back until text follows it", () => {
    const chunks = ["\n", " Dana", " Okafor.", "\n", "- Owns", " the clusters.", "\n\n"];
    const { sent, ended } = stream(chunks);
    expect(sent).toEqual(["Dana", " Okafor.", "\n- Owns", " the clusters."]);
    expect(ended).toBe(false);
    expect(sent.join("")).toBe(finalAnswer(chunks.join(""), { endAtRepeatedLine: true }));
  });

  it("ends at a repeated line, and never sends it", () => {
    const chunks = ["- Dana", "\n- Pri", "ya\n", "- Pri", "ya\n", "- Priya\n"];
    const { sent, ended } = stream(chunks);
    expect(ended).toBe(true);
    expect(sent.join("")).toBe("- Dana\n- Priya");
    expect(finalAnswer(chunks.join(""), { endAtRepeatedLine: true })).toBe("- Dana\n- Priya");
  });

  it("sends a line that starts like an earlier one once it differs", () => {
    const { sent, ended } = stream(["- Priya\n", "- Pri", "ya leads support.\n"]);
    expect(ended).toBe(false);
    expect(sent.join("")).toBe("- Priya\n- Priya leads support.");
  });

  it("keeps repeated lines when told to", () => {
    const { sent, ended } = stream(["- Priya\n", "- Priya\n", "- Priya"], false);
    expect(ended).toBe(false);
    expect(sent.join("")).toBe("- Priya\n- Priya\n- Priya");
  });

  it("sends nothing for whitespace only", () => {
    expect(stream([" ", "\n"]).sent).toEqual([]);
  });
});
