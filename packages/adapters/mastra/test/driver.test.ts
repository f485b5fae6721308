/**
 * The Mastra driver on real parts (Redis, the scripted model server over HTTP, the counter MCP
 * server): Mastra's own agent loop runs the model calls and the MCP tool calls of a turn, each one
 * durable; the conformance suite (test/conformance) holds the driver to every other scenario.
 */
import type { RunState } from "@freehold/api";
import {
  connectRedis,
  newRun,
  createAgentQueues,
  createRunStore,
  startRedisServer,
  startRun,
  type AgentQueues,
  type RedisClient,
  type RedisServer,
  type RunStore,
} from "@freehold/handoff";
import { toModelMessages } from "@freehold/adapter-vercel-ai";
import { runLoop, type LoopDriver, type ModelTurn } from "@freehold/runtime";
import { Agent } from "@mastra/core/agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startScriptedWorld } from "../../../runtime/test/scripted-world.ts";
import { startCounterServer, type CounterServer } from "../../../../test/fixtures/mcp/counter-server.ts";
import { mastraDriver, mastraModel, mastraTurn } from "../src/index.ts";

let redis: RedisServer;
let connection: RedisClient;
let store: RunStore;
let queues: AgentQueues;
let counter: CounterServer;

beforeAll(async () => {
  redis = await startRedisServer();
  connection = connectRedis(redis.url, { maxRetriesPerRequest: null });
  store = createRunStore(connection);
  queues = createAgentQueues(connection);
  counter = await startCounterServer({ transport: "http" });
});

afterAll(async () => {
  await queues.close();
  await counter.close();
  connection.disconnect();
  await redis.stop();
});

async function completed(namespace: string, runId: string): Promise<RunState> {
  let state: RunState | undefined;
  await expect
    .poll(async () => (state = await store.require(namespace, runId)).status, {
      timeout: 20_000,
      interval: 25,
    })
    .toBe("completed");
  if (state === undefined) throw new Error("never read");
  return state;
}

describe("the mastra driver", () => {
  it("runs model calls and MCP tool calls in Mastra's loop, one turn, each checkpointed", async () => {
    // Counts the turns the runtime hands to Mastra: Mastra's loop, not the runtime's, goes from the
    // first tool call to the answer.
    const turns: number[] = [];
    const counting: LoopDriver = {
      framework: "mastra",
      run: (state, options) =>
        runLoop(state, {
          ...options,
          modelTurn: async (turn) => {
            turns.push(turn.state.steps);
            await mastraTurn(options.agent, turn);
          },
        }),
    };
    const world = await startScriptedWorld({
      connection,
      store,
      namespace: `v${Math.random().toString(36).slice(2, 10)}`,
      counterUrl: counter.url,
      script: [
        { toolCalls: [{ name: "add", arguments: { a: 1, b: 2 } }] },
        { toolCalls: [{ name: "add", arguments: { a: 3, b: 4 } }] },
        { text: "3 and 7." },
      ],
      agents: { front: { framework: "mastra", tools: [{ mcpServer: "counter", allow: ["add"] }] } },
      drivers: [counting],
    });
    try {
      const run = await startRun(
        { redis: connection, store, queues },
        { namespace: world.namespace, agent: "front", input: "1+2, then 3+4" },
      );
      const done = await completed(world.namespace, run.id);
      expect(done.output).toBe("3 and 7.");
      expect(turns).toEqual([0]);
      const events = (await store.readEvents(world.namespace, run.id)).map(({ event }) => event.type);
      expect(events.filter((type) => type === "model-call-end")).toHaveLength(3);
      expect(events.filter((type) => type === "tool-call-end")).toHaveLength(2);
      // The model saw the run's durable conversation: the system prompt and every tool result.
      const last = world.model.requests.at(-1) as { messages: { role: string; content: unknown }[] };
      expect(last.messages.map((message) => message.role)).toEqual([
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
      ]);
    } finally {
      await world.close();
    }
  });

  it("is the driver of spec.framework mastra", () => {
    expect(mastraDriver.framework).toBe("mastra");
  });
});

describe("the conversation Mastra is given", () => {
  it("is one Mastra accepts: tool calls, results and errors", async () => {
    // Mastra turns the messages into its own before the first model call; a model that answers at
    // once lets the loop run to its end.
    const turn: ModelTurn = {
      state: newRun({ id: "r", namespace: "n", agent: "a", input: "Add." }),
      toolset: () => Promise.reject(new Error("unused")),
      callModel: () =>
        Promise.resolve({
          message: { role: "assistant", content: "Done." },
          usage: { inputTokens: 1, outputTokens: 1 },
          finishReason: "stop",
          model: "m",
        }),
      callTool: () => Promise.resolve(undefined),
    };
    const agent = new Agent({
      id: "front",
      name: "front",
      instructions: "Add.",
      model: mastraModel(turn, { provider: "openai-compatible", modelId: "m" }),
      maxRetries: 0,
    });
    const result = await agent.generate(
      toModelMessages([
        { role: "user", content: "Add." },
        {
          role: "assistant",
          content: "",
          toolCalls: [
            { id: "c1", name: "add", arguments: '{"a":1,"b":2}' },
            { id: "c2", name: "echo", arguments: "not json" },
          ],
        },
        { role: "tool", toolCallId: "c1", name: "add", content: "3" },
        { role: "tool", toolCallId: "c2", name: "echo", content: "bad arguments", isError: true },
      ]),
    );
    expect(result.error).toBeUndefined();
    expect(result.text).toBe("Done.");
  });
});
