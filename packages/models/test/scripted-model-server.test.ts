/**
 * The scripted OpenAI-compatible server, driven through the real OpenAI-compatible provider.
 */
import { afterAll, describe, expect, it } from "vitest";
import { ModelSpec, type ChatMessage } from "@freehold/api";
import {
  createLanguageModel,
  loadModelScript,
  startScriptedModelServer,
  type LanguageModel,
  type ModelScriptInput,
  type ScriptedModelServer,
  type StreamPart,
} from "../src/index.ts";

const servers: ScriptedModelServer[] = [];
afterAll(() => Promise.all(servers.map((server) => server.close())));

async function serve(script: ModelScriptInput): Promise<ScriptedModelServer> {
  const server = await startScriptedModelServer({ script });
  servers.push(server);
  return server;
}

function modelFor(server: ScriptedModelServer, overrides: Partial<ModelSpec> = {}): LanguageModel {
  const spec = ModelSpec.parse({
    provider: "openai-compatible",
    model: "scripted",
    baseUrl: server.baseUrl,
    maxRetries: 0,
  });
  return createLanguageModel({ ...spec, ...overrides }, { retry: { initialDelayMs: 1 } });
}

async function collect(stream: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

/** A minimal agent loop: answers every tool call with `result(name, arguments)`. */
async function run(
  model: LanguageModel,
  question: string,
  result: (name: string, input: string) => string,
): Promise<ChatMessage[]> {
  const messages: ChatMessage[] = [{ role: "user", content: question }];
  for (let step = 0; step < 5; step++) {
    const { message } = await model.generate({ messages });
    messages.push(message);
    if (message.toolCalls === undefined) return messages;
    for (const call of message.toolCalls) {
      messages.push({
        role: "tool",
        toolCallId: call.id,
        name: call.name,
        content: result(call.name, call.arguments),
      });
    }
  }
  return messages;
}

describe("scripted model server", () => {
  it("answers with text, with deterministic usage", async () => {
    const server = await serve([{ text: "Hello there, friend." }]);
    const result = await modelFor(server).generate({
      messages: [{ role: "user", content: "Hi, who are you?" }],
    });
    expect(result).toEqual({
      message: { role: "assistant", content: "Hello there, friend." },
      usage: { inputTokens: 4, outputTokens: 5 }, // 16 and 20 characters, divided by 4
      finishReason: "stop",
      model: "scripted",
    });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.messages).toEqual([{ role: "user", content: "Hi, who are you?" }]);
  });

  it("streams text word by word and tool calls in fragments, with usage", async () => {
    const server = await serve({
      turns: [
        {
          text: "Let me check.",
          toolCalls: [{ name: "get_invoice", arguments: { id: "INV-7", lines: true } }],
        },
      ],
    });
    const parts = await collect(modelFor(server).stream({ messages: [{ role: "user", content: "INV-7?" }] }));
    expect(parts.filter((part) => part.type === "text-delta").length).toBeGreaterThan(1);
    expect(parts.at(-1)).toEqual({
      type: "finish",
      result: {
        message: {
          role: "assistant",
          content: "Let me check.",
          toolCalls: [{ id: "call_0_0", name: "get_invoice", arguments: '{"id":"INV-7","lines":true}' }],
        },
        usage: { inputTokens: 2, outputTokens: 13 }, // text, name and arguments: 51 characters
        finishReason: "tool-calls",
        model: "scripted",
      },
    });
  });

  it("sends raw arguments as they are, invalid JSON included", async () => {
    const server = await serve([{ toolCalls: [{ name: "broken", arguments: '{"id": 7,' }] }]);
    const result = await modelFor(server).generate({ messages: [{ role: "user", content: "go" }] });
    expect(result.message.toolCalls).toEqual([{ id: "call_0_0", name: "broken", arguments: '{"id": 7,' }]);
  });

  it("follows the script by the conversation, branching on match", async () => {
    const server = await serve(
      loadModelScript(`
turns:
  - toolCalls: [{ name: get_invoice, arguments: { id: INV-7 } }]
  - match: { toolName: get_invoice, contains: unpaid }
    text: INV-7 is not paid yet.
  - match: { toolName: get_invoice, contains: paid }
    text: INV-7 is paid.
`),
    );
    const model = modelFor(server);
    const [paid, unpaid] = await Promise.all([
      run(model, "Is INV-7 paid?", () => '{"status":"paid"}'),
      run(model, "Is INV-7 paid?", () => '{"status":"unpaid"}'),
    ]);
    expect(paid.at(-1)).toEqual({ role: "assistant", content: "INV-7 is paid." });
    expect(unpaid.at(-1)).toEqual({ role: "assistant", content: "INV-7 is not paid yet." });
  });

  it("keeps concurrent conversations apart", async () => {
    const server = await serve([
      { toolCalls: [{ name: "lookup", arguments: {} }] },
      { toolCalls: [{ name: "lookup", arguments: { again: true } }] },
      { text: "done" },
    ]);
    const model = modelFor(server);
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, index) => run(model, `question ${index}`, () => "ok")),
    );
    for (const messages of runs) {
      expect(messages.map((message) => message.role)).toEqual([
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
      ]);
      expect(messages.at(-1)?.content).toBe("done");
    }
    expect(server.requests).toHaveLength(60);
  });

  it("answers with an HTTP error and Retry-After, then the next turn, so retries succeed", async () => {
    const server = await serve([
      { error: { status: 429, retryAfterSeconds: 0, times: 2 } },
      { text: "after the rate limit" },
    ]);
    const strict = modelFor(server);
    await expect(strict.generate({ messages: [{ role: "user", content: "a" }] })).rejects.toMatchObject({
      code: "model.rate-limit",
      details: { retryAfterMs: 0 },
    });
    const patient = modelFor(server, { maxRetries: 2 });
    const result = await patient.generate({ messages: [{ role: "user", content: "b" }] });
    expect(result.message.content).toBe("after the rate limit");
    expect(server.requests).toHaveLength(4);
  });

  it("sends a custom error body", async () => {
    const server = await serve([
      {
        error: {
          status: 400,
          body: { error: { message: "prompt is too long: 9000 tokens > 8192 maximum" } },
        },
      },
    ]);
    await expect(
      modelFor(server).generate({ messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({
      code: "model.context-length",
    });
  });

  it("waits before answering, and a call that waits too long times out", async () => {
    const server = await serve([{ delayMs: 5_000, text: "too late" }]);
    const impatient = modelFor(server, { timeoutSeconds: 0.1 });
    await expect(impatient.generate({ messages: [{ role: "user", content: "x" }] })).rejects.toMatchObject({
      code: "model.timeout",
      retryable: true,
    });
  });

  it("refuses a request past the end of the script with a clear error", async () => {
    const server = await serve([{ text: "only answer" }]);
    const error: unknown = await modelFor(server)
      .generate({
        messages: [
          { role: "user", content: "one" },
          { role: "assistant", content: "only answer" },
          { role: "user", content: "two" },
        ],
      })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "model.invalid-request", retryable: false });
    expect((error as Error).message).toContain("The model script has no turn for this request");
  });

  it("starts again from the first turn in loop mode", async () => {
    const server = await serve({ loop: true, turns: [{ text: "first" }, { text: "second" }] });
    const messages: ChatMessage[] = [{ role: "user", content: "go" }];
    const answers: string[] = [];
    for (let index = 0; index < 5; index++) {
      const { message } = await modelFor(server).generate({ messages });
      answers.push(message.content);
      messages.push(message, { role: "user", content: "more" });
    }
    expect(answers).toEqual(["first", "second", "first", "second", "first"]);
  });

  it("lists its model and refuses unknown URLs", async () => {
    const server = await serve({ model: "tiny-scripted", turns: [{ text: "x" }] });
    expect(await (await fetch(`${server.baseUrl}/models`)).json()).toMatchObject({
      object: "list",
      data: [{ id: "tiny-scripted", object: "model" }],
    });
    const missing = await fetch(`${server.url}/v2/whatever`, { method: "POST" });
    expect(missing.status).toBe(404);
  });

  it("refuses a bad script, naming the turn and the field", async () => {
    await expect(
      startScriptedModelServer({ script: [{ text: "ok" }, { toolCalls: [{ arguments: {} }] }] as never }),
    ).rejects.toThrow(/turn 2, field toolCalls\[0\]\.name/);
  });

  it("is disposable with await using", async () => {
    async function serveOnce(): Promise<string> {
      await using server = await startScriptedModelServer({ script: [{ text: "x" }] });
      return server.baseUrl;
    }
    const url = await serveOnce();
    await expect(fetch(`${url}/models`)).rejects.toThrow();
  });
});
