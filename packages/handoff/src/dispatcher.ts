/**
 * The dispatcher makes sure every run that needs a worker gets one. A checkpoint that leaves a run
 * `queued` (a transfer to another agent, a person's hand-back, an approval) marks it in the
 * namespace's dispatch set in the same atomic step; a run delegating to child runs is marked when a
 * child ends. `dispatch` then puts the run on its agent's queue (a job id derived from the run's
 * revision, so twice is once) or resumes the parent with the children's answers. Workers dispatch
 * right after such a checkpoint; `sweep` catches whatever a crash left marked.
 *
 * @module
 */
import { FreeholdError, isTerminal, type RunEvent, type RunState } from "@freehold/api";
import type { RedisClient } from "./redis-client.ts";
import type { AgentQueues } from "./agent-queues.ts";
import { dispatchKey, dispatchKeys } from "./keys.ts";
import { evalScript, type RedisEffect } from "./redis-effects.ts";
import type { RunStore } from "./run-store.ts";
import { applyToolResult } from "./run-transitions.ts";

export interface Dispatcher {
  /** Gets a marked run moving: enqueue it, or resume it with its ended child runs' answers. */
  dispatch(namespace: string, runId: string): Promise<void>;
  /**
   * The fast path for a worker that has just checkpointed `state` (queued): enqueue it without reading
   * it back, and clear the marks made up to now (a later mark, from a later checkpoint, stays). With
   * `clearMarks: false` the marks stay for the caller to clear (with {@link Dispatcher.clearMarks} or
   * {@link clearMarksEffect}); either way it returns the time that bounds them.
   */
  dispatchQueued(state: RunState, options?: { readonly clearMarks?: boolean }): Promise<number>;
  /** Clears the marks of a run made up to `markedBy` (ms since the epoch); a later mark stays. */
  clearMarks(namespace: string, runId: string, markedBy: number): Promise<void>;
  /** Dispatches every run marked more than `graceMs` ago; returns how many. */
  sweep(namespace: string, graceMs?: number): Promise<number>;
}

const removeIfMarkedBefore = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

/**
 * {@link Dispatcher.clearMarks} as an effect, to go with a write of the run (in its slot).
 *
 * @example
 * ```ts
 * await store.checkpoint(state, next, events, { effects: [clearMarksEffect(namespace, runId, markedBy)] });
 * ```
 */
export function clearMarksEffect(namespace: string, runId: string, markedBy: number): RedisEffect {
  return { op: "zrem", key: dispatchKey(namespace, runId), member: runId, maxScore: markedBy };
}

const removeIfScore = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

/** What a child run's end tells its parent. */
function childOutcome(child: RunState): { content: string; isError: boolean } {
  if (child.status === "completed") return { content: child.output ?? "", isError: false };
  const reason = child.error === undefined ? "" : `: ${child.error.message}`;
  return {
    content: `agent ${child.agent} did not answer; its run ended ${child.status}${reason}`,
    isError: true,
  };
}

/**
 * @example
 * ```ts
 * const dispatcher = createDispatcher({ redis, store, queues });
 * setInterval(() => void dispatcher.sweep("acme"), 5_000);
 * ```
 */
export function createDispatcher(parts: {
  readonly redis: RedisClient;
  readonly store: RunStore;
  readonly queues: AgentQueues;
}): Dispatcher {
  const { redis, store, queues } = parts;

  /** Answers the parent's delegation calls whose children ended; queues it once none is left. */
  const resumeParent = async (parent: RunState): Promise<boolean> => {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const current = attempt === 0 ? parent : await store.require(parent.namespace, parent.id);
      if (current.status !== "waiting_for_agent") return current.status === "queued";
      let next = current;
      const events: RunEvent[] = [];
      for (const record of current.pendingToolCalls) {
        if (record.status !== "pending" || record.special?.kind !== "delegate") continue;
        const childRunId = record.special.childRunId;
        const child = await store.get(current.namespace, childRunId);
        if (child !== undefined && !isTerminal(child.status)) continue;
        const now = new Date();
        // A child run is created with its parent's wait: one that is gone ended and expired since.
        const outcome =
          child === undefined
            ? {
                content: `agent ${record.special.agent} did not answer: its run ${childRunId} ended and expired (past the run retention) before this run read its answer`,
                isError: true,
              }
            : childOutcome(child);
        const done = applyToolResult(next, record.toolCall.id, outcome, {
          now,
          startedAt: new Date(record.startedAt ?? child?.createdAt ?? now.toISOString()),
        });
        next = done.state;
        events.push(...done.events, {
          type: "delegation-end",
          runId: current.id,
          time: now.toISOString(),
          childRunId,
          toolCallId: record.toolCall.id,
          status: child?.status ?? "failed",
        });
      }
      const waitingOn = next.pendingToolCalls.filter(
        (record) => record.status === "pending" && record.special?.kind === "delegate",
      );
      if (events.length === 0) return false;
      const { waiting: _waiting, ...rest } = next;
      const resumed: RunState =
        waitingOn.length === 0
          ? { ...rest, status: "queued" }
          : {
              ...next,
              waiting: {
                kind: "agent",
                childRunIds: waitingOn.flatMap((record) =>
                  record.special?.kind === "delegate" ? [record.special.childRunId] : [],
                ),
              },
            };
      try {
        await store.checkpoint(current, resumed, events);
        return waitingOn.length === 0;
      } catch (error) {
        if (!(error instanceof FreeholdError && error.code === "run.conflict")) throw error;
      }
    }
    return false;
  };

  const dispatcher: Dispatcher = {
    async dispatch(namespace, runId) {
      const key = dispatchKey(namespace, runId);
      const score = await redis.zscore(key, runId);
      if (score === null) return;
      let state = await store.get(namespace, runId);
      if (state?.status === "waiting_for_agent" && (await resumeParent(state))) {
        state = await store.get(namespace, runId);
      }
      if (state?.status === "queued") {
        await queues.enqueue(namespace, state.agent, runId, { key: `r${state.revision}` });
      }
      await evalScript(redis, removeIfScore, 1, key, runId, score);
    },
    async dispatchQueued(state, options = {}) {
      const markedBy = Date.now();
      if (state.status !== "queued") return markedBy;
      await queues.enqueue(state.namespace, state.agent, state.id, { key: `r${state.revision}` });
      if (options.clearMarks !== false) await dispatcher.clearMarks(state.namespace, state.id, markedBy);
      return markedBy;
    },
    async clearMarks(namespace, runId, markedBy) {
      await evalScript(redis, removeIfMarkedBefore, 1, dispatchKey(namespace, runId), runId, markedBy);
    },
    async sweep(namespace, graceMs = 2_000) {
      const marked = await Promise.all(
        dispatchKeys(namespace).map((key) =>
          redis.zrangebyscore(key, 0, Date.now() - graceMs, "LIMIT", 0, 500),
        ),
      );
      const due = marked.flat();
      for (const runId of due) await dispatcher.dispatch(namespace, runId);
      return due.length;
    },
  };
  return dispatcher;
}
