/**
 * Runs a worker just moved from one of its agents to another it also serves. The job that moves such
 * a run on starts from the state as the worker wrote it instead of reading it back, and clears the
 * run's dispatch marks, if the transfer made any (a Redis Cluster), in the write that starts its work
 * (see worker.ts): a transfer between two agents of one worker costs one script fewer. A run not
 * picked up here within {@link handoverMs} is forgotten and its marks cleared on their own, well
 * before the dispatcher's sweeper (grace 2 s) would dispatch it again. On one Redis the transfer's
 * write added the job itself and made no mark ({@link Handovers.remember}).
 *
 * @module
 */
import type { RunState } from "@freehold/api";
import type { Dispatcher } from "@freehold/handoff";

/** How long, in ms, a run handed over is remembered (and its dispatch marks left to its pickup). */
export const handoverMs = 500;

/** How many runs handed over are remembered at most. */
const maxHandovers = 10_000;

/** A run handed over: its state as written, when, and the time that bounds its dispatch marks. */
export interface Handover {
  readonly state: RunState;
  /** When it was handed over (ms since the epoch). */
  readonly at: number;
  /** Undefined: its job was added in the write that queued it, with no mark (see AgentQueues.enqueueEffect). */
  readonly markedBy: number | undefined;
}

export interface Handovers {
  /** Puts a run (queued by this worker) on the agent that takes it next, then remembers it. */
  dispatch(state: RunState): Promise<void>;
  /** Remembers a run whose job the write that queued it added (nothing to dispatch, no marks). */
  remember(state: RunState): Promise<void>;
  /** The run's handover, taken out (its marks are the taker's to clear), or undefined. */
  take(namespace: string, runId: string): Handover | undefined;
  /** Clears a run's marks made up to `markedBy`; a failure is logged (the sweeper then steps in). */
  clearMarks(namespace: string, runId: string, markedBy: number): Promise<void>;
  /** Forgets every run, clearing their marks. */
  close(): Promise<void>;
}

/**
 * @example
 * ```ts
 * const handovers = createHandovers(dispatcher, log);
 * await handovers.dispatch(moved.state); // when the run's next agent is one this worker serves
 * ```
 */
export function createHandovers(dispatcher: Dispatcher, log: (line: string) => void): Handovers {
  const remembered = new Map<string, Handover>();
  const clearMarks = async (namespace: string, runId: string, markedBy: number): Promise<void> => {
    try {
      await dispatcher.clearMarks(namespace, runId, markedBy);
    } catch (error) {
      // The sweeper dispatches it again, once: its job id makes that a no-op.
      log(
        `run ${runId}: failed to clear its dispatch mark: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  };
  /** Forgets the runs handed over before `before` (ms since the epoch), and the oldest past the bound. */
  const forget = async (before: number): Promise<void> => {
    const due: Handover[] = [];
    for (const [key, handover] of remembered) {
      if (handover.at >= before && remembered.size <= maxHandovers) break;
      remembered.delete(key);
      due.push(handover);
    }
    await Promise.all(
      due.flatMap(({ state, markedBy }) =>
        markedBy === undefined ? [] : [clearMarks(state.namespace, state.id, markedBy)],
      ),
    );
  };
  const remember = async (handover: Handover): Promise<void> => {
    remembered.set(`${handover.state.namespace}/${handover.state.id}`, handover);
    if (remembered.size > maxHandovers) await forget(0);
  };
  const forgetter = setInterval(() => {
    void forget(Date.now() - handoverMs);
  }, handoverMs / 2);
  forgetter.unref();
  return {
    async dispatch(state) {
      const markedBy = await dispatcher.dispatchQueued(state, { clearMarks: false });
      await remember({ state, at: markedBy, markedBy });
    },
    async remember(state) {
      await remember({ state, at: Date.now(), markedBy: undefined });
    },
    take(namespace, runId) {
      const key = `${namespace}/${runId}`;
      const handover = remembered.get(key);
      remembered.delete(key);
      return handover;
    },
    clearMarks,
    async close() {
      clearInterval(forgetter);
      await forget(Number.POSITIVE_INFINITY);
    },
  };
}
