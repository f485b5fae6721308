/**
 * The OpenAI chat completions provider against recorded OpenAI (and vLLM, Ollama, llama.cpp) responses.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isFreeholdError, ModelSpec, type ChatMessage } from "@freehold/api";
import { createLanguageModel, type LanguageModel, type StreamPart } from "../src/index.ts";
import { startFixtureServer, type FixtureResponse, type FixtureServer } from "./fixture-server.ts";

const conversation: ChatMessage[] = [
  { role: "system", content: "You report the weather." },
  { role: "user", content: "Weather in Paris?" },
  {
    role: "assistant",
    content: "",
    toolCalls: [{ id: "call_1", name: "get_weather", arguments: '{"location":"Paris"}' }],
  },
  { role: "tool", toolCallId: "call_1", name: "get_weather", content: "18°C, sunny" },
];
const tools = [
  {
    name: "get_weather",
    description: "Current weather",
    inputSchema: { type: "object", properties: { location: { type: "string" } }, required: ["location"] },
  },
];

let answer: (path: string) => FixtureResponse = () => "hang";
let server: FixtureServer;
beforeAll(async () => {
  server = await startFixtureServer((request) => answer(request.path));
});
afterAll(() => server.close());

function openAi(provider: "openai" | "openai-compatible" = "openai"): LanguageModel {
  const spec = ModelSpec.parse({
    provider,
    model: "gpt-4.1",
    baseUrl: `${server.url}/v1/`,
    apiKeySecretRef: { name: "openai", key: "api-key" },
    maxRetries: 0,
    parameters: { temperature: 0.2, maxOutputTokens: 256 },
  });
  return createLanguageModel(spec, { resolveSecret: () => Promise.resolve("sk-test-secret-1234\n") });
}

async function collect(stream: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

describe("openai provider", () => {
  it("sends the conversation in the chat completions format with the key as a bearer token", async () => {
    answer = () => ({ fixture: "openai/chat-completion-text.json" });
    await openAi().generate({ messages: conversation, tools, parameters: { seed: 7, stop: ["END"] } });
    const request = server.requests.at(-1);
    expect(request?.path).toBe("/v1/chat/completions");
    expect(request?.headers.authorization).toBe("Bearer sk-test-secret-1234");
    expect(request?.body).toEqual({
      model: "gpt-4.1",
      messages: [
        { role: "system", content: "You report the weather." },
        { role: "user", content: "Weather in Paris?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "call_1",
              type: "function",
              function: { name: "get_weather", arguments: '{"location":"Paris"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: "18°C, sunny" },
      ],
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: "Current weather",
            parameters: tools[0]?.inputSchema,
          },
        },
      ],
      temperature: 0.2,
      max_completion_tokens: 256,
      seed: 7,
      stop: ["END"],
    });
  });

  it("reads a text completion", async () => {
    answer = () => ({ fixture: "openai/chat-completion-text.json" });
    const result = await openAi().generate({ messages: conversation });
    expect(result).toEqual({
      message: { role: "assistant", content: "Hello! How can I assist you today?" },
      usage: { inputTokens: 19, outputTokens: 10 },
      finishReason: "stop",
      model: "gpt-4.1-2025-04-14",
    });
  });

  it("reads tool calls", async () => {
    answer = () => ({ fixture: "openai/chat-completion-tool-calls.json" });
    const result = await openAi().generate({ messages: conversation, tools });
    expect(result.finishReason).toBe("tool-calls");
    expect(result.message.toolCalls).toEqual([
      { id: "call_DdmO9pD3xa9XTPNJ32zg2hcA", name: "get_weather", arguments: '{"location":"Paris, France"}' },
      {
        id: "call_ABCDEFGHIJKLMNOPQRSTUVWX",
        name: "get_weather",
        arguments: '{"location":"Bogotá, Colombia"}',
      },
    ]);
    expect(result.usage).toEqual({ inputTokens: 82, outputTokens: 51 });
  });

  it("streams text and asks for usage in the stream", async () => {
    answer = () => ({ fixture: "openai/stream-text.sse" });
    const parts = await collect(openAi().stream({ messages: conversation }));
    expect(server.requests.at(-1)?.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
    const text = parts.flatMap((part) => (part.type === "text-delta" ? [part.text] : [])).join("");
    expect(text).toBe("Hello! How can I assist you today?");
    expect(parts.at(-1)).toEqual({
      type: "finish",
      result: {
        message: { role: "assistant", content: "Hello! How can I assist you today?" },
        usage: { inputTokens: 19, outputTokens: 10 },
        finishReason: "stop",
        model: "gpt-4.1-2025-04-14",
      },
    });
  });

  it("assembles streamed tool-call fragments by index", async () => {
    answer = () => ({ fixture: "openai/stream-tool-calls.sse" });
    const parts = await collect(openAi().stream({ messages: conversation, tools }));
    const calls = [
      { id: "call_DdmO9pD3xa9XTPNJ32zg2hcA", name: "get_weather", arguments: '{"location":"Paris, France"}' },
      {
        id: "call_ABCDEFGHIJKLMNOPQRSTUVWX",
        name: "get_weather",
        arguments: '{"location":"Bogotá, Colombia"}',
      },
    ];
    expect(parts.filter((part) => part.type === "tool-call")).toEqual(
      calls.map((toolCall) => ({ type: "tool-call", toolCall })),
    );
    const finish = parts.at(-1);
    expect(finish?.type === "finish" && finish.result).toEqual({
      message: { role: "assistant", content: "", toolCalls: calls },
      usage: { inputTokens: 82, outputTokens: 51 },
      finishReason: "tool-calls",
      model: "gpt-4.1-2025-04-14",
    });
  });

  it("sends max_tokens to OpenAI-compatible servers", async () => {
    answer = () => ({ fixture: "openai/chat-completion-text.json" });
    await openAi("openai-compatible").generate({ messages: conversation });
    expect(server.requests.at(-1)?.body).toMatchObject({ max_tokens: 256 });
  });

  const errors: [string, FixtureResponse, string, boolean][] = [
    [
      "429 with Retry-After",
      { status: 429, headers: { "retry-after": "20" }, fixture: "openai/error-rate-limit.json" },
      "model.rate-limit",
      true,
    ],
    [
      "429 quota used up",
      { status: 429, fixture: "openai/error-insufficient-quota.json" },
      "model.rate-limit",
      false,
    ],
    ["401 bad key", { status: 401, fixture: "openai/error-invalid-api-key.json" }, "model.auth", false],
    [
      "404 unknown model",
      { status: 404, fixture: "openai/error-model-not-found.json" },
      "model.not-found",
      false,
    ],
    [
      "400 context length",
      { status: 400, fixture: "openai/error-context-length.json" },
      "model.context-length",
      false,
    ],
    [
      "400 content filter",
      { status: 400, fixture: "openai/error-content-filter.json" },
      "model.content-filter",
      false,
    ],
    ["500 server error", { status: 500, fixture: "openai/error-server.json" }, "model.provider", true],
    [
      "404 Ollama model not pulled",
      { status: 404, fixture: "openai/ollama-model-not-found.json" },
      "model.not-found",
      false,
    ],
    [
      "400 llama.cpp context size",
      { status: 400, fixture: "openai/llama-cpp-context-size.json" },
      "model.context-length",
      false,
    ],
    [
      "400 vLLM context length",
      { status: 400, fixture: "openai/vllm-context-length.json" },
      "model.context-length",
      false,
    ],
  ];
  it.each(errors)("maps %s", async (_name, response, code, retryable) => {
    answer = () => response;
    const error: unknown = await openAi()
      .generate({ messages: conversation })
      .catch((caught: unknown) => caught);
    expect(isFreeholdError(error)).toBe(true);
    expect(error).toMatchObject({ code, retryable });
    const message = (error as Error).message;
    expect(message).toContain('openai model "gpt-4.1"');
    expect(message).toContain(`${server.url}/v1/chat/completions`);
    expect(message).not.toContain("sk-test-secret-1234");
  });

  it("reports Retry-After as details.retryAfterMs", async () => {
    answer = () => ({
      status: 429,
      headers: { "retry-after": "20" },
      fixture: "openai/error-rate-limit.json",
    });
    const error: unknown = await openAi()
      .generate({ messages: conversation })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "model.rate-limit", details: { retryAfterMs: 20_000, status: 429 } });
  });

  it("maps an error object inside a stream", async () => {
    answer = () => ({
      body: 'data: {"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}\n\n',
      headers: { "content-type": "text/event-stream" },
    });
    await expect(collect(openAi().stream({ messages: conversation }))).rejects.toMatchObject({
      code: "model.provider",
      retryable: true,
    });
  });

  it("refuses a stream that ends before the model finished", async () => {
    answer = () => ({
      body: 'data: {"choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}\n\n',
      headers: { "content-type": "text/event-stream" },
    });
    await expect(collect(openAi().stream({ messages: conversation }))).rejects.toMatchObject({
      code: "model.provider",
    });
  });
});
