import { describe, expect, it } from "vitest";
import { createOpenAiStreamAssembler, parseOpenAiError } from "./openai-chat-response.ts";

describe("createOpenAiStreamAssembler", () => {
  it("assembles whole tool calls sent without an index, and gives missing ids one", () => {
    const assembler = createOpenAiStreamAssembler("llama3.2");
    assembler.push({
      model: "llama3.2",
      choices: [
        {
          index: 0,
          delta: {
            role: "assistant",
            content: "",
            tool_calls: [
              { id: "call_a", function: { name: "one", arguments: '{"x":1}' } },
              { id: "", function: { name: "two", arguments: "" } },
            ],
          },
          finish_reason: null,
        },
      ],
    });
    assembler.push({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });
    const parts = assembler.finish();
    const finish = parts.at(-1);
    expect(finish?.type === "finish" && finish.result.finishReason).toBe("tool-calls");
    const calls = parts.flatMap((part) => (part.type === "tool-call" ? [part.toolCall] : []));
    expect(calls.map(({ name, arguments: text }) => ({ name, arguments: text }))).toEqual([
      { name: "one", arguments: '{"x":1}' },
      { name: "two", arguments: "{}" },
    ]);
    expect(calls[0]?.id).toBe("call_a");
    expect(calls[1]?.id).toMatch(/^call_/);
  });
});

describe("parseOpenAiError", () => {
  it("reads nested, top-level (vLLM) and plain-text errors", () => {
    expect(parseOpenAiError({ error: { message: "m", type: "t", code: 400 } })).toEqual({
      message: "m",
      type: "t",
      code: "400",
    });
    expect(parseOpenAiError({ object: "error", message: "m", type: "BadRequestError", code: 400 })).toEqual({
      message: "m",
      type: "BadRequestError",
      code: "400",
    });
    expect(parseOpenAiError("Bad Gateway")).toEqual({ message: "Bad Gateway" });
  });
});
