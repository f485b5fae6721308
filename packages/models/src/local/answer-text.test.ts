import { describe, expect, it } from "vitest";
import { answerStopTriggers, cleanAnswer, trimmedDeltas } from "./answer-text.ts";

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

describe("trimmedDeltas", () => {
  function deltasOf(chunks: readonly string[]): string[] {
    const received: string[] = [];
    const push = trimmedDeltas((text) => received.push(text));
    for (const chunk of chunks) push(chunk);
    return received;
  }

  it("drops leading whitespace and holds whitespace back until text follows it", () => {
    const chunks = ["\n", " Dana", " Okafor.", "\n", "- Owns", " the clusters.", "\n\n"];
    const received = deltasOf(chunks);
    expect(received).toEqual(["Dana", " Okafor.", "\n- Owns", " the clusters."]);
    expect(received.join("")).toBe(cleanAnswer(chunks.join("")));
  });

  it("sends nothing for whitespace only", () => {
    expect(deltasOf([" ", "\n"])).toEqual([]);
  });
});
