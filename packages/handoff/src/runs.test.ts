import { RunState, type ChatMessage } from "@freehold/api";
import { describe, expect, it } from "vitest";
import { newRun } from "./runs.ts";

describe("newRun", () => {
  it("starts the conversation with the input", () => {
    const state = newRun({ id: "r1", namespace: "acme", agent: "billing", input: "Hi" });
    expect(state.messages).toEqual([{ role: "user", content: "Hi" }]);
  });

  it("continues an earlier conversation: its messages, then the input", () => {
    const history: ChatMessage[] = [
      { role: "user", content: "What is 2 + 3?" },
      { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "add", arguments: '{"a":2,"b":3}' }] },
      { role: "tool", toolCallId: "c1", name: "add", content: "5" },
      { role: "assistant", content: "5" },
    ];
    const state = newRun({ id: "r2", namespace: "acme", agent: "billing", input: "And 3 + 4?", history });
    expect(state.messages).toEqual([...history, { role: "user", content: "And 3 + 4?" }]);
    expect(state.input).toBe("And 3 + 4?");
    expect(RunState.parse(state)).toEqual(state);
  });
});
