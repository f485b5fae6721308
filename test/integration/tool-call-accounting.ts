/**
 * The crash suites' count of tool calls, taken at the MCP server (every call the counter server
 * received, nothing de-duplicated) and held against the runs' histories: which calls a worker was
 * running when it died (`tool-call-interrupted`, with the policy followed) and when each call's
 * result was checkpointed (`tool-call-end`). What must hold:
 * - a call never interrupted reached the server exactly once;
 * - `retry`: at least once, at most once more than it was interrupted;
 * - `fail`: at most once (never sent again after the interruption);
 * - `ask`: at most once more than people approved running it again;
 * - no call reached the server after its result was checkpointed;
 * - no call reached the server before the model's answer that makes it was stored, but a call of a
 *   tool listed in `readOnly` (annotated `readOnlyHint`, policy `retry`): those leave while the
 *   answer is being written, and a worker that dies before it is stored sends one the run never
 *   records (the model is asked again; its new answer makes the call under the same key). Such
 *   arrivals are counted apart (`unrecorded`), not against the policy.
 */
import type { RunEvent } from "@freehold/api";
import type { RunStore } from "@freehold/handoff";
import type { CounterServer } from "../fixtures/mcp/counter-server.ts";

/** What happened to the calls of the counted tools. */
export interface ToolCallCount {
  /** Calls the model made of the counted tools (idempotency keys). */
  readonly calls: number;
  /** Calls the counter server received (every one). */
  readonly received: number;
  /** Of those, calls of read-only tools received before the answer that makes them was stored. */
  readonly unrecorded: number;
  /** Interruptions, by the policy followed. */
  readonly interrupted: Readonly<Record<"retry" | "fail" | "ask", number>>;
  /** Runs of `charge` that finished at the server (its real effects). */
  readonly charges: number;
  /** Per tool: calls made, received at the server, interrupted (by policy). */
  readonly byTool: Readonly<Record<string, { calls: number; received: number; interrupted: string }>>;
  /** What does not hold, one line each; empty when everything does. */
  readonly problems: readonly string[];
}

/**
 * Counts the calls of `tools` in the runs (and their child runs, when listed in `runIds`).
 *
 * @example
 * const count = await countToolCalls({ store, namespace, runIds, counter, tools: ["charge", "slow"] });
 * expect(count.problems).toEqual([]);
 */
