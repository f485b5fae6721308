/**
 * The agent loop as pure steps over a run's state: decide what comes next, and fold in what a model
 * call or a tool call produced. No I/O here: the executor (run-loop.ts) calls models and tools and
 * checkpoints every state these functions return, so a run can stop after any step and resume on
 * any worker.
 *
 * @module
 */
import {
  addUsage,
  type AgentLimits,
  isoTime,
  type RunEvent,
  type RunLimit,
  type RunState,
  type ToolCall,
  type ToolCallRecord,
} from "@freehold/api";
import { finish, maxInvalidTurns, settle, type Transition } from "@freehold/handoff";
import type { GenerateResult } from "@freehold/models";
import type { Toolset } from "./toolset.ts";

/** What the loop does next. */
export type NextStep =
  | { readonly kind: "call-model" }
  | { readonly kind: "call-tools"; readonly calls: readonly ToolCallRecord[] }
  | { readonly kind: "stop"; readonly limit: RunLimit };

/**
 * Decides the next step of a running run: finish pending tool calls, stop at a limit, or call the
 * model.
 */
export function nextStep(state: RunState, limits: AgentLimits): NextStep {
  const pending = state.pendingToolCalls.filter((call) => call.status === "pending");
  if (pending.length > 0) return { kind: "call-tools", calls: pending };
  if (state.steps >= limits.maxSteps) return { kind: "stop", limit: "maxSteps" };
  if (
    limits.maxTokens !== undefined &&
    state.usage.inputTokens + state.usage.outputTokens >= limits.maxTokens
  ) {
    return { kind: "stop", limit: "maxTokens" };
  }
  if (state.activeMs >= limits.timeoutSeconds * 1000) return { kind: "stop", limit: "timeoutSeconds" };
  if (state.invalidTurns >= maxInvalidTurns) return { kind: "stop", limit: "invalidOutput" };
  return { kind: "call-model" };
}

/** Tool call ids unique within the turn; models that repeat or omit ids get `call_<step>_<index>`. */
function uniqueIds(calls: readonly ToolCall[], step: number): ToolCall[] {
  const seen = new Set<string>();
  return calls.map((call, index) => {
    const id = call.id === "" || seen.has(call.id) ? `call_${step}_${index}` : call.id;
    seen.add(id);
    return { ...call, id };
  });
}

/**
 * Folds a model's answer into the run: a final answer completes it; tool calls become pending
 * (valid ones) or are answered at once with an error the model can correct (unknown tool, bad JSON,
 * arguments that fail the schema).
 */
export function applyModelResult(
  state: RunState,
  result: GenerateResult,
  toolset: Toolset,
  timing: { readonly now: Date; readonly durationMs: number },
): Transition {
  const time = isoTime(timing.now);
  const step = state.steps + 1;
  const toolCalls = uniqueIds(result.message.toolCalls ?? [], step);
  const message =
    toolCalls.length === 0
      ? { role: "assistant" as const, content: result.message.content }
      : { ...result.message, toolCalls };
  const advanced: RunState = {
    ...state,
    steps: step,
    usage: addUsage(state.usage, result.usage),
    activeMs: state.activeMs + timing.durationMs,
    messages: [...state.messages, message],
  };
  const modelEnd: RunEvent = {
    type: "model-call-end",
    runId: state.id,
    time,
    step,
    model: result.model,
    message,
    usage: result.usage,
    finishReason: result.finishReason,
    durationMs: timing.durationMs,
  };
  if (toolCalls.length === 0) {
    const finished = finish({ ...advanced, invalidTurns: 0 }, "completed", timing.now, {
      output: result.message.content,
    });
    return { state: finished.state, events: [modelEnd, ...finished.events] };
  }
  const events: RunEvent[] = [modelEnd];
  const records = toolCalls.map((toolCall, index): ToolCallRecord => {
    const checked = toolset.check(toolCall.name, toolCall.arguments);
    const idempotencyKey = `${state.id}-${step}-${index}`;
    if (checked.ok) {
      const { special } = checked.tool;
      if (special !== undefined) {
        events.push({ type: "tool-call-start", runId: state.id, time, toolCall });
        return {
          toolCall,
          idempotencyKey,
          status: "pending",
          special:
            special.kind === "transfer"
              ? { kind: "transfer", agent: special.target }
              : special.kind === "human"
                ? { kind: "human", queue: special.target }
                : { kind: "delegate", agent: special.target, childRunId: idempotencyKey },
        };
      }
      events.push({ type: "tool-call-start", runId: state.id, time, toolCall, server: checked.tool.server });
      return {
        toolCall,
        server: checked.tool.server,
        tool: checked.tool.toolName,
        idempotencyKey,
        status: "pending",
        onInterrupt: checked.tool.onInterrupt,
        ...(checked.tool.requireApproval ? { approval: "required" as const } : {}),
      };
    }
    events.push(
      { type: "tool-call-start", runId: state.id, time, toolCall },
      {
        type: "tool-call-end",
        runId: state.id,
        time,
        toolCallId: toolCall.id,
        name: toolCall.name,
        content: checked.error,
        isError: true,
        durationMs: 0,
      },
    );
    return {
      toolCall,
      idempotencyKey,
      status: "done",
      content: checked.error,
      isError: true,
      startedAt: time,
      finishedAt: time,
    };
  });
  const allInvalid = records.every((record) => record.status === "done");
  return {
    state: settle({
      ...advanced,
      pendingToolCalls: records,
      invalidTurns: allInvalid ? state.invalidTurns + 1 : 0,
    }),
    events,
  };
}
