import { describe, expect, it } from "vitest";
import type { ChatMessage } from "@freehold/api";
import { answerCue, toChatHistory, toolCallInstructions, transcriptPreamble } from "./chat-history.ts";

const tool = {
  name: "get_weather",
  description: "Weather now.",
  inputSchema: {
    type: "object",
    properties: { city: { type: "string", description: "The city" }, days: {} },
  },
};

describe("toChatHistory", () => {
  it("describes one tool's arguments as a plain list", () => {
    expect(toolCallInstructions(tool)).toBe(
      'The assistant calls the tool get_weather: Weather now. Its arguments: "city" (string, The city), "days" (value).',
    );
    expect(toolCallInstructions({ name: "ping", inputSchema: { type: "object" } })).toBe(
      "The assistant calls the tool ping: Its arguments: none.",
    );
  });

  it("opens a model turn after the user's message, behind the preamble and the instructions", () => {
    expect(
      toChatHistory(
        [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Weather in Paris?" },
        ],
        { preamble: transcriptPreamble, instructions: toolCallInstructions(tool) },
      ),
    ).toEqual([
      { type: "system", text: transcriptPreamble },
      { type: "system", text: "Be brief." },
      { type: "system", text: toolCallInstructions(tool) },
      { type: "user", text: "Weather in Paris?" },
      { type: "model", response: [] },
    ]);
  });

  it("puts tool calls and their results in the model turn and leaves it open for the answer", () => {
    const messages: ChatMessage[] = [
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: "",
        toolCalls: [{ id: "c1", name: "get_weather", arguments: '{"city":"Paris"}' }],
      },
      { role: "tool", toolCallId: "c1", name: "get_weather", content: '{"celsius":18}' },
    ];
    expect(toChatHistory(messages).at(-1)).toEqual({
      type: "model",
      response: [
        { type: "functionCall", name: "get_weather", params: { city: "Paris" }, result: { celsius: 18 } },
      ],
    });
  });

  it("renders an answer after tool results behind the cue, then opens a new turn", () => {
    const messages: ChatMessage[] = [
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: "",
        toolCalls: [{ id: "c1", name: "get_weather", arguments: "not json" }],
      },
      { role: "tool", toolCallId: "c1", name: "get_weather", content: "down", isError: true },
      { role: "assistant", content: "I could not tell." },
      { role: "user", content: "Thanks" },
    ];
    expect(toChatHistory(messages)).toEqual([
      { type: "user", text: "Weather in Paris?" },
      {
        type: "model",
        response: [
          { type: "functionCall", name: "get_weather", params: "not json", result: "Error: down" },
          `${answerCue("Weather in Paris?")} I could not tell.`,
        ],
      },
      { type: "user", text: "Thanks" },
      { type: "model", response: [] },
    ]);
  });

  it("restates the question in the answer cue, cut at 500 characters", () => {
    expect(answerCue(" Who leads\n the platform team? ")).toBe(
      "\nQuestion: Who leads the platform team?\nAnswer:",
    );
    expect(answerCue("x".repeat(600))).toBe(`\nQuestion: ${"x".repeat(500)}…\nAnswer:`);
  });

  it("keeps a result whose call was trimmed away as a call of its own", () => {
    const history = toChatHistory([
      { role: "user", content: "Go on" },
      { role: "tool", toolCallId: "gone", name: "get_weather", content: "sunny" },
    ]);
    expect(history.at(-1)).toEqual({
      type: "model",
      response: [{ type: "functionCall", name: "get_weather", params: undefined, result: "sunny" }],
    });
  });
});
