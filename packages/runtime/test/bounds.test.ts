/**
 * The bounds of delegation and what a cancel stops, on real parts (Redis, the scripted model server
 * over HTTP, the counter MCP server, a worker in this process): a delegation deeper than
 * `limits.maxDelegationDepth` or past `limits.maxChildRuns` is the call's error result, which the
 * model reads; a cycle of agents used as tools is refused when the runtime resolves its config; a
 * run cancelled while its model is answering never sends the tool calls of that answer.
 */
import { FreeholdError, type RunState, type ToolMessage } from "@freehold/api";
import {
  cancelRun,
  createAgentQueues,
  createRunStore,
  startRedisServer,
  startRun,
  type AgentQueues,
  type RedisServer,
  type RunStore,
} from "@freehold/handoff";
import type { ModelScriptInput } from "@freehold/models";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startCounterServer, type CounterServer } from "../../../test/fixtures/mcp/counter-server.ts";
import { scriptedConfig } from "../../../test/fixtures/scripted-config.ts";
import { createRuntime } from "../src/index.ts";
import { startScriptedWorld, type ScriptedWorld } from "./scripted-world.ts";

let redis: RedisServer;
let connection: Redis;
let store: RunStore;
let queues: AgentQueues;
let counter: CounterServer;

beforeAll(async () => {
  redis = await startRedisServer();
  connection = new Redis(redis.url, { maxRetriesPerRequest: null });
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

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function world(
  script: ModelScriptInput,
  agents: Record<string, Record<string, unknown>>,
): Promise<ScriptedWorld> {
  const started = await startScriptedWorld({
    connection,
    store,
    namespace: `b${Math.random().toString(36).slice(2, 10)}`,
    counterUrl: counter.url,
    script,
    agents,
  });
  cleanups.push(() => started.close());
  return started;
}

async function waitFor(namespace: string, runId: string, status: RunState["status"]): Promise<RunState> {
  let state: RunState | undefined;
  await expect
    .poll(async () => (state = await store.require(namespace, runId)).status, {
      timeout: 20_000,
      interval: 50,
    })
    .toBe(status);
  if (state === undefined) throw new Error("unreachable");
  return state;
}

function toolResults(state: RunState): ToolMessage[] {
  return state.messages.filter((message): message is ToolMessage => message.role === "tool");
}

describe("delegation bounds", () => {
  it("refuses a delegation deeper than limits.maxDelegationDepth, telling the model", async () => {
    const { namespace } = await world(
      [
        { match: { contains: "Q-root" }, toolCalls: [{ name: "ask_middle", arguments: { input: "Q-mid" } }] },
        { match: { contains: "Q-mid" }, toolCalls: [{ name: "ask_leaf", arguments: { input: "Q-leaf" } }] },
        { match: { toolName: "ask_leaf" }, text: "Middle answers alone." },
        { match: { toolName: "ask_middle" }, text: "Root is done." },
        { match: { contains: "Q-leaf" }, text: "Leaf answers." },
      ],
      {
        root: { tools: [{ agent: "middle" }] },
        middle: { tools: [{ agent: "leaf" }], limits: { maxDelegationDepth: 1 } },
        leaf: {},
      },
    );
    const run = await startRun(
      { redis: connection, store, queues },
      { namespace, agent: "root", input: "Q-root" },
    );
    const done = await waitFor(namespace, run.id, "completed");
    expect(done.output).toBe("Root is done.");
    expect(done.childRuns).toBe(1);
    const [answer] = toolResults(done);
    expect(answer?.content).toContain("Middle answers alone.");

    // The middle run: its delegation refused with the limit named, and it never started a child.
    const middleEvents = (await store.readEvents(namespace, run.id)).map(({ event }) => event);
    const start = middleEvents.find((event) => event.type === "delegation-start");
    if (start?.type !== "delegation-start") throw new Error("root did not delegate");
    const middle = await store.require(namespace, start.childRunId);
    expect(middle.status).toBe("completed");
    expect(middle.parent?.depth).toBe(1);
    expect(middle.childRuns ?? 0).toBe(0);
    const [refusal] = toolResults(middle);
    expect(refusal?.content).toMatch(/agent leaf was not asked: .*maxDelegationDepth of agent middle/);
    const middleLog = (await store.readEvents(namespace, middle.id)).map(({ event }) => event.type);
    expect(middleLog).not.toContain("delegation-start");
  });

  it("refuses child runs past limits.maxChildRuns, asking the others", async () => {
    const { namespace } = await world(
      [
        {
          match: { contains: "Q-many" },
          toolCalls: [
            { name: "ask_helper", arguments: { input: "sub-1" } },
            { name: "ask_helper", arguments: { input: "sub-2" } },
            { name: "ask_helper", arguments: { input: "sub-3" } },
          ],
        },
        { match: { contains: "sub-" }, text: "Helped." },
        { match: { toolName: "ask_helper" }, text: "All asked." },
      ],
      { planner: { tools: [{ agent: "helper" }], limits: { maxChildRuns: 2 } }, helper: {} },
    );
    const run = await startRun(
      { redis: connection, store, queues },
      { namespace, agent: "planner", input: "Q-many" },
    );
    const done = await waitFor(namespace, run.id, "completed");
    expect(done.childRuns).toBe(2);
    const results = toolResults(done).map((message) => message.content);
    expect(results.filter((content) => content.includes("Helped."))).toHaveLength(2);
    expect(results.filter((content) => content.includes("maxChildRuns of agent planner"))).toHaveLength(1);
  });
});

describe("agents used as tools in a cycle", () => {
  const config = (agents: Record<string, Record<string, unknown>>) =>
    scriptedConfig({ namespace: "cycles", modelBaseUrl: "http://127.0.0.1:9/v1", agents });

  it("are refused when the runtime resolves its config, naming the cycle", async () => {
    for (const [agents, cycle] of [
      [{ a: { tools: [{ agent: "a" }] } }, "a -> a"],
      [
        { a: { tools: [{ agent: "b" }] }, b: { tools: [{ agent: "c" }] }, c: { tools: [{ agent: "a" }] } },
        "a -> b -> c -> a",
      ],
    ] as const) {
      const error = await createRuntime(config(agents), { resolveSecret: () => Promise.resolve("") }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(FreeholdError);
      expect((error as FreeholdError).code).toBe("agent.tool-cycle");
      expect((error as FreeholdError).message).toContain(cycle);
    }
    // A chain without a way back is fine.
    const runtime = await createRuntime(
      config({ a: { tools: [{ agent: "b" }] }, b: { tools: [{ agent: "c" }] }, c: {} }),
      { resolveSecret: () => Promise.resolve("") },
    );
    await runtime.close();
  });
});

describe("cancelling", () => {
  it("stops a run before the tool calls of the model's answer leave the worker", async () => {
    const { namespace } = await world(
      [
        {
          match: { contains: "slow-" },
          delayMs: 1500,
          toolCalls: [{ name: "echo", arguments: { text: "sent" } }],
        },
        { match: { toolName: "echo" }, text: "Echoed." },
      ],
      { caller: { tools: [{ mcpServer: "counter", allow: ["echo"] }] } },
    );
    const echoes = (): number => counter.calls().filter((call) => call.tool === "echo").length;
    const before = echoes();
    const parts = { redis: connection, store, queues };
    const cancelled = await startRun(parts, { namespace, agent: "caller", input: "slow-1" });
    const control = await startRun(parts, { namespace, agent: "caller", input: "slow-2" });
    // Cancel while the model is answering: its answer asks for echo.
    await waitFor(namespace, cancelled.id, "running");
    await cancelRun(store, namespace, cancelled.id);
    await waitFor(namespace, control.id, "completed");
    // The control run sent its call; the cancelled one never did, and stayed cancelled.
    expect(echoes() - before).toBe(1);
    const after = await store.require(namespace, cancelled.id);
    expect(after.status).toBe("cancelled");
    expect(after.error).toBeUndefined();
    const types = (await store.readEvents(namespace, cancelled.id)).map(({ event }) => event.type);
    expect(types).not.toContain("tool-call-start");
    expect(types.filter((type) => type === "run-end")).toHaveLength(1);
  });
});
