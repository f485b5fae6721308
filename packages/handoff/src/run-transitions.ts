/**
 * Pure transitions of a run's state that more than the loop needs: ending a run, recording a tool
 * call's outcome (a tool's result, a person's answer, a child run's answer, a rejected approval),
 * and moving a finished turn's results into the conversation. The runtime's loop, the dispatcher,
 * the inbox and approvals all change runs through these.
 *
 * @module
 */
import {
  isoTime,
  type RunEvent,
  type RunLimit,
  type RunState,
  type RunStatus,
  type ToolCallRecord,
  type ToolMessage,
} from "@freehold/api";

/** A new state and the events that explain it; checkpointed together. */
export interface Transition {
  readonly state: RunState;
  readonly events: readonly RunEvent[];
}

/** How many model turns in a row may consist only of invalid tool calls before the run fails. */
export const maxInvalidTurns = 3;

const limitMessages: Record<RunLimit, string> = {
  maxSteps: "the run reached spec.limits.maxSteps before the model gave a final answer",
  maxTokens: "the run used spec.limits.maxTokens tokens before the model gave a final answer",
  timeoutSeconds: "the run worked for spec.limits.timeoutSeconds before the model gave a final answer",
  maxHandoffs: "the run was handed between agents spec.limits.maxHandoffs times",
  invalidOutput: `the model wrote only invalid tool calls ${maxInvalidTurns} turns in a row`,
  tokensPerDay:
    "the namespace's tenant used up its model tokens for today (spec.quotas.tokensPerDay, UTC day); " +
    "start the run again tomorrow or ask the tenant's admins to raise the quota",
};

/** Ends the run with a status, writing its `run-end` event. */
export function finish(
  state: RunState,
  status: Extract<RunStatus, "completed" | "failed" | "limit_exceeded" | "cancelled">,
  now: Date,
  extra: { output?: string; limit?: RunLimit; error?: { code: string; message: string } } = {},
): Transition {
  const time = isoTime(now);
  const error =
    extra.error ??
    (extra.limit === undefined
      ? undefined
      : { code: `limit.${extra.limit}`, message: limitMessages[extra.limit] });
  const next: RunState = {
    ...state,
    status,
    finishedAt: time,
    ...(extra.output === undefined ? {} : { output: extra.output }),
    ...(extra.limit === undefined ? {} : { limit: extra.limit }),
    ...(error === undefined ? {} : { error }),
  };
  return {
    state: next,
    events: [
      {
        type: "run-end",
        runId: state.id,
        time,
        status,
        usage: next.usage,
        steps: next.steps,
        ...(extra.output === undefined ? {} : { output: extra.output }),
        ...(extra.limit === undefined ? {} : { limit: extra.limit }),
        ...(error === undefined ? {} : { error }),
      },
    ],
  };
}

/** Moves finished tool calls into the conversation once every call of the turn has a result. */
export function settle(state: RunState): RunState {
  if (state.pendingToolCalls.some((call) => call.status === "pending")) return state;
  const results: ToolMessage[] = state.pendingToolCalls.map((call) => ({
    role: "tool",
    toolCallId: call.toolCall.id,
    name: call.toolCall.name,
    content: call.content ?? "",
    ...(call.isError === true ? { isError: true } : {}),
  }));
  return { ...state, messages: [...state.messages, ...results], pendingToolCalls: [] };
}

/** What a tool call produced. */
export interface ToolOutcome {
  readonly content: string;
  readonly isError: boolean;
  /** The full MCP result, kept in the run's history. */
  readonly result?: unknown;
}

/**
 * Records one tool call's outcome; when it was the turn's last, the results join the conversation
 * and the turn's wall-clock time (first call started to last call ended) counts as active time.
 */
export function applyToolResult(
  state: RunState,
  toolCallId: string,
  outcome: ToolOutcome,
  timing: { readonly now: Date; readonly startedAt: Date },
): Transition {
  const record = state.pendingToolCalls.find((call) => call.toolCall.id === toolCallId);
  if (record === undefined || record.status === "done") return { state, events: [] };
  const time = isoTime(timing.now);
  const done: ToolCallRecord = {
    ...record,
    status: "done",
    content: outcome.content,
    isError: outcome.isError,
    ...(outcome.result === undefined ? {} : { result: outcome.result }),
    startedAt: isoTime(timing.startedAt),
    finishedAt: time,
  };
  const calls = state.pendingToolCalls.map((call) => (call.toolCall.id === toolCallId ? done : call));
  const lastOfTurn = calls.every((call) => call.status === "done");
  const firstStart = Math.min(...calls.map((call) => Date.parse(call.startedAt ?? time)));
  const next = settle({
    ...state,
    activeMs: lastOfTurn ? state.activeMs + Math.max(0, timing.now.getTime() - firstStart) : state.activeMs,
    pendingToolCalls: calls,
  });
  return {
    state: next,
    events: [
      {
        type: "tool-call-end",
        runId: state.id,
        time,
        toolCallId,
        name: record.toolCall.name,
        content: outcome.content,
        isError: outcome.isError,
        durationMs: timing.now.getTime() - timing.startedAt.getTime(),
      },
    ],
  };
}
