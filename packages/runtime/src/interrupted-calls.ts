/**
 * Calls a worker was running when it stopped, shared by every loop driver: a resumed run's calls
 * that were recorded as started and have no result follow their tool's interruption policy.
 *
 * @module
 */
import type { RunEvent, RunState, ToolCallRecord } from "@freehold/api";
import { applyToolResult, type Transition } from "@freehold/handoff";

/** What a person deciding on an interrupted call reads in its approval item. */
export function interruptedReason(call: ToolCallRecord): string {
  return (
    `This call was running when its worker stopped (${call.interruptions ?? 1} time(s)): it may or may ` +
    `not have reached ${call.tool ?? call.toolCall.name}. Approve to run it again; reject to tell the ` +
    `model it was not run again.`
  );
}

/**
 * The calls of `state` that were started and have no result: a worker stopped while they ran (the
 * loop records a call as started before it leaves the worker, and its result in the next write).
 * Each follows its `onInterrupt` policy: `retry` runs again under the same idempotency key, `fail`
 * gets an error result saying the outcome is unknown, `ask` waits for a person's approval.
 */
export function recoverInterrupted(state: RunState, now: Date): Transition {
  const interrupted = state.pendingToolCalls.filter(
    (call) =>
      call.status === "pending" &&
      call.special === undefined &&
      call.approval !== "required" &&
      call.startedAt !== undefined,
  );
  if (interrupted.length === 0) return { state, events: [] };
  const time = now.toISOString();
  let next = state;
  const events: RunEvent[] = [];
  for (const call of interrupted) {
    const policy = call.onInterrupt ?? "fail";
    const name = call.tool ?? call.toolCall.name;
    events.push({
      type: "tool-call-interrupted",
      runId: state.id,
      time,
      toolCallId: call.toolCall.id,
      name,
      idempotencyKey: call.idempotencyKey,
      policy,
    });
    const interruptions = (call.interruptions ?? 0) + 1;
    if (policy === "fail") {
      const failed = applyToolResult(
        next,
        call.toolCall.id,
        {
          content:
            `The outcome of this call of ${name} is unknown: the worker running it stopped before its ` +
            `result was saved, and it is not run again (onInterrupt: fail). Check whether it took effect ` +
            `before calling it again.`,
          isError: true,
        },
        // The time since the worker stopped is not the run's: the call counts as taking none.
        { now, startedAt: now },
      );
      next = failed.state;
      events.push(...failed.events);
      continue;
    }
    next = {
      ...next,
      pendingToolCalls: next.pendingToolCalls.map((record) => {
        if (record.toolCall.id !== call.toolCall.id) return record;
        const { startedAt: _startedAt, ...rest } = record;
        return policy === "ask"
          ? { ...rest, interruptions, approval: "required" as const }
          : { ...rest, interruptions };
      }),
    };
  }
  return { state: next, events };
}
