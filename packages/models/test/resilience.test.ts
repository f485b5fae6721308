/**
 * Failures below HTTP (refused connections, timeouts, cancellation), retries and fallbacks, against
 * real local servers.
 */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelSpec, type ChatMessage } from "@freehold/api";
import {
  createLanguageModel,
  startScriptedModelServer,
  type CreateLanguageModelOptions,
  type LanguageModel,
  type ModelScriptInput,
  type ScriptedModelServer,
  type StreamPart,
} from "../src/index.ts";
import { closedPort, startFixtureServer, type FixtureServer } from "./fixture-server.ts";

const messages: ChatMessage[] = [{ role: "user", content: "hello" }];
const servers: (ScriptedModelServer | FixtureServer)[] = [];
let hanging: FixtureServer;
beforeAll(async () => {
  hanging = await startFixtureServer(() => "hang");
  servers.push(hanging);
});
afterAll(() => Promise.all(servers.map((server) => server.close())));

async function scripted(script: ModelScriptInput): Promise<ScriptedModelServer> {
  const server = await startScriptedModelServer({ script });
  servers.push(server);
  return server;
}

function model(
  input: {
    provider?: "openai-compatible" | "anthropic" | "gemini";
    model?: string;
    baseUrl: string;
    maxRetries?: number;
    timeoutSeconds?: number;
  },
  options: CreateLanguageModelOptions = {},
): LanguageModel {
  const { timeoutSeconds, ...fields } = input;
  const spec = ModelSpec.parse({
    provider: "openai-compatible",
    model: "primary",
    maxRetries: 0,
    apiKeySecretRef: { name: "model", key: "api-key" },
    ...fields,
  });
  const withTimeout = timeoutSeconds === undefined ? spec : { ...spec, timeoutSeconds };
  return createLanguageModel(withTimeout, {
    resolveSecret: () => Promise.resolve("test-key"),
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
}

async function collect(stream: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

describe("transport failures", () => {
  it.each(["openai-compatible", "anthropic", "gemini"] as const)(
    "maps a refused connection (%s)",
    async (provider) => {
      const port = await closedPort();
      const unreachable = model({ provider, baseUrl: `http://127.0.0.1:${port}/v1` });
      const error: unknown = await unreachable.generate({ messages }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({
        code: "model.unreachable",
        retryable: true,
        details: { systemCode: "ECONNREFUSED" },
      });
      expect((error as Error).message).toContain(`http://127.0.0.1:${port}/v1`);
    },
  );

  it.each(["openai-compatible", "anthropic", "gemini"] as const)(
    "times out a call that never answers (%s)",
    async (provider) => {
      const slow = model({ provider, baseUrl: hanging.url, timeoutSeconds: 0.1 });
      const error: unknown = await slow.generate({ messages }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: "model.timeout", retryable: true });
      expect((error as Error).message).toContain(hanging.url);
    },
  );

  it("times out a stream, and retries it before its first part", async () => {
    const slow = model({ baseUrl: hanging.url, timeoutSeconds: 0.1, maxRetries: 1 });
    const before = hanging.requests.length;
    await expect(collect(slow.stream({ messages }))).rejects.toMatchObject({ code: "model.timeout" });
    expect(hanging.requests.length - before).toBe(2);
  });

  it("closes the connection when the consumer stops a stream early", async () => {
    const closed = Promise.withResolvers<undefined>();
    const server = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write('data: {"choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}\n\n');
      response.on("close", () => {
        closed.resolve(undefined);
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    try {
      for await (const part of model({ baseUrl: `http://127.0.0.1:${port}/v1` }).stream({ messages })) {
        expect(part).toEqual({ type: "text-delta", text: "Hel" });
        break;
      }
      await closed.promise;
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("fails with model.aborted, without retrying, when the caller cancels", async () => {
    const slow = model({ baseUrl: hanging.url, maxRetries: 3 });
    const controller = new AbortController();
    const call = slow.generate({ messages, signal: controller.signal });
    setTimeout(() => {
      controller.abort();
    }, 20);
    await expect(call).rejects.toMatchObject({ code: "model.aborted", retryable: false });
  });

  it("resolves the API key again after the server refused it", async () => {
    const server = await scripted([{ error: { status: 401 } }, { text: "welcome" }]);
    let reads = 0;
    const keyed = createLanguageModel(
      ModelSpec.parse({
        provider: "openai-compatible",
        model: "primary",
        baseUrl: server.baseUrl,
        apiKeySecretRef: { name: "model", key: "key" },
        maxRetries: 0,
      }),
      { resolveSecret: () => Promise.resolve(`key-${++reads}`) },
    );
    await expect(keyed.generate({ messages })).rejects.toMatchObject({ code: "model.auth" });
    await keyed.generate({ messages });
    expect(reads).toBe(2);
  });

  it("refuses a spec whose key cannot be read", () => {
    const spec = ModelSpec.parse({
      provider: "openai",
      model: "gpt-4o-mini",
      apiKeySecretRef: { name: "openai", key: "key" },
    });
    expect(() => createLanguageModel(spec, {})).toThrow(/no resolveSecret option/);
  });
});

describe("retries", () => {
  it("retries 5xx until the server answers", async () => {
    const server = await scripted([{ error: { status: 503, times: 2 } }, { text: "recovered" }]);
    const result = await model({ baseUrl: server.baseUrl, maxRetries: 2 }).generate({ messages });
    expect(result.message.content).toBe("recovered");
    expect(server.requests).toHaveLength(3);
  });

  it("gives up after maxRetries", async () => {
    const server = await scripted([{ error: { status: 500, times: 5 } }, { text: "too late" }]);
    await expect(
      model({ baseUrl: server.baseUrl, maxRetries: 1 }).generate({ messages }),
    ).rejects.toMatchObject({
      code: "model.provider",
    });
    expect(server.requests).toHaveLength(2);
  });

  it("does not retry a request the provider refused", async () => {
    const server = await scripted([{ error: { status: 400, times: 5 } }, { text: "never" }]);
    await expect(
      model({ baseUrl: server.baseUrl, maxRetries: 3 }).generate({ messages }),
    ).rejects.toMatchObject({
      code: "model.invalid-request",
    });
    expect(server.requests).toHaveLength(1);
  });
});

describe("fallbacks", () => {
  it("answers from the next model after a retryable failure, and says which model answered", async () => {
    const primary = await scripted([{ error: { status: 503, times: 10 } }]);
    const fallback = await scripted([{ text: "from the fallback" }]);
    const backup = model({ baseUrl: fallback.baseUrl, model: "backup" });
    const chained = model({ baseUrl: primary.baseUrl, maxRetries: 1 }, { fallbacks: [backup] });
    const result = await chained.generate({ messages });
    expect(result).toMatchObject({ message: { content: "from the fallback" }, model: "backup" });
    expect(chained.modelId).toBe("primary");
    expect(primary.requests).toHaveLength(2);
  });

  it("falls back in a stream before its first part", async () => {
    const port = await closedPort();
    const fallback = await scripted([{ text: "streamed from the fallback" }]);
    const chained = model(
      { baseUrl: `http://127.0.0.1:${port}/v1` },
      { fallbacks: [model({ baseUrl: fallback.baseUrl, model: "backup" })] },
    );
    const parts = await collect(chained.stream({ messages }));
    expect(parts.at(-1)).toMatchObject({
      type: "finish",
      result: { model: "backup", message: { content: "streamed from the fallback" } },
    });
  });

  it("falls back at once when Retry-After is too long to wait", async () => {
    const primary = await scripted([{ error: { status: 429, retryAfterSeconds: 3600, times: 10 } }]);
    const fallback = await scripted([{ text: "no waiting" }]);
    const chained = model(
      { baseUrl: primary.baseUrl, maxRetries: 5 },
      { fallbacks: [model({ baseUrl: fallback.baseUrl, model: "backup" })] },
    );
    expect((await chained.generate({ messages })).message.content).toBe("no waiting");
    expect(primary.requests).toHaveLength(1);
  });

  it("does not fall back on a mistake in the request", async () => {
    const primary = await scripted([{ error: { status: 401 } }]);
    const fallback = await scripted([{ text: "unused" }]);
    const chained = model(
      { baseUrl: primary.baseUrl },
      { fallbacks: [model({ baseUrl: fallback.baseUrl })] },
    );
    await expect(chained.generate({ messages })).rejects.toMatchObject({ code: "model.auth" });
    expect(fallback.requests).toHaveLength(0);
  });

  it("reports every model tried when all fail", async () => {
    const first = await scripted([{ error: { status: 500, times: 10 } }]);
    const second = await scripted([{ error: { status: 429, times: 10 } }]);
    const chained = model(
      { baseUrl: first.baseUrl },
      { fallbacks: [model({ baseUrl: second.baseUrl, model: "backup" })] },
    );
    const error: unknown = await chained.generate({ messages }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: "model.rate-limit",
      retryable: true,
      details: {
        attempts: [
          { provider: "openai-compatible", model: "primary", code: "model.provider" },
          { provider: "openai-compatible", model: "backup", code: "model.rate-limit" },
        ],
      },
    });
  });
});