export async function countToolCalls(options: {
  readonly store: RunStore;
  readonly namespace: string;
  readonly runIds: readonly string[];
  readonly counter: CounterServer;
  readonly tools: readonly string[];
  /** Counted tools whose calls may leave while the answer that makes them is being written. */
  readonly readOnly?: readonly string[];
}): Promise<ToolCallCount> {
  const { store, namespace, counter } = options;
  const counted = new Set(options.tools);
  const calls = new Map<
    string,
    {
      tool: string;
      /** When the stored answer that makes the call was received (its event's time). */
      answeredAt: number;
      endedAt: number;
      interrupted: Map<string, number>;
      approvedAgain: number;
    }
  >();
  const readOnly = new Set(options.readOnly ?? []);
  let unrecorded = 0;
  const interrupted = { retry: 0, fail: 0, ask: 0 };
  for (const runId of options.runIds) {
    const events: RunEvent[] = (await store.readEvents(namespace, runId)).map(({ event }) => event);
    const endedAt = new Map<string, number>();
    const keyOf = new Map<string, string>();
    for (const event of events) {
      if (event.type === "tool-call-end") endedAt.set(event.toolCallId, Date.parse(event.time));
      if (event.type === "model-call-end") {
        (event.message.toolCalls ?? []).forEach((toolCall, index) => {
          if (!counted.has(toolCall.name)) return;
          const key = `${runId}-${event.step}-${index}`;
          keyOf.set(toolCall.id, key);
          calls.set(key, {
            tool: toolCall.name,
            answeredAt: Date.parse(event.time),
            endedAt: Number.NaN,
            interrupted: new Map(),
            approvedAgain: 0,
          });
        });
      }
    }
    for (const event of events) {
      const call = calls.get(
        event.type === "tool-call-interrupted"
          ? event.idempotencyKey
          : event.type === "approval-decision"
            ? (keyOf.get(event.toolCallId) ?? "")
            : "",
      );
      if (call === undefined) continue;
      if (event.type === "tool-call-interrupted") {
        call.interrupted.set(event.policy, (call.interrupted.get(event.policy) ?? 0) + 1);
        interrupted[event.policy] += 1;
      }
      if (event.type === "approval-decision" && event.approved) call.approvedAgain += 1;
    }
    for (const [toolCallId, key] of keyOf) {
      const call = calls.get(key);
      if (call !== undefined) call.endedAt = endedAt.get(toolCallId) ?? Number.NaN;
    }
  }

  // The calls of these runs (a call's key starts with its run's id) and of their child runs.
  const received = counter
    .calls()
    .filter(
      (call) =>
        counted.has(call.tool) &&
        options.runIds.some((runId) => call.idempotencyKey?.startsWith(`${runId}-`)),
    );
  const receivedByKey = new Map<string, number[]>();
  for (const call of received) {
    const times = receivedByKey.get(call.idempotencyKey ?? "") ?? [];
    times.push(call.receivedAt);
    receivedByKey.set(call.idempotencyKey ?? "", times);
  }
  const problems: string[] = [];
  for (const key of receivedByKey.keys()) {
    if (!calls.has(key)) problems.push(`the server received a call no run made: ${key}`);
  }
  for (const [key, call] of calls) {
    const all = receivedByKey.get(key) ?? [];
    // Sent by a worker whose answer was never stored: the stored answer came after it.
    const early = all.filter((time) => time < call.answeredAt);
    if (early.length > 0 && readOnly.has(call.tool)) unrecorded += early.length;
    else if (early.length > 0)
      problems.push(`${key} (${call.tool}) reached the server before the answer that makes it was stored`);
    const times = readOnly.has(call.tool) ? all.filter((time) => time >= call.answeredAt) : all;
    const retried = call.interrupted.get("retry") ?? 0;
    const failed = call.interrupted.get("fail") ?? 0;
    const asked = call.interrupted.get("ask") ?? 0;
    const said = `${key} (${call.tool}) reached the server ${times.length} time(s)`;
    if (Number.isNaN(call.endedAt)) problems.push(`${key} (${call.tool}) has no result in its run`);
    if (times.some((time) => time > call.endedAt))
      problems.push(`${said}, once after its result was checkpointed`);
    if (retried + failed + asked === 0 && times.length !== 1) problems.push(`${said}, never interrupted`);
    if (failed > 0 && times.length > 1) problems.push(`${said} though its policy is fail`);
    if (retried > 0 && (times.length < 1 || times.length > 1 + retried))
      problems.push(`${said}, interrupted ${retried} time(s) under retry`);
    if (asked > 0 && times.length > 1 + call.approvedAgain)
      problems.push(`${said}, approved again ${call.approvedAgain} time(s) under ask`);
  }
  const byTool: Record<string, { calls: number; received: number; interrupted: string }> = {};
  for (const tool of options.tools) {
    const mine = [...calls.values()].filter((call) => call.tool === tool);
    const policies = new Map<string, number>();
    for (const call of mine)
      for (const [policy, times] of call.interrupted)
        policies.set(policy, (policies.get(policy) ?? 0) + times);
    byTool[tool] = {
      calls: mine.length,
      received: received.filter((call) => call.tool === tool).length,
      interrupted: [...policies].map(([policy, times]) => `${times} (${policy})`).join(", ") || "0",
    };
  }
  return {
    byTool,
    calls: calls.size,
    received: received.length,
    unrecorded,
    interrupted,
    charges: counter.charges().length,
    problems,
  };
}

/** One line for the suite's output. */
export function describeToolCalls(count: ToolCallCount): string {
  const tools = Object.entries(count.byTool).map(
    ([tool, each]) =>
      `${tool}: ${each.calls} calls, ${each.received} received at the server, interrupted ${each.interrupted}`,
  );
  return (
    `${tools.join("; ")}; ${count.unrecorded} read-only calls sent before their answer was stored; ` +
    `${count.charges} charges ran to their end`
  );
}
