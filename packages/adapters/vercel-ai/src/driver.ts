/**
 * The loop driver of agents with `spec.framework: vercel-ai` (declarative mode): each model turn of
 * the run is the AI SDK's own tool loop (`generateText` with `stopWhen`), on the run's model (see
 * durable-model.ts) and the agent's tools as AI SDK tools. An MCP tool's `execute` is the runtime's
 * durable tool call (through the broker's allow-list, recorded as started before it leaves the
 * worker, its result checkpointed); handoff, delegation and approval tools have no `execute`, so the
 * SDK's loop stops at them and the runtime's shared transitions take over (transfer, human queue,
 * child runs, approval items), as they do after limits and when the run resumes after a crash.
 *
 * Checkpoints: every model call and every tool call, as in the built-in loop.
 *
 * @module
 */
import type { ChatMessage } from "@freehold/api";
import {
  isTurnOver,
  parseArguments,
  runLoop,
  TurnOver,
  type LoopDriver,
  type ModelTurn,
  type ResolvedAgent,
  type RuntimeTool,
} from "@freehold/runtime";
import { generateText, jsonSchema, stepCountIs, tool, type ModelMessage, type ToolSet } from "ai";
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
function toolsOf(guard: TurnGuard, tools: readonly RuntimeTool[]): ToolSet {
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

/** One model turn: the AI SDK's loop, until it answers, stops at a special call, or the turn is over. */
export async function aiSdkTurn(agent: ResolvedAgent, turn: ModelTurn): Promise<void> {
  const toolset = await turn.toolset();
  const guard = new TurnGuard(turn);
  try {
    await generateText({
      model: durableModel(guard.turn, agent.model),
      instructions: agent.spec.instructions,
      messages: toModelMessages(turn.state.messages),
      tools: toolsOf(guard, toolset.tools),
      // Limits are the runtime's (checked before every model call); this only bounds one turn.
      stopWhen: stepCountIs(agent.spec.limits.maxSteps + 1),
      // Retries and fallbacks are the Model resource's.
      maxRetries: 0,
      ...(turn.signal === undefined ? {} : { abortSignal: turn.signal }),
    });
  } catch (error) {
    guard.rethrow();
    if (isTurnOver(error) || turn.signal?.aborted === true) return;
    throw error;
  }
  guard.rethrow();
}

/**
 * The driver for `spec.framework: vercel-ai`. Give it to the worker:
 *
 * @example
 * ```ts
 * const worker = createRuntimeWorker({ connection, store, agents: runtime.agents, drivers: [vercelAiDriver] });
 * ```
 */
export const vercelAiDriver: LoopDriver = {
  framework: "vercel-ai",
  run: (state, options) =>
    runLoop(state, { ...options, modelTurn: (turn) => aiSdkTurn(options.agent, turn) }),
};
