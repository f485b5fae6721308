/**
 * The Gemini provider against recorded Gemini API responses (SSE with CRLF line endings).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelSpec, type ChatMessage } from "@freehold/api";
import { createLanguageModel, type LanguageModel, type StreamPart } from "../src/index.ts";
import { startFixtureServer, type FixtureResponse, type FixtureServer } from "./fixture-server.ts";

const conversation: ChatMessage[] = [
  { role: "system", content: "You look up invoices." },
  { role: "user", content: "Is INV-7 paid?" },
];
const tools = [
  {
    name: "get_invoice",
    description: "Reads an invoice",
    inputSchema: { type: "object", properties: { id: { type: "string" } } },
  },
];

let answer: () => FixtureResponse = () => "hang";
let server: FixtureServer;
beforeAll(async () => {
  server = await startFixtureServer(() => answer());
});
afterAll(() => server.close());

function gemini(): LanguageModel {
  const spec = ModelSpec.parse({
    provider: "gemini",
    model: "gemini-2.5-flash",
    baseUrl: `${server.url}/v1beta`,
    apiKeySecretRef: { name: "gemini", key: "api-key" },
    maxRetries: 0,
    parameters: { temperature: 0, maxOutputTokens: 100, stop: ["END"] },
  });
  return createLanguageModel(spec, { resolveSecret: () => Promise.resolve("AIza-test-9999") });
}

async function collect(stream: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

describe("gemini provider", () => {
  it("sends contents, systemInstruction, functionDeclarations and generationConfig; the key in a header", async () => {
    answer = () => ({ fixture: "gemini/generate-content-text.json" });
    await gemini().generate({ messages: conversation, tools });
    const request = server.requests.at(-1);
    expect(request?.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    expect(request?.headers["x-goog-api-key"]).toBe("AIza-test-9999");
    expect(request?.body).toEqual({
      contents: [{ role: "user", parts: [{ text: "Is INV-7 paid?" }] }],
      systemInstruction: { parts: [{ text: "You look up invoices." }] },
      tools: [
        {
          functionDeclarations: [
            {
              name: "get_invoice",
              description: "Reads an invoice",
              parametersJsonSchema: tools[0]?.inputSchema,
            },
          ],
        },
      ],
      generationConfig: { temperature: 0, maxOutputTokens: 100, stopSequences: ["END"] },
    });
  });

  it("reads text, counting thinking tokens as output", async () => {
    answer = () => ({ fixture: "gemini/generate-content-text.json" });
    expect(await gemini().generate({ messages: conversation })).toEqual({
      message: {
        role: "assistant",
        content: "AI learns patterns from data to make predictions or decisions.",
      },
      usage: { inputTokens: 8, outputTokens: 629 },
      finishReason: "stop",
      model: "gemini-2.5-flash",
    });
  });

  it("reads function calls and sends their thought signatures back with the tool results", async () => {
    const model = gemini();
    answer = () => ({ fixture: "gemini/generate-content-function-call.json" });
    const first = await model.generate({ messages: conversation, tools });
    expect(first.finishReason).toBe("tool-calls");
    const calls = first.message.toolCalls ?? [];
    expect(calls.map(({ name, arguments: text }) => ({ name, arguments: text }))).toEqual([
      { name: "get_weather", arguments: '{"location":"Paris"}' },
      { name: "get_weather", arguments: '{"location":"London"}' },
    ]);
    expect(new Set(calls.map((call) => call.id)).size).toBe(2);

    answer = () => ({ fixture: "gemini/generate-content-text.json" });
    const [paris, london] = calls;
    await model.generate({
      messages: [
        ...conversation,
        first.message,
        { role: "tool", toolCallId: paris?.id ?? "", name: "get_weather", content: "18°C" },
        {
          role: "tool",
          toolCallId: london?.id ?? "",
          name: "get_weather",
          content: "no data",
          isError: true,
        },
      ],
      tools,
    });
    expect(server.requests.at(-1)?.body.contents).toEqual([
      { role: "user", parts: [{ text: "Is INV-7 paid?" }] },
      {
        role: "model",
        parts: [
          {
            functionCall: { name: "get_weather", args: { location: "Paris" } },
            thoughtSignature: "CiQB0e2Kb7Vj4iJ2pmjJPgZJ9ZhCpZy0GkWqG3X1h3b8z0lbEaQKYgHR7Ypv",
          },
          { functionCall: { name: "get_weather", args: { location: "London" } } },
        ],
      },
      {
        role: "user",
        parts: [
          { functionResponse: { name: "get_weather", response: { result: "18°C" } } },
          { functionResponse: { name: "get_weather", response: { error: "no data" } } },
        ],
      },
    ]);
  });

  it("gives function calls it did not see the documented placeholder signature", async () => {
    answer = () => ({ fixture: "gemini/generate-content-text.json" });
    await gemini().generate({
      messages: [
        ...conversation,
        {
          role: "assistant",
          content: "",
          toolCalls: [{ id: "call_from_openai", name: "get_invoice", arguments: '{"id":"INV-7"}' }],
        },
        { role: "tool", toolCallId: "call_from_openai", name: "get_invoice", content: "paid" },
      ],
    });
    expect(server.requests.at(-1)?.body.contents).toContainEqual({
      role: "model",
      parts: [
        {
          functionCall: { name: "get_invoice", args: { id: "INV-7" } },
          thoughtSignature: "skip_thought_signature_validator",
        },
      ],
    });
  });

  it("streams text from SSE events with CRLF line endings", async () => {
    answer = () => ({ fixture: "gemini/stream-text.sse" });
    const parts = await collect(gemini().stream({ messages: conversation }));
    expect(server.requests.at(-1)?.path).toBe(
      "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    );
    expect(parts).toEqual([
      { type: "text-delta", text: "The" },
      { type: "text-delta", text: " sky is blue because of Rayleigh" },
      { type: "text-delta", text: " scattering." },
      {
        type: "finish",
        result: {
          message: { role: "assistant", content: "The sky is blue because of Rayleigh scattering." },
          usage: { inputTokens: 9, outputTokens: 31 },
          finishReason: "stop",
          model: "gemini-2.5-flash",
        },
      },
    ]);
  });

  it("streams function calls", async () => {
    answer = () => ({ fixture: "gemini/stream-function-call.sse" });
    const parts = await collect(gemini().stream({ messages: conversation, tools }));
    const call = parts.find((part) => part.type === "tool-call");
    expect(call?.type === "tool-call" && call.toolCall).toMatchObject({
      name: "get_invoice",
      arguments: '{"id":"INV-7","include":["lines","payments"]}',
    });
    const finish = parts.at(-1);
    expect(finish?.type === "finish" && finish.result).toMatchObject({
      message: { content: "Let me look that up.", toolCalls: [{ name: "get_invoice" }] },
      usage: { inputTokens: 70, outputTokens: 61 },
      finishReason: "tool-calls",
    });
  });

  it("refuses a blocked prompt with model.content-filter", async () => {
    answer = () => ({ fixture: "gemini/prompt-blocked.json" });
    await expect(gemini().generate({ messages: conversation })).rejects.toMatchObject({
      code: "model.content-filter",
      retryable: false,
    });
  });

  const errors: [string, FixtureResponse, string, boolean][] = [
    [
      "429 with RetryInfo",
      { status: 429, fixture: "gemini/error-rate-limit.json" },
      "model.rate-limit",
      true,
    ],
    [
      "400 API key not valid",
      { status: 400, fixture: "gemini/error-api-key-invalid.json" },
      "model.auth",
      false,
    ],
    ["404 unknown model", { status: 404, fixture: "gemini/error-not-found.json" }, "model.not-found", false],
    [
      "400 input token count",
      { status: 400, fixture: "gemini/error-token-count.json" },
      "model.context-length",
      false,
    ],
    ["500 internal", { status: 500, fixture: "gemini/error-internal.json" }, "model.provider", true],
    ["503 unavailable", { status: 503, fixture: "gemini/error-unavailable.json" }, "model.provider", true],
  ];
  it.each(errors)("maps %s", async (_name, response, code, retryable) => {
    answer = () => response;
    const error: unknown = await gemini()
      .generate({ messages: conversation })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code, retryable });
    expect((error as Error).message).toContain(
      `gemini model "gemini-2.5-flash" at ${server.url}/v1beta/models/`,
    );
    expect((error as Error).message).not.toContain("AIza-test-9999");
  });

  it("reads RetryInfo as details.retryAfterMs", async () => {
    answer = () => ({ status: 429, fixture: "gemini/error-rate-limit.json" });
    await expect(gemini().generate({ messages: conversation })).rejects.toMatchObject({
      details: { retryAfterMs: 22_000 },
    });
  });
});
