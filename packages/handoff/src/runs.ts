/**
 * Starting and cancelling runs: the caller's side of the queue.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { FreeholdError, isTerminal, type ChatMessage, type RunEvent, type RunState } from "@freehold/api";
import type { RedisClient } from "./redis-client.ts";
import type { AgentQueues } from "./agent-queues.ts";
import { createDispatcher } from "./dispatcher.ts";
import {
  approvalItemKey,
  approvalsKey,
  dispatchKey,
  inboxItemKey,
  inboxQueueKey,
  runIndexKey,
} from "./keys.ts";
import { inboxEventEffect } from "./inbox-events.ts";
import { createQuotas, type Quotas } from "./quotas.ts";
import type { RedisEffect } from "./redis-effects.ts";
import { runKeys, type RunStore } from "./run-store.ts";
import { storeFullCode } from "./store-errors.ts";

/** What a new run starts from. */
export interface NewRun {
  readonly id: string;
  readonly namespace: string;
  readonly agent: string;
  readonly input: string;
  /** An earlier conversation the run continues: its messages come before the input. */
  readonly history?: readonly ChatMessage[];
  /** For a child run: the run and tool call waiting for it. */
  readonly parent?: RunState["parent"];
  /** The trace the run joins. */
  readonly traceparent?: string;
  readonly now?: Date;
}

/**
 * A run's first state: queued, the input as the conversation's first message (after the earlier
 * conversation it continues, if any), nothing spent.
 *
 * @example
 * ```ts
 * const state = newRun({ id: randomUUID(), namespace: "acme", agent: "billing", input: "Hi" });
 * ```
 */
export function newRun(start: NewRun): RunState {
  const time = (start.now ?? new Date()).toISOString();
  return {
    schemaVersion: 1,
    id: start.id,
    namespace: start.namespace,
    agent: start.agent,
    status: "queued",
    input: start.input,
    messages: [...(start.history ?? []), { role: "user", content: start.input }],
    pendingToolCalls: [],
    steps: 0,
    usage: { inputTokens: 0, outputTokens: 0 },
    activeMs: 0,
    invalidTurns: 0,
    hops: 0,
    revision: 0,
    createdAt: time,
    updatedAt: time,
    ...(start.parent === undefined ? {} : { parent: start.parent }),
    ...(start.traceparent === undefined ? {} : { traceparent: start.traceparent }),
  };
}

/** What a caller gives to start a run. */
export interface StartRunRequest {
  readonly namespace: string;
  readonly agent: string;
  readonly input: string;
  /** An earlier conversation the run continues (a chat's previous turns); default: none. */
  readonly history?: readonly ChatMessage[];
  /** Default: a random UUID. */
  readonly runId?: string;
}

/**
 * Stores a new run (status `queued`, with its `run-start` event) and puts it on the agent's queue.
 * The namespace's tenant must have a run left this minute (`quota.runs_exceeded` otherwise, before
 * anything is written). A Redis too full to take the run gives `store.full`, and nothing of the run
 * stays behind. Checks that the agent exists are the caller's (the gateway and CLI know the agents).
 *
 * @example
 * ```ts
 * const run = await startRun({ redis, store, queues }, { namespace: "acme", agent: "billing", input: "Where is my invoice?" });
 * ```
 */
export async function startRun(
  parts: {
    readonly redis: RedisClient;
    readonly store: RunStore;
    readonly queues: AgentQueues;
    /** Default: quotas over `redis`. */
    readonly quotas?: Quotas;
  },
  request: StartRunRequest,
): Promise<RunState> {
  const state = newRun({
    id: request.runId ?? randomUUID(),
    namespace: request.namespace,
    agent: request.agent,
    input: request.input,
    ...(request.history === undefined ? {} : { history: request.history }),
  });
  const now = state.createdAt;
  const started: RunEvent = {
    type: "run-start",
    runId: state.id,
    time: now,
    agent: request.agent,
    input: request.input,
  };
  await (parts.quotas ?? createQuotas(parts.redis)).startRuns(request.namespace);
  await parts.store.create(state, [started]);
  try {
    // Just stored as queued: put on its queue as it is (a cancel in between finds the job's pickup
    // reading the run), and the mark the store set cleared.
    await createDispatcher(parts).dispatchQueued(state);
  } catch (error) {
    if (!(error instanceof FreeholdError && error.code === storeFullCode)) throw error;
    // Queuing it did not fit: take the run back (deleting needs no memory), so a retry starts clean.
    await parts.redis
      .pipeline()
      .del(...runKeys(state.namespace, state.id))
      .zrem(dispatchKey(state.namespace, state.id), state.id)
      .zrem(runIndexKey(state.namespace, state.id), state.id)
      .exec();
    throw error;
  }
  return state;
}

/** How deep {@link cancelRun} follows child runs (delegation depth is bounded far below). */
const maxCancelDepth = 32;

/** How many runs one {@link cancelRun} cancels at most, the run itself and its descendants. */
const maxCancelledRuns = 1_000;

