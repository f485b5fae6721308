/**
 * One model turn of a run in an AI SDK loop (`generateText`, a `ToolLoopAgent`): the run's
 * conversation as the SDK's messages, the agent's tools as AI SDK tools (an MCP or code tool's
 * `execute` is the runtime's durable tool call; handoff, delegation and approval tools have none, so
 * the SDK's loop stops at them), and the turn's durable model.
 *
 * @module
 */
import type { ChatMessage } from "@freehold/api";
import {
  isTurnOver,
  parseArguments,
  TurnOver,
  type ModelTurn,
  type ResolvedAgent,
  type RuntimeTool,
} from "@freehold/runtime";
import type { LanguageModelV4 } from "@ai-sdk/provider";
import { jsonSchema, tool, type ModelMessage, type ToolSet } from "ai";
import { durableModel, TurnGuard } from "./durable-model.ts";

/** The run's conversation as the AI SDK's messages (the instructions go as `system`). */
export function toModelMessages(messages: readonly ChatMessage[]): ModelMessage[] {
  return messages.map((message): ModelMessage => {
    switch (message.role) {
      case "system":
        return { role: "system", content: message.content };
      case "user":
        return { role: "user", content: message.content };
      case "assistant":
        return {
          role: "assistant",
          content: [
            ...(message.content === "" ? [] : [{ type: "text" as const, text: message.content }]),
            ...(message.toolCalls ?? []).map((call) => ({
              type: "tool-call" as const,
              toolCallId: call.id,
              toolName: call.name,
              input: parseArguments(call.arguments),
            })),
          ],
        };
      case "tool":
        return {
          role: "tool",
          content: [
            {
              type: "tool-result",
              toolCallId: message.toolCallId,
              toolName: message.name,
              output: { type: message.isError === true ? "error-text" : "text", value: message.content },
            },
          ],
        };
    }
  });
}

/**
 * The agent's tools for the SDK: MCP tools run durably (a failure of the run's own is kept by the
 * guard, see TurnGuard); the others stop the SDK's loop.
 */
export function toolsOf(guard: TurnGuard, tools: readonly RuntimeTool[]): ToolSet {
  const set: ToolSet = {};
  for (const runtimeTool of tools) {
    const { definition } = runtimeTool;
    const inputSchema = jsonSchema(definition.inputSchema);
    set[definition.name] =
      runtimeTool.special !== undefined || runtimeTool.requireApproval
        ? tool({ description: definition.description, inputSchema })
        : tool({
            description: definition.description,
            inputSchema,
            execute: async (_input: unknown, { toolCallId }: { toolCallId: string }) => {
              const outcome = await guard.callTool(toolCallId);
              if (outcome === undefined) throw new TurnOver();
              return outcome.content;
            },
          });
  }
  return set;
}

/**
 * Runs `loop` (an AI SDK loop: `generateText`, a `ToolLoopAgent`) as one model turn, on the turn's
 * durable model and the agent's tools as AI SDK tools, until it answers, stops at a special call, or
 * the turn is over.
 */
export async function sdkTurn(
  agent: ResolvedAgent,
  turn: ModelTurn,
  loop: (parts: {
    readonly model: LanguageModelV4;
    readonly tools: ToolSet;
    readonly guard: TurnGuard;
  }) => PromiseLike<unknown>,
): Promise<void> {
  const toolset = await turn.toolset();
  const guard = new TurnGuard(turn);
  try {
    await loop({ model: durableModel(guard.turn, agent.model), tools: toolsOf(guard, toolset.tools), guard });
  } catch (error) {
    guard.rethrow();
    if (isTurnOver(error) || turn.signal?.aborted === true) return;
    throw error;
  }
  guard.rethrow();
}
