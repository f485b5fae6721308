/**
 * The transitions a turn's special calls make, shared by every loop driver: asking people to approve
 * tool calls, transferring the conversation to another agent, handing it to a human queue. Each is
 * pure: from the run's current state, the calls and the time to the next state, its events and the
 * Redis effects that go in the same checkpoint (approval and inbox items). Child runs are in
 * delegations.ts.
 *
 * @module
 */
import {
  FreeholdError,
  isoTime,
  priorities,
  type Priority,
  type RunEvent,
  type RunState,
  type ToolCall,
  type ToolCallRecord,
} from "@freehold/api";
import {
  applyToolResult,
  approvalItemEffects,
  inboxItemEffects,
  type RedisEffect,
  type Transition,
} from "@freehold/handoff";
import { parseArguments, type ResolvedAgent } from "./loop-driver.ts";
import { interruptedReason } from "./interrupted-calls.ts";

/** A transition and the Redis writes that go with its checkpoint. */
export type EffectfulTransition = Transition & { readonly effects?: readonly RedisEffect[] };

/**
 * The run waits for people to approve `calls` (each needs approval): one approval item per call,
 * with the model's last words as the reason (or why the call is asked about again after its worker
 * stopped mid-call).
 */
export function requestApprovals(
  current: RunState,
  calls: readonly ToolCallRecord[],
  agent: Pick<ResolvedAgent, "namespace" | "name">,
  time: string,
): EffectfulTransition {
  const reason =
    [...current.messages].reverse().find((message) => message.role === "assistant")?.content ?? "";
  const effects = calls.flatMap((call) =>
    approvalItemEffects({
      schemaVersion: 1,
      id: call.idempotencyKey,
      namespace: agent.namespace,
      agent: agent.name,
      runId: current.id,
      toolCall: call.toolCall,
      server: call.server ?? "",
      tool: call.tool ?? call.toolCall.name,
      arguments: parseArguments(call.toolCall.arguments),
      reason: (call.interruptions ?? 0) > 0 ? interruptedReason(call) : reason,
      createdAt: time,
    }),
  );
  return {
    state: {
      ...current,
      status: "waiting_for_approval",
      waiting: { kind: "approval", itemIds: calls.map((call) => call.idempotencyKey) },
    },
    events: calls.map((call) => ({
      type: "approval-request" as const,
      runId: current.id,
      time,
      itemId: call.idempotencyKey,
      toolCall: call.toolCall,
      server: call.server ?? "",
      tool: call.tool ?? call.toolCall.name,
    })),
    effects,
  };
}

/**
 * The conversation moves to agent `to` (the run goes back on the queue, `to`'s now): the transfer
 * call gets its result, the turn's other pending calls are answered as not done, and the hop is
 * counted. The caller checks `limits.maxHandoffs` first.
 */
export function transfer(
  current: RunState,
  call: ToolCallRecord,
  options: { readonly from: string; readonly to: string; readonly note: string; readonly now: Date },
): Transition {
  const { from, to, note, now } = options;
  const time = isoTime(now);
  let moved = applyToolResult(
    current,
    call.toolCall.id,
    { content: `Transferred to ${to}.`, isError: false },
    { now, startedAt: now },
  );
  const events: RunEvent[] = [...moved.events];
  for (const other of moved.state.pendingToolCalls.filter((pending) => pending.status === "pending")) {
    const skipped = applyToolResult(
      moved.state,
      other.toolCall.id,
      { content: `Not done: the conversation moved to ${to}.`, isError: true },
      { now, startedAt: now },
    );
    moved = skipped;
    events.push(...skipped.events);
  }
  const hop = current.hops + 1;
  return {
    state: { ...moved.state, agent: to, hops: hop, status: "queued" },
    events: [...events, { type: "agent-transfer", runId: current.id, time, from, to, note, hop }],
  };
}

/**
 * The run waits for people of human queue `queue`: an inbox item with the whole conversation, the
 * model's summary, reason and priority (`normal` unless it named one of the priorities).
 */
export function handToPeople(
  current: RunState,
  call: ToolCallRecord,
  options: {
    readonly agent: Pick<ResolvedAgent, "namespace" | "name" | "humanQueues">;
    readonly queue: string;
    readonly time: string;
  },
): EffectfulTransition {
  const { agent, queue, time } = options;
  const args = parseArguments(call.toolCall.arguments);
  const summary = typeof args.summary === "string" ? args.summary : "";
  const reason = typeof args.reason === "string" ? args.reason : "";
  const priority =
    typeof args.priority === "string" && priorities.includes(args.priority as Priority)
      ? (args.priority as Priority)
      : "normal";
  return {
    state: {
      ...current,
      status: "waiting_for_human",
      waiting: { kind: "human", queue, itemId: call.idempotencyKey },
    },
    events: [
      {
        type: "human-handoff",
        runId: current.id,
        time,
        queue,
        itemId: call.idempotencyKey,
        summary,
        reason,
        priority,
      },
    ],
    effects: inboxItemEffects({
      schemaVersion: 1,
      id: call.idempotencyKey,
      namespace: agent.namespace,
      queue,
      runId: current.id,
      agent: agent.name,
      summary,
      reason,
      priority,
      conversation: current.messages,
      status: "waiting",
      createdAt: time,
      queuedAt: time,
      escalations: 0,
      leaseSeconds: agent.humanQueues.get(queue)?.leaseSeconds ?? 900,
    }),
  };
}

/** What a framework's code asks of people (native mode: an interrupt). */
export interface PeopleRequest {
  /** The human queue (one of the agent's `spec.handoffs`). */
  readonly queue: string;
  /** What the person is asked, shown as the inbox item's summary. */
  readonly summary: string;
  readonly reason?: string;
  /** How urgent it is (default `normal`). */
  readonly priority?: Priority;
  /** The code's own id of the request, kept in the call's arguments (`ref`) to match the answer to it. */
  readonly ref?: string;
}

/**
 * Records a request of the agent's code for a person as a pending handoff call to `queue`
 * (`transfer_to_human_<queue>`, in an assistant message of its own), which the loop then turns into
 * an inbox item with {@link handToPeople}; the person's answer becomes the call's result. Throws
 * `runtime.calls-pending` while calls of the last answer wait for their results.
 */
export function recordPeopleRequest(current: RunState, request: PeopleRequest, now: Date): Transition {
  if (current.pendingToolCalls.some((call) => call.status === "pending")) {
    throw new FreeholdError(
      "runtime.calls-pending",
      `run ${current.id} cannot ask ${request.queue} while tool calls of its last answer wait for results; ask from a node that runs after them`,
    );
  }
  const index = current.messages.length;
  const toolCall: ToolCall = {
    id: `interrupt_${index}`,
    name: `transfer_to_human_${request.queue}`,
    arguments: JSON.stringify({
      summary: request.summary,
      reason: request.reason ?? request.summary,
      ...(request.priority === undefined ? {} : { priority: request.priority }),
      ...(request.ref === undefined ? {} : { ref: request.ref }),
    }),
  };
  const record: ToolCallRecord = {
    toolCall,
    // Item ids carry the run's id and two numbers (its shard: keys.ts).
    idempotencyKey: `${current.id}-${current.steps}-${index}`,
    status: "pending",
    special: { kind: "human", queue: request.queue },
  };
  return {
    state: {
      ...current,
      messages: [...current.messages, { role: "assistant", content: "", toolCalls: [toolCall] }],
      pendingToolCalls: [record],
    },
    events: [{ type: "tool-call-start", runId: current.id, time: now.toISOString(), toolCall }],
  };
}