/**
 * The human queue a run's inbox item is in now: the run's `waiting.queue` is where it was handed
 * to, and an escalation (an event on the run's stream) may have moved it since.
 */
async function currentQueue(store: RunStore, state: RunState): Promise<string | undefined> {
  const waiting = state.waiting;
  if (waiting?.kind !== "human") return undefined;
  let queue = waiting.queue;
  for (const { event } of await store.readEvents(state.namespace, state.id)) {
    if (
      event.type === "human-action" &&
      event.action === "escalate" &&
      event.itemId === waiting.itemId &&
      event.toQueue !== undefined
    ) {
      queue = event.toQueue;
    }
  }
  return queue;
}

/**
 * The writes that take a suspended run's inbox or approval items away (an inbox item from `queue`,
 * where it is now, with a `removed` event in that queue's feed).
 */
function waitingItemRemoval(state: RunState, queue: string | undefined): RedisEffect[] {
  const waiting = state.waiting;
  if (waiting?.kind === "human") {
    const itemQueue = queue ?? waiting.queue;
    return [
      { op: "del", key: inboxItemKey(state.namespace, waiting.itemId) },
      {
        op: "zrem",
        key: inboxQueueKey(state.namespace, itemQueue, "waiting", waiting.itemId),
        member: waiting.itemId,
      },
      {
        op: "zrem",
        key: inboxQueueKey(state.namespace, itemQueue, "claimed", waiting.itemId),
        member: waiting.itemId,
      },
      inboxEventEffect(
        { namespace: state.namespace, queue: itemQueue, id: waiting.itemId, runId: state.id },
        { type: "removed", reason: "cancelled" },
      ),
    ];
  }
  if (waiting?.kind === "approval") {
    return waiting.itemIds.flatMap((itemId): RedisEffect[] => [
      { op: "del", key: approvalItemKey(state.namespace, itemId) },
      { op: "zrem", key: approvalsKey(state.namespace, itemId), member: itemId },
    ]);
  }
  return [];
}

/** The child runs a run started (agents used as tools), ended or not. */
function childRunIds(state: RunState): string[] {
  const ids = new Set(state.waiting?.kind === "agent" ? state.waiting.childRunIds : []);
  for (const call of state.pendingToolCalls) {
    if (call.special?.kind === "delegate") ids.add(call.special.childRunId);
  }
  return [...ids];
}

/**
 * Marks one run cancelled, its inbox or approval items removed in the same step: its state before, or
 * undefined if it had ended (a missing run is a `run.not-found` error).
 */
async function cancelOne(store: RunStore, namespace: string, runId: string): Promise<RunState | undefined> {
  for (;;) {
    const state = await store.require(namespace, runId);
    if (isTerminal(state.status)) return undefined;
    const now = new Date().toISOString();
    const { waiting: _waiting, ...rest } = state;
    try {
      await store.checkpoint(
        state,
        { ...rest, status: "cancelled", finishedAt: now },
        [{ type: "run-end", runId, time: now, status: "cancelled", usage: state.usage, steps: state.steps }],
        { effects: waitingItemRemoval(state, await currentQueue(store, state)) },
      );
      // A hint to the run's worker (the stored cancel is what counts): its failure changes nothing.
      await store.announceCancel(namespace, runId).catch(() => undefined);
      return state;
    } catch (error) {
      if (!(error instanceof FreeholdError && error.code === "run.conflict")) throw error;
      // A worker checkpointed in between: read again and retry.
    }
  }
}

/**
 * Cancels a run that has not ended: it is marked `cancelled` at once (with its `run-end` event), and
 * the inbox item or approval items it waited on are removed in the same atomic step; then its child
 * runs (agents it used as tools) are cancelled the same way, and theirs, down to a bounded depth. A
 * worker working on a cancelled run stops before its next tool call, model call or checkpoint: it is
 * told at once (a cancel notice, see cancel-notices.ts), and every write it tries fails.
 *
 * @example
 * ```ts
 * const cancelled = await cancelRun(store, "acme", runId);
 * ```
 */
export async function cancelRun(store: RunStore, namespace: string, runId: string): Promise<RunState> {
  const before = await cancelOne(store, namespace, runId);
  const cancelled = await store.require(namespace, runId);
  if (before === undefined) {
    throw new FreeholdError("run.finished", `run ${runId} already ended with status ${cancelled.status}`, {
      details: { namespace, runId, status: cancelled.status },
    });
  }
  // The children, breadth first: the parent is cancelled already, so no child's end resumes it.
  let level = childRunIds(before);
  let count = 1;
  for (let depth = 1; level.length > 0 && depth <= maxCancelDepth; depth += 1) {
    const next: string[] = [];
    for (const childId of level) {
      if (count >= maxCancelledRuns) return cancelled;
      count += 1;
      const child = await cancelOne(store, namespace, childId).catch((error: unknown) => {
        // A child that expired already has nothing to cancel.
        if (error instanceof FreeholdError && error.code === "run.not-found") return undefined;
        throw error;
      });
      if (child !== undefined) next.push(...childRunIds(child));
    }
    level = next;
  }
  return cancelled;
}
