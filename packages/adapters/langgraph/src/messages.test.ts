import { AIMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages";
import { toolConversation } from "../../../../test/fixtures/tool-conversation.ts";
import { describe, expect, it } from "vitest";
import { toBaseMessages } from "./messages.ts";

describe("toBaseMessages", () => {
  it("keeps the run's tool call ids, parses arguments, and marks error results", () => {
    const messages = toBaseMessages([{ role: "system", content: "Be brief." }, ...toolConversation]);
    expect(messages[0]).toBeInstanceOf(SystemMessage);
    expect(messages[1]).toBeInstanceOf(HumanMessage);
    const answer = messages[2];
    expect(answer).toBeInstanceOf(AIMessage);
    expect((answer as AIMessage).tool_calls).toEqual([
      { type: "tool_call", id: "c1", name: "add", args: { a: 1, b: 2 } },
      { type: "tool_call", id: "c2", name: "echo", args: {} },
    ]);
    const results = messages.slice(3).filter((message) => message instanceof ToolMessage);
    expect(results.map((result) => [result.tool_call_id, result.content, result.status])).toEqual([
      ["c1", "3", "success"],
      ["c2", "bad arguments", "error"],
    ]);
  });
});
