/**
 * The Mastra driver on real parts (Redis, the scripted model server over HTTP, the counter MCP
 * server): Mastra's own agent loop runs the model calls and the MCP tool calls of a turn, each one
 * durable; the conformance suite (test/conformance) holds the driver to every other scenario.
 */
import { newRun } from "@freehold/handoff";
import { toModelMessages } from "@freehold/adapter-vercel-ai";
import type { ModelTurn } from "@freehold/runtime";
import { Agent } from "@mastra/core/agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectTwoToolStepsInOneTurn } from "../../../../test/fixtures/adapter-turns.ts";
import { toolConversation } from "../../../../test/fixtures/tool-conversation.ts";
import { startRunServices, type RunServices } from "../../../../test/fixtures/run-services.ts";
import { mastraDriver, mastraModel, mastraTurn } from "../src/index.ts";

let services: RunServices;

beforeAll(async () => {
  services = await startRunServices();
});

afterAll(() => services.stop());

describe("the mastra driver", () => {
  it("runs model calls and MCP tool calls in Mastra's loop, one turn, each checkpointed", () =>
    expectTwoToolStepsInOneTurn(services, "mastra", mastraTurn));

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
    const result = await agent.generate(toModelMessages([...toolConversation]));
    expect(result.error).toBeUndefined();
    expect(result.text).toBe("Done.");
  });
});
