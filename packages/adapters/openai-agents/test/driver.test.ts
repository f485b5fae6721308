/**
 * The OpenAI Agents driver on real parts (Redis, the scripted model server over HTTP, the counter MCP
 * server): the SDK's own runner loop runs the model calls and the MCP tool calls of a turn, each one
 * durable; the conformance suite (test/conformance) holds the driver to every other scenario.
 */
import { FreeholdError, type RunState } from "@freehold/api";
import { startRun, type AgentQueues, type RedisClient, type RunStore } from "@freehold/handoff";
import {
  runLoop,
  type LoopDriver,
  type ModelTurn,
  type ResolvedAgent,
  type RuntimeTool,
} from "@freehold/runtime";
import { Agent, Runner } from "@openai/agents-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startScriptedWorld } from "../../../runtime/test/scripted-world.ts";
import type { CounterServer } from "../../../../test/fixtures/mcp/counter-server.ts";
import { expectTwoToolStepsInOneTurn } from "../../../../test/fixtures/adapter-turns.ts";
import { toolConversation } from "../../../../test/fixtures/tool-conversation.ts";
import { startRunServices, waitForStatus, type RunServices } from "../../../../test/fixtures/run-services.ts";
import { durableModel, openAiAgentsDriver, openAiAgentsTurn, toInputItems } from "../src/index.ts";

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

describe("the openai-agents driver", () => {
  it("runs model calls and MCP tool calls in the SDK's runner loop, one turn, each checkpointed", () =>
    expectTwoToolStepsInOneTurn(services, "openai-agents", openAiAgentsTurn));

  it("leaves a call of a tool the agent does not have to the runtime, without failing the turn", async () => {
    const failures: unknown[] = [];
    const watching: LoopDriver = {
      framework: "openai-agents",
      run: (state, options) =>
        runLoop(state, {
          ...options,
          modelTurn: (turn) =>
            openAiAgentsTurn(options.agent, turn).catch((error: unknown) => {
              failures.push(error);
              throw error;
            }),
        }),
    };
    const world = await startScriptedWorld({
      connection,
      store,
      namespace: `o${Math.random().toString(36).slice(2, 10)}`,
      counterUrl: counter.url,
      script: [{ toolCalls: [{ name: "echo", arguments: { text: "hi" } }] }, { text: "I may not." }],
      agents: { front: { framework: "openai-agents", tools: [{ mcpServer: "counter", allow: ["add"] }] } },
      drivers: [watching],
    });
    try {
      const run = await startRun(
        { redis: connection, store, queues },
        { namespace: world.namespace, agent: "front", input: "Echo hi." },
      );
      const done = await waitForStatus(store, world.namespace, run.id, "completed");
      expect(done.output).toBe("I may not.");
      // The SDK did not stop on the unknown tool: the runtime refused the call, the turn never threw.
      expect(failures).toEqual([]);
      const tool = done.messages.find((message) => message.role === "tool");
      expect(tool?.content).toMatch(/echo/);
    } finally {
      await world.close();
    }
  });

  it("is the driver of spec.framework openai-agents", () => {
    expect(openAiAgentsDriver.framework).toBe("openai-agents");
  });
});

describe("openAiAgentsTurn", () => {
  // Only what the turn reads of the agent: its name, instructions and step limit.
  const agent = {
    name: "front",
    spec: { instructions: "Add.", limits: { maxSteps: 5 } },
  } as unknown as ResolvedAgent;
  const add: RuntimeTool = {
    name: "add",
    server: "counter",
    toolName: "add",
    definition: { name: "add", description: "Adds.", inputSchema: { type: "object", properties: {} } },
    requireApproval: false,
    onInterrupt: "retry",
  };
  const conflict = new FreeholdError("run.conflict", "run acme/r1 changed under this worker");
  const turnWith = (callTool: ModelTurn["callTool"]): ModelTurn => ({
    state: { messages: [{ role: "user", content: "1+2?" }] } as RunState,
    toolset: () =>
      Promise.resolve({
        tools: [add],
        definitions: [add.definition],
        check: () => {
          throw new Error("unused");
        },
      }),
    callModel: () =>
      Promise.resolve({
        message: { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "add", arguments: "{}" }] },
        usage: { inputTokens: 1, outputTokens: 1 },
        finishReason: "tool-calls",
        model: "m",
      }),
    callTool,
  });

  it("gives the worker Freehold's own error from a tool call, not the SDK's wrapping of it", async () => {
    // run.conflict (a cancelled run) must reach the worker as itself: it releases the run, no retry.
    await expect(
      openAiAgentsTurn(
        agent,
        turnWith(() => Promise.reject(conflict)),
      ),
    ).rejects.toBe(conflict);
  });

  it("gives the worker Freehold's own error from a model call", async () => {
    const turn: ModelTurn = {
      ...turnWith(() => Promise.resolve(undefined)),
      callModel: () => Promise.reject(conflict),
    };
    await expect(openAiAgentsTurn(agent, turn)).rejects.toBe(conflict);
  });

  it("runs a call by the id the model gave it", async () => {
    const called: string[] = [];
    const turn = turnWith((id) => {
      called.push(id);
      return Promise.resolve(undefined);
    });
    await openAiAgentsTurn(agent, turn);
    expect(called).toEqual(["c1"]);
  });
});

describe("toInputItems", () => {
  it("gives the SDK's runner a conversation it accepts: tool calls, results and errors", async () => {
    const turn: ModelTurn = {
      state: undefined as never,
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
    const model = durableModel(turn);
    const runner = new Runner({ modelProvider: { getModel: () => model }, tracingDisabled: true });
    const result = await runner.run(
      new Agent({ name: "front", instructions: "Add.", model }),
      toInputItems([...toolConversation]),
    );
    expect(result.finalOutput).toBe("Done.");
  });
});
