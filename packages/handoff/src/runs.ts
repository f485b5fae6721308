/**
 * Starting and cancelling runs: the caller's side of the queue.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { FreeholdError, isTerminal, type RunEvent, type RunState } from "@freehold/api";
import type { Redis } from "ioredis";
import type { AgentQueues } from "./agent-queues.ts";
import { createDispatcher } from "./dispatcher.ts";
import { dispatchKey, runEventsKey, runKey } from "./keys.ts";
import { createQuotas, type Quotas } from "./quotas.ts";
import type { RunStore } from "./run-store.ts";
import { storeFullCode } from "./store-errors.ts";

/** What a new run starts from. */
export interface NewRun {
  readonly id: string;
  readonly namespace: string;
  readonly agent: string;
  readonly input: string;
  /** For a child run: the run and tool call waiting for it. */
  readonly parent?: RunState["parent"];
  /** The trace the run joins. */
  readonly traceparent?: string;
  readonly now?: Date;
}

/**
 * A run's first state: queued, the input as the conversation's first message, nothing spent.
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
    messages: [{ role: "user", content: start.input }],
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
    readonly redis: Redis;
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
    await createDispatcher(parts).dispatch(state.namespace, state.id);
  } catch (error) {
    if (!(error instanceof FreeholdError && error.code === storeFullCode)) throw error;
    // Queuing it did not fit: take the run back (deleting needs no memory), so a retry starts clean.
    await parts.redis
      .pipeline()
      .del(runKey(state.namespace, state.id))
      .del(runEventsKey(state.namespace, state.id))
      .zrem(dispatchKey(state.namespace), state.id)
      .exec();
    throw error;
  }
  return state;
}

/**
 * Cancels a run that has not ended: it is marked `cancelled` at once (with its `run-end` event); a
 * worker working on it stops at its next checkpoint.
 */
export async function cancelRun(store: RunStore, namespace: string, runId: string): Promise<RunState> {
  for (;;) {
    const state = await store.require(namespace, runId);
    if (isTerminal(state.status)) {
      throw new FreeholdError("run.finished", `run ${runId} already ended with status ${state.status}`, {
        details: { namespace, runId, status: state.status },
      });
    }
    const now = new Date().toISOString();
    try {
      return await store.checkpoint(state, { ...state, status: "cancelled", finishedAt: now }, [
        { type: "run-end", runId, time: now, status: "cancelled", usage: state.usage, steps: state.steps },
      ]);
    } catch (error) {
      if (!(error instanceof FreeholdError && error.code === "run.conflict")) throw error;
      // A worker checkpointed in between: read again and retry.
    }
  }
}
