/**
 * The AI SDK driver on real parts (Redis, the scripted model server over HTTP, the counter MCP
 * server): the SDK's own loop runs the model calls and the MCP tool calls of a turn, each one durable;
 * the conformance suite (test/conformance) holds the driver to every other scenario.
 */
import { newRun, startRun } from "@freehold/handoff";
import { runLoop, type LoopDriver } from "@freehold/runtime";
import { generateText } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startScriptedWorld } from "../../../runtime/test/scripted-world.ts";
import { expectTwoToolStepsInOneTurn } from "../../../../test/fixtures/adapter-turns.ts";
import { toolConversation } from "../../../../test/fixtures/tool-conversation.ts";
import { startRunServices, waitForStatus, type RunServices } from "../../../../test/fixtures/run-services.ts";
import { aiSdkTurn, durableModel, toModelMessages, vercelAiDriver } from "../src/index.ts";

let services: RunServices;
beforeAll(async () => {
  services = await startRunServices();
});
afterAll(() => services.stop());

describe("the vercel-ai driver", () => {
  it("runs model calls and MCP tool calls in the SDK's loop, one turn, each checkpointed", () =>
    expectTwoToolStepsInOneTurn(services, "vercel-ai", aiSdkTurn));

  it("runs calls whose ids the model repeated under the ids the run gave them, in the same turn", async () => {
    const { connection, store, queues, counter } = services;
    const turns: number[] = [];
    const counting: LoopDriver = {
      framework: "vercel-ai",
      run: (state, options) =>
        runLoop(state, {
          ...options,
          modelTurn: async (turn) => {
            turns.push(turn.state.steps);
            await aiSdkTurn(options.agent, turn);
          },
        }),
    };
    const world = await startScriptedWorld({
      connection,
      store,
      namespace: `v${Math.random().toString(36).slice(2, 10)}`,
      counterUrl: counter.url,
      script: [
        {
          toolCalls: [
            { name: "add", arguments: { a: 1, b: 1 }, id: "same" },
            { name: "add", arguments: { a: 2, b: 2 }, id: "same" },
          ],
        },
        { text: "2 and 4." },
      ],
      agents: { front: { framework: "vercel-ai", tools: [{ mcpServer: "counter", allow: ["add"] }] } },
      drivers: [counting],
    });
    try {
      const callsBefore = counter.calls().length;
      const run = await startRun(
        { redis: connection, store, queues },
        { namespace: world.namespace, agent: "front", input: "1+1 and 2+2" },
      );
      const done = await waitForStatus(store, world.namespace, run.id, "completed");
      expect(done.output).toBe("2 and 4.");
      expect(turns).toEqual([0]);
      expect(
        counter
          .calls()
          .slice(callsBefore)
          .map((call) => call.arguments),
      ).toEqual(
        expect.arrayContaining([
          { a: 1, b: 1 },
          { a: 2, b: 2 },
        ]),
      );
    } finally {
      await world.close();
    }
  });

  it("is the driver of spec.framework vercel-ai", () => {
    expect(vercelAiDriver.framework).toBe("vercel-ai");
  });
});

describe("toModelMessages", () => {
  it("gives the SDK a conversation it accepts: tool calls, results and errors", async () => {
    // generateText validates the messages it is given; a model that answers at once lets it run.
    const result = await generateText({
      model: durableModel(
        {
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
        },
        { provider: "openai-compatible", modelId: "m" },
      ),
      messages: toModelMessages([...toolConversation]),
      maxRetries: 0,
    });
    expect(result.text).toBe("Done.");
  });
});
