/**
 * The executor of the agent loop: it asks `nextStep` what to do, calls the model or the tools,
 * folds the outcome in with the pure steps, and checkpoints after every step. Checkpoints go through
 * one queue, so parallel tool calls never race each other's writes.
 *
 * @module
 */
import {
  FreeholdError,
  isTerminal,
  type AgentSpec,
  type ChatMessage,
  type RunEvent,
  type RunState,
} from "@freehold/api";
import type { ToolBroker } from "@freehold/mcp";
import type { LanguageModel } from "@freehold/models";
import type { Context, Tracer } from "@opentelemetry/api";
import { applyToolResult, finish, type ToolOutcome, type Transition } from "@freehold/handoff";
import { applyModelResult, nextStep } from "./steps.ts";
import { toolResultText, type ToolResultLike } from "./tool-result-text.ts";
import { createToolset, type Toolset } from "./toolset.ts";
import { contextFromTraceparent, inSpan, runtimeTracer, SpanKind, traceparentOf } from "./tracing.ts";

/** An agent ready to run: its spec, its model and its tools. */
export interface ResolvedAgent {
  readonly namespace: string;
  readonly name: string;
  readonly spec: AgentSpec;
  readonly model: LanguageModel;
  readonly broker: ToolBroker;
}

/** Writes a new state and its events if the stored state is still `previous` (see RunStore.checkpoint). */
export type Checkpoint = (
  previous: RunState,
  next: RunState,
  events: readonly RunEvent[],
) => Promise<RunState>;

/** Options of {@link runLoop}. */
export interface LoopOptions {
  readonly agent: ResolvedAgent;
  readonly checkpoint: Checkpoint;
  /** When it aborts, the loop stops at the next step boundary (graceful shutdown). */
  readonly signal?: AbortSignal;
  readonly tracer?: Tracer;
  /** The clock; tests pass their own. */
  readonly now?: () => Date;
}

/** How the loop left the run: ended (terminal status), or interrupted (shutdown) to resume elsewhere. */
export type LoopOutcome = { readonly kind: "ended" | "interrupted"; readonly state: RunState };

/** The messages sent to the model: the agent's instructions, then the conversation. */
export function modelMessages(spec: AgentSpec, state: RunState): ChatMessage[] {
  return [{ role: "system", content: spec.instructions }, ...state.messages];
}

/**
 * Works on a run until it ends or the signal asks to stop. Never repeats a tool call recorded as
 * done: a run resumed from a checkpoint continues with the calls still pending, under the same
 * idempotency keys.
 */
