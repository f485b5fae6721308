/**
 * An agent defined with `defineAgent` runs on the real runtime (a worker on redis-server, the
 * scripted model over HTTP) and calls a tool written with `defineTool`, served by `serveTools`
 * behind its token: the MCPServer the agent uses is a `defineMCPServer` definition with the URL.
 */
import { RuntimeConfig, type RunEvent } from "@freehold/api";
import {
  createAgentQueues,
  createRunStore,
  startRedisServer,
  startRun,
  type RedisServer,
} from "@freehold/handoff";
import { startScriptedModelServer } from "@freehold/models";
import { createRuntime, createRuntimeWorker } from "@freehold/runtime";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  defineAgent,
  defineMCPServer,
  defineModel,
  defineTool,
  serveTools,
  toManifest,
} from "../src/index.ts";

let redis: RedisServer;
let connection: Redis;

beforeAll(async () => {
  redis = await startRedisServer();
  connection = new Redis(redis.url, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  connection.disconnect();
  await redis.stop();
});

describe("an agent defined in TypeScript", () => {
  it("calls a defineTool tool served by serveTools, within its allow-list", async () => {
    const calls: { number: string; key: string | undefined }[] = [];
    const refunds: string[] = [];
    const getInvoice = defineTool({
      name: "get_invoice",
      description: "The invoice with the given number.",
      input: z.object({ number: z.string() }),
      output: z.object({ number: z.string(), total: z.number(), paid: z.boolean() }),
      annotations: { readOnlyHint: true },
      run: ({ number }, context) => {
        calls.push({ number, key: context.idempotencyKey });
        return { number, total: 120, paid: false };
      },
    });
    const refund = defineTool({
      name: "refund",
      description: "Refunds an invoice.",
      input: z.object({ number: z.string() }),
      run: ({ number }) => {
        refunds.push(number);
        return "refunded";
      },
    });
    const token = "agent-run-token-0123456789";
    const tools = await serveTools([getInvoice, refund], { token });
    const model = await startScriptedModelServer({
      script: [
        {
          toolCalls: [
            { name: "get_invoice", arguments: { number: "INV-7" } },
            { name: "refund", arguments: { number: "INV-7" } },
          ],
        },
        { text: "INV-7 is 120 and unpaid.", match: { role: "tool" } },
      ],
    });
    const namespace = `t${Math.random().toString(36).slice(2, 10)}`;
    const definitions = {
      model: defineModel({
        name: "scripted",
        namespace,
        provider: "openai-compatible",
        model: "scripted-model",
        baseUrl: model.baseUrl,
        maxRetries: 0,
      }),
      tools: defineMCPServer({
        name: "billing-tools",
        namespace,
        http: { url: tools.url, headers: [{ name: "Authorization", value: `Bearer ${token}` }] },
      }),
      agent: defineAgent({
        name: "billing",
        namespace,
        model: { ref: "scripted" },
        instructions: "Answer questions about invoices.",
        tools: [{ mcpServer: "billing-tools", allow: ["get_invoice"] }],
      }),
    };
    const runtime = await createRuntime(
      RuntimeConfig.parse({
        schemaVersion: 1,
        namespace,
        agents: [toManifest(definitions.agent)],
        models: [toManifest(definitions.model)],
        mcpServers: [toManifest(definitions.tools)],
      }),
      { resolveSecret: () => Promise.reject(new Error("no secrets here")) },
    );
    const store = createRunStore(connection);
    const worker = createRuntimeWorker({ connection, store, agents: runtime.agents });
    try {
      await worker.ready();
      const run = await startRun(
        { redis: connection, store, queues: createAgentQueues(connection) },
        { namespace, agent: "billing", input: "How much is INV-7?" },
      );
      const events: RunEvent[] = [];
      for await (const { event } of store.followEvents(namespace, run.id)) events.push(event);
      const state = await store.require(namespace, run.id);

      expect(state).toMatchObject({ status: "completed", output: "INV-7 is 120 and unpaid." });
      const results = state.messages.filter((message) => message.role === "tool");
      expect(results).toEqual([
        expect.objectContaining({
          name: "get_invoice",
          content: '{"number":"INV-7","total":120,"paid":false}',
        }),
        expect.objectContaining({
          name: "refund",
          content: 'there is no tool named "refund"; the tools are: get_invoice',
          isError: true,
        }),
      ]);
      // The tool ran once, with the run's idempotency key; refund, not in the allow-list, never ran.
      expect(calls).toEqual([{ number: "INV-7", key: `${state.id}-1-0` }]);
      expect(refunds).toEqual([]);
      // The model was offered only the allowed tool, with the JSON Schema of its zod input.
      const offered = (
        model.requests[0] as unknown as { tools: { function: { name: string; parameters: unknown } }[] }
      ).tools;
      expect(offered).toEqual([
        expect.objectContaining({
          function: expect.objectContaining({
            name: "get_invoice",
            parameters: expect.objectContaining({ properties: { number: { type: "string" } } }) as unknown,
          }) as unknown,
        }),
      ]);
      expect(events.filter((event) => event.type === "tool-call-end")).toHaveLength(2);
    } finally {
      await worker.close();
      await runtime.close();
      await model.close();
      await tools.close();
    }
  });
});
