/**
 * The Anthropic Messages provider against recorded Anthropic responses.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelSpec, type ChatMessage } from "@freehold/api";
import { createLanguageModel, type LanguageModel, type StreamPart } from "../src/index.ts";
import { startFixtureServer, type FixtureResponse, type FixtureServer } from "./fixture-server.ts";

const conversation: ChatMessage[] = [
  { role: "system", content: "You report the weather." },
  { role: "user", content: "Weather in Paris and Rome?" },
  {
    role: "assistant",
    content: "Checking.",
    toolCalls: [
      { id: "toolu_1", name: "get_weather", arguments: '{"location":"Paris"}' },
      { id: "toolu_2", name: "get_weather", arguments: "{not json" },
    ],
  },
  { role: "tool", toolCallId: "toolu_1", name: "get_weather", content: "18°C" },
  { role: "tool", toolCallId: "toolu_2", name: "get_weather", content: "invalid arguments", isError: true },
  { role: "user", content: "And tomorrow?" },
];
const tools = [
  { name: "get_weather", inputSchema: { type: "object", properties: { location: { type: "string" } } } },
];

let answer: () => FixtureResponse = () => "hang";
let server: FixtureServer;
beforeAll(async () => {
  server = await startFixtureServer(() => answer());
});
afterAll(() => server.close());

function claude(): LanguageModel {
  const spec = ModelSpec.parse({
    provider: "anthropic",
    model: "claude-sonnet-4-5",
    baseUrl: `${server.url}/v1`,
    apiKeySecretRef: { name: "anthropic", key: "api-key" },
    maxRetries: 0,
  });
  return createLanguageModel(spec, { resolveSecret: () => Promise.resolve("sk-ant-test-5678") });
}

async function collect(stream: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

describe("anthropic provider", () => {
  it("sends system apart, tool_use and tool_result blocks, and merged turns", async () => {
    answer = () => ({ fixture: "anthropic/message-text.json" });
    await claude().generate({
      messages: conversation,
      tools,
      parameters: { temperature: 1.5, stop: ["END"] },
    });
    const request = server.requests.at(-1);
    expect(request?.path).toBe("/v1/messages");
    expect(request?.headers["x-api-key"]).toBe("sk-ant-test-5678");
    expect(request?.headers["anthropic-version"]).toBe("2023-06-01");
    expect(request?.body).toEqual({
      model: "claude-sonnet-4-5",
      max_tokens: 4096,
      system: "You report the weather.",
      messages: [
        { role: "user", content: [{ type: "text", text: "Weather in Paris and Rome?" }] },
        {
          role: "assistant",
          content: [
            { type: "text", text: "Checking." },
            { type: "tool_use", id: "toolu_1", name: "get_weather", input: { location: "Paris" } },
            { type: "tool_use", id: "toolu_2", name: "get_weather", input: {} },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: "18°C" },
            { type: "tool_result", tool_use_id: "toolu_2", content: "invalid arguments", is_error: true },
            { type: "text", text: "And tomorrow?" },
          ],
        },
      ],
      tools: [{ name: "get_weather", input_schema: tools[0]?.inputSchema }],
      temperature: 1,
      stop_sequences: ["END"],
    });
  });

  it("reads a text message", async () => {
    answer = () => ({ fixture: "anthropic/message-text.json" });
    expect(await claude().generate({ messages: conversation })).toEqual({
      message: { role: "assistant", content: "Hi! My name is Claude." },
      usage: { inputTokens: 2095, outputTokens: 503 },
      finishReason: "stop",
      model: "claude-sonnet-4-5-20250929",
    });
  });

  it("reads tool_use blocks, counting cached input tokens", async () => {
    answer = () => ({ fixture: "anthropic/message-tool-use.json" });
    expect(await claude().generate({ messages: conversation, tools })).toEqual({
      message: {
        role: "assistant",
        content: "I'll check the current weather in San Francisco for you.",
        toolCalls: [
          {
            id: "toolu_01A09q90qw90lq917835lq9",
            name: "get_weather",
            arguments: '{"location":"San Francisco, CA","unit":"celsius"}',
          },
        ],
      },
      usage: { inputTokens: 484, outputTokens: 92 },
      finishReason: "tool-calls",
      model: "claude-sonnet-4-5-20250929",
    });
  });

  it("streams text and assembles input_json_delta fragments into tool calls", async () => {
    answer = () => ({ fixture: "anthropic/stream-tool-use.sse" });
    const parts = await collect(claude().stream({ messages: conversation, tools }));
    expect(server.requests.at(-1)?.body).toMatchObject({ stream: true });
    const calls = [
      {
        id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
        name: "get_weather",
        arguments: '{"location": "San Francisco, CA", "unit": "fahrenheit"}',
      },
      { id: "toolu_01PzqyvWpMFpFfvcEUAn3hkR", name: "get_time", arguments: "{}" },
    ];
    expect(parts.filter((part) => part.type === "tool-call")).toEqual(
      calls.map((toolCall) => ({ type: "tool-call", toolCall })),
    );
    const text = "Okay, let's check the weather for San Francisco, CA:";
    expect(parts.flatMap((part) => (part.type === "text-delta" ? [part.text] : [])).join("")).toBe(text);
    expect(parts.at(-1)).toEqual({
      type: "finish",
      result: {
        message: { role: "assistant", content: text, toolCalls: calls },
        usage: { inputTokens: 472, outputTokens: 89 },
        finishReason: "tool-calls",
        model: "claude-sonnet-4-5-20250929",
      },
    });
  });

  it("maps an error event in the stream", async () => {
    answer = () => ({ fixture: "anthropic/stream-overloaded.sse" });
    await expect(collect(claude().stream({ messages: conversation }))).rejects.toMatchObject({
      code: "model.provider",
      retryable: true,
    });
  });

  const errors: [string, FixtureResponse, string, boolean][] = [
    [
      "429 with Retry-After",
      { status: 429, headers: { "retry-after": "3" }, fixture: "anthropic/error-rate-limit.json" },
      "model.rate-limit",
      true,
    ],
    ["401 bad key", { status: 401, fixture: "anthropic/error-authentication.json" }, "model.auth", false],
    [
      "404 unknown model",
      { status: 404, fixture: "anthropic/error-not-found.json" },
      "model.not-found",
      false,
    ],
    [
      "400 prompt too long",
      { status: 400, fixture: "anthropic/error-prompt-too-long.json" },
      "model.context-length",
      false,
    ],
    ["500 api error", { status: 500, fixture: "anthropic/error-api.json" }, "model.provider", true],
    ["529 overloaded", { status: 529, fixture: "anthropic/error-overloaded.json" }, "model.provider", true],
  ];
  it.each(errors)("maps %s", async (_name, response, code, retryable) => {
    answer = () => response;
    const error: unknown = await claude()
      .generate({ messages: conversation })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code, retryable });
    expect((error as Error).message).toContain(
      `anthropic model "claude-sonnet-4-5" at ${server.url}/v1/messages`,
    );
    expect((error as Error).message).not.toContain("sk-ant-test-5678");
  });

  it("reports Retry-After as details.retryAfterMs", async () => {
    answer = () => ({
      status: 429,
      headers: { "retry-after": "3" },
      fixture: "anthropic/error-rate-limit.json",
    });
    await expect(claude().generate({ messages: conversation })).rejects.toMatchObject({
      details: { retryAfterMs: 3000 },
    });
  });
});
