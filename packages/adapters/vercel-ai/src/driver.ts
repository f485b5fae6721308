/**
 * The loop driver of agents with `spec.framework: vercel-ai` (declarative mode): each model turn of
 * the run is the AI SDK's own tool loop (`generateText` with `stopWhen`), on the run's model (see
 * durable-model.ts) and the agent's tools as AI SDK tools. An MCP tool's `execute` is the runtime's
 * durable tool call (through the broker's allow-list, recorded as started before it leaves the
 * worker, or while that is being written for a read-only tool, its result checkpointed); handoff, delegation and approval tools have no `execute`, so the
 * SDK's loop stops at them and the runtime's shared transitions take over (transfer, human queue,
 * child runs, approval items), as they do after limits and when the run resumes after a crash.
 *
 * Checkpoints: every model call and every tool call, as in the built-in loop. An agent with
 * `spec.code` is run in native mode (native.ts).
 *
 * @module
 */
import { runLoop, type LoopDriver, type ModelTurn, type ResolvedAgent } from "@freehold/runtime";
import { generateText, stepCountIs } from "ai";
import { runNative } from "./native.ts";
import { sdkTurn, toModelMessages } from "./sdk-turn.ts";

/** One model turn: the AI SDK's loop, until it answers, stops at a special call, or the turn is over. */
export function aiSdkTurn(agent: ResolvedAgent, turn: ModelTurn): Promise<void> {
  return sdkTurn(agent, turn, ({ model, tools }) =>
    generateText({
      model,
      instructions: agent.spec.instructions,
      messages: toModelMessages(turn.state.messages),
      tools,
      // Limits are the runtime's (checked before every model call); this only bounds one turn.
      stopWhen: stepCountIs(agent.spec.limits.maxSteps + 1),
      // Retries and fallbacks are the Model resource's.
      maxRetries: 0,
      ...(turn.signal === undefined ? {} : { abortSignal: turn.signal }),
    }),
  );
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
  runsCode: true,
  run: (state, options) =>
    options.agent.code === undefined
      ? runLoop(state, { ...options, modelTurn: (turn) => aiSdkTurn(options.agent, turn) })
      : runNative(state, options),
};