export async function runLoop(initial: RunState, options: LoopOptions): Promise<LoopOutcome> {
  const { agent, checkpoint } = options;
  const tracer = options.tracer ?? runtimeTracer();
  const now = options.now ?? (() => new Date());
  let state = initial;
  let writes = Promise.resolve();

  /** Applies a transition to the latest state and checkpoints it, one write at a time. */
  const commit = (transition: (current: RunState) => Transition): Promise<void> => {
    const write = writes.then(async () => {
      const { state: next, events } = transition(state);
      if (next === state && events.length === 0) return;
      state = await checkpoint(state, next, events);
    });
    writes = write.catch(() => undefined);
    return write;
  };

  const parent = contextFromTraceparent(state.traceparent);
  return inSpan(
    tracer,
    `invoke_agent ${agent.name}`,
    parent,
    {
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": agent.name,
      "gen_ai.conversation.id": state.id,
      "freehold.namespace": agent.namespace,
    },
    async (span, runContext) => {
      if (state.status !== "running" || state.traceparent === undefined) {
        const traceparent = state.traceparent ?? traceparentOf(span);
        await commit((current) => ({ state: { ...current, status: "running", traceparent }, events: [] }));
      }
      for (;;) {
        if (isTerminal(state.status)) {
          span.setAttribute("freehold.run.status", state.status);
          return { kind: "ended", state };
        }
        if (options.signal?.aborted === true) return { kind: "interrupted", state };
        const step = nextStep(state, agent.spec.limits);
        if (step.kind === "stop") {
          await commit((current) => finish(current, "limit_exceeded", now(), { limit: step.limit }));
        } else if (step.kind === "call-model") {
          await callModel(runContext);
        } else {
          await Promise.all(step.calls.map((call) => callTool(call.toolCall.id, runContext)));
        }
      }
    },
    SpanKind.INTERNAL,
  );

  async function callModel(runContext: Context): Promise<void> {
    const toolset: Toolset = createToolset(await agent.broker.listTools(), agent.spec.tools ?? []);
    const remainingMs = agent.spec.limits.timeoutSeconds * 1000 - state.activeMs;
    const started = now();
    const modelName = `${agent.model.provider}/${agent.model.modelId}`;
    try {
      const result = await inSpan(
        tracer,
        `chat ${agent.model.modelId}`,
        runContext,
        {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": agent.model.provider,
          "gen_ai.request.model": agent.model.modelId,
        },
        async (span) => {
          const generated = await agent.model.generate({
            messages: modelMessages(agent.spec, state),
            tools: toolset.definitions,
            signal: AbortSignal.timeout(Math.max(1, remainingMs)),
          });
          span.setAttributes({
            "gen_ai.response.model": generated.model,
            "gen_ai.usage.input_tokens": generated.usage.inputTokens,
            "gen_ai.usage.output_tokens": generated.usage.outputTokens,
            "gen_ai.response.finish_reasons": [generated.finishReason],
          });
          return generated;
        },
        SpanKind.CLIENT,
      );
      const durationMs = now().getTime() - started.getTime();
      await commit((current) => applyModelResult(current, result, toolset, { now: now(), durationMs }));
    } catch (error) {
      const durationMs = now().getTime() - started.getTime();
      if (error instanceof FreeholdError && error.code === "run.conflict") throw error;
      if (state.activeMs + durationMs >= agent.spec.limits.timeoutSeconds * 1000) {
        await commit((current) =>
          finish({ ...current, activeMs: current.activeMs + durationMs }, "limit_exceeded", now(), {
            limit: "timeoutSeconds",
          }),
        );
        return;
      }
      const failure =
        error instanceof FreeholdError
          ? { code: error.code, message: `model ${modelName} failed: ${error.message}` }
          : { code: "model.provider", message: `model ${modelName} failed: ${String(error)}` };
      await commit((current) =>
        finish({ ...current, activeMs: current.activeMs + durationMs }, "failed", now(), { error: failure }),
      );
    }
  }

  async function callTool(toolCallId: string, runContext: Context): Promise<void> {
    const record = state.pendingToolCalls.find((call) => call.toolCall.id === toolCallId);
    if (record?.server === undefined || record.tool === undefined) return;
    const { server, tool, idempotencyKey } = record;
    const grant = agent.spec.tools?.find((candidate) => candidate.mcpServer === server);
    const startedAt = now();
    const outcome = await inSpan(
      tracer,
      `execute_tool ${tool}`,
      runContext,
      {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": tool,
        "gen_ai.tool.call.id": toolCallId,
        "freehold.mcp.server": server,
      },
      async (span): Promise<ToolOutcome> => {
        if (grant?.requireApproval?.includes(tool) === true) {
          span.setAttribute("error.type", "tool.approval-unavailable");
          return {
            content: `${tool} needs a person's approval, and this runtime has no approval queue; do not call it again`,
            isError: true,
          };
        }
        try {
          const args = JSON.parse(
            record.toolCall.arguments === "" ? "{}" : record.toolCall.arguments,
          ) as Record<string, unknown>;
          const result = (await agent.broker.callTool(server, tool, args, {
            idempotencyKey,
            ...(grant?.timeoutSeconds === undefined ? {} : { timeoutMs: grant.timeoutSeconds * 1000 }),
          })) as ToolResultLike;
          if (result.isError === true) span.setAttribute("error.type", "tool_error");
          return { content: toolResultText(result), isError: result.isError === true, result };
        } catch (error) {
          if (error instanceof FreeholdError && !error.retryable) {
            span.setAttribute("error.type", error.code);
            return { content: error.message, isError: true };
          }
          throw error;
        }
      },
      SpanKind.INTERNAL,
    );
    await commit((current) => applyToolResult(current, toolCallId, outcome, { now: now(), startedAt }));
  }
}
