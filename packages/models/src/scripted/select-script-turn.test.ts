import { describe, expect, it } from "vitest";
import { parseModelScript } from "./model-script.ts";
import { matchesConversation, selectScriptTurn, type ErrorTurnCounts } from "./select-script-turn.ts";

const user = (content: string) => ({ role: "user", content });
const assistant = (content: string, calls: { id: string; name: string }[] = []) => ({
  role: "assistant",
  content,
  ...(calls.length === 0
    ? {}
    : {
        tool_calls: calls.map(({ id, name }) => ({
          id,
          type: "function",
          function: { name, arguments: "{}" },
        })),
      }),
});
const tool = (id: string, content: string) => ({ role: "tool", tool_call_id: id, content });

function pick(
  script: ReturnType<typeof parseModelScript>,
  messages: unknown[],
  counts: ErrorTurnCounts = new Map(),
) {
  const choice = selectScriptTurn(script, messages, counts);
  return choice.kind === "exhausted" ? "exhausted" : `${choice.kind} ${choice.turnIndex}`;
}

describe("selectScriptTurn", () => {
  const script = parseModelScript([
    { toolCalls: [{ name: "lookup" }] },
    { match: { contains: "unpaid" }, text: "not paid" },
    { match: { contains: "paid" }, text: "paid" },
    { text: "anything else?" },
  ]);

  it("picks the turn from the assistant messages already in the conversation", () => {
    expect(pick(script, [user("q")])).toBe("answer 0");
    const called = [user("q"), assistant("", [{ id: "c1", name: "lookup" }])];
    expect(pick(script, [...called, tool("c1", "status: paid")])).toBe("answer 2");
    expect(pick(script, [...called, tool("c1", "status: unpaid")])).toBe("answer 1");
    expect(
      pick(script, [...called, tool("c1", "status: unpaid"), assistant("not paid"), user("thanks")]),
    ).toBe("answer 3");
    expect(pick(script, [...called, tool("c1", "paid"), assistant("paid"), user("thanks")])).toBe("answer 3");
  });

  it("is exhausted past the last turn, unless it loops", () => {
    const short = parseModelScript([{ text: "one" }]);
    expect(pick(short, [user("a"), assistant("one"), user("b")])).toBe("exhausted");
    const looping = parseModelScript({ loop: true, turns: [{ text: "one" }, { text: "two" }] });
    expect(pick(looping, [user("a"), assistant("one"), user("b"), assistant("two"), user("c")])).toBe(
      "answer 0",
    );
  });

  it("serves an error turn `times` times per conversation, then the next turn", () => {
    const flaky = parseModelScript([{ error: { status: 503, times: 2 } }, { text: "ok" }]);
    const counts: ErrorTurnCounts = new Map();
    expect(pick(flaky, [user("a")], counts)).toBe("error 0");
    expect(pick(flaky, [user("b")], counts)).toBe("error 0");
    expect(pick(flaky, [user("a")], counts)).toBe("error 0");
    expect(pick(flaky, [user("a")], counts)).toBe("answer 1");
    expect(pick(flaky, [user("a"), assistant("ok"), user("again")], counts)).toBe("exhausted");
  });

  it("matches on role, tool name and any message", () => {
    const messages = [
      user("I am a VIP"),
      assistant("", [{ id: "c1", name: "get_invoice" }]),
      tool("c1", "{}"),
    ];
    expect(matchesConversation({ role: "tool", toolName: "get_invoice" }, messages)).toBe(true);
    expect(matchesConversation({ toolName: "refund" }, messages)).toBe(false);
    expect(matchesConversation({ anyMessageContains: "VIP" }, messages)).toBe(true);
    expect(matchesConversation({ role: "user" }, messages)).toBe(false);
  });
});
