/**
 * The LangGraph driver on real parts (Redis, the scripted model server over HTTP, the counter MCP
 * server): the graph runs the model calls and the MCP tool calls of a turn, each one durable, and
 * sends nothing to LangSmith even when the environment turns tracing on; the conformance suite
 * (test/conformance) holds the driver to every other scenario.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startRun, type AgentQueues, type RedisClient, type RunStore } from "@freehold/handoff";
import { runLoop, type LoopDriver } from "@freehold/runtime";
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import { RunnableLambda } from "@langchain/core/runnables";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startScriptedWorld } from "../../../runtime/test/scripted-world.ts";
import type { CounterServer } from "../../../../test/fixtures/mcp/counter-server.ts";
import { expectTwoToolStepsInOneTurn } from "../../../../test/fixtures/adapter-turns.ts";
import { startRunServices, waitForStatus, type RunServices } from "../../../../test/fixtures/run-services.ts";
import { langGraphDriver, langGraphTurn } from "../src/index.ts";

let services: RunServices;
let connection: RedisClient;
let store: RunStore;
let queues: AgentQueues;
let counter: CounterServer;

beforeAll(async () => {
  services = await startRunServices();
  ({ connection, store, queues, counter } = services);
});

afterAll(() => services.stop());

/** A driver that counts the turns the runtime hands to the graph (the step each starts at). */
function countingDriver(turns: number[]): LoopDriver {
  return {
    framework: "langgraph",
    run: (state, options) =>
      runLoop(state, {
        ...options,
        modelTurn: async (turn) => {
          turns.push(turn.state.steps);
          await langGraphTurn(options.agent, turn);
        },
      }),
  };
}

describe("the langgraph driver", () => {
  it("runs model calls and MCP tool calls in the graph, one turn, each checkpointed", () =>
    expectTwoToolStepsInOneTurn(services, "langgraph", langGraphTurn));

  it("ends the graph at a call that needs approval; the runtime asks for it", async () => {
    const turns: number[] = [];
    const world = await startScriptedWorld({
      connection,
      store,
      namespace: `l${Math.random().toString(36).slice(2, 10)}`,
      counterUrl: counter.url,
      script: [
        { toolCalls: [{ name: "add", arguments: { a: 1, b: 2 } }] },
        { toolCalls: [{ name: "echo", arguments: { text: "3" } }] },
        { text: "Said 3." },
      ],
      agents: {
        front: {
          framework: "langgraph",
          tools: [{ mcpServer: "counter", allow: ["add", "echo"], requireApproval: ["echo"] }],
        },
      },
      drivers: [countingDriver(turns)],
    });
    try {
      const run = await startRun(
        { redis: connection, store, queues },
        { namespace: world.namespace, agent: "front", input: "1+2, then say it" },
      );
      await expect
        .poll(async () => (await store.require(world.namespace, run.id)).status, { timeout: 20_000 })
        .toBe("waiting_for_approval");
      // One turn: the graph ran `add`, then ended at `echo` without running it.
      expect(turns).toEqual([0]);
      const events = (await store.readEvents(world.namespace, run.id)).map(({ event }) => event);
      expect(events.filter((event) => event.type === "model-call-end")).toHaveLength(2);
      expect(events.flatMap((event) => (event.type === "tool-call-end" ? [event.name] : []))).toEqual([
        "add",
      ]);
    } finally {
      await world.close();
    }
  });

  it("sends nothing to LangSmith when the environment turns tracing on", async () => {
    // A LangSmith endpoint of our own that records what reaches it.
    const received: string[] = [];
    const langsmith: Server = createServer((request: IncomingMessage, response) => {
      received.push(`${request.method ?? ""} ${request.url ?? ""}`);
      request.resume();
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    await new Promise<void>((resolve) => langsmith.listen(0, "127.0.0.1", resolve));
    const { port } = langsmith.address() as AddressInfo;
    const environment = {
      LANGSMITH_TRACING: "true",
      LANGCHAIN_TRACING_V2: "true",
      LANGSMITH_ENDPOINT: `http://127.0.0.1:${port}`,
      LANGSMITH_API_KEY: "test",
    };
    const saved = Object.fromEntries(Object.keys(environment).map((key) => [key, process.env[key]]));
    Object.assign(process.env, environment);
    const turns: number[] = [];
    const world = await startScriptedWorld({
      connection,
      store,
      namespace: `l${Math.random().toString(36).slice(2, 10)}`,
      counterUrl: counter.url,
      script: [{ toolCalls: [{ name: "add", arguments: { a: 1, b: 2 } }] }, { text: "3." }],
      agents: { front: { framework: "langgraph", tools: [{ mcpServer: "counter", allow: ["add"] }] } },
      drivers: [countingDriver(turns)],
    });
    try {
      const run = await startRun(
        { redis: connection, store, queues },
        { namespace: world.namespace, agent: "front", input: "1+2" },
      );
      expect((await waitForStatus(store, world.namespace, run.id, "completed")).output).toBe("3.");
      expect(turns).toEqual([0]);
      await awaitAllCallbacks();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(received).toEqual([]);
      // The endpoint is reachable and the environment is read: LangChain outside the driver traces.
      await RunnableLambda.from((text: string) => text.toUpperCase()).invoke("traced");
      await awaitAllCallbacks();
      await expect.poll(() => received.length, { timeout: 10_000 }).toBeGreaterThan(0);
    } finally {
      await world.close();
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) Reflect.deleteProperty(process.env, key);
        else process.env[key] = value;
      }
      langsmith.closeAllConnections();
      await new Promise((resolve) => langsmith.close(resolve));
    }
  });

  it("is the driver of spec.framework langgraph", () => {
    expect(langGraphDriver.framework).toBe("langgraph");
  });
});
