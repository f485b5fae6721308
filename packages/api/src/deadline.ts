/**
 * A clock for one piece of work (a model call or one attempt of it, a code tool's call) that stops
 * when the work ends.
 * `AbortSignal.timeout` keeps its timer, and the signal, until the time runs out, whether the work
 * ended or not: one per model call, each held for up to the rest of the run's time limit, is memory
 * and timer upkeep that grows with a worker's throughput. A deadline's `clear()` stops its clock and
 * lets go of the parent signal at once.
 *
 * @module
 */

export interface Deadline {
  /**
   * Aborts when the time runs out (reason: a `TimeoutError` DOMException, or the caller's) or the
   * parent aborts (its reason).
   */
  readonly signal: AbortSignal;
  /** Whether the time ran out (not the parent's abort). */
  timedOut(): boolean;
  /** Stops the clock and stops listening to the parent; the work is over. */
  clear(): void;
}

/**
 * @example
 * ```ts
 * const deadline = startDeadline(30_000, shutdown.signal);
 * try {
 *   await model.generate({ messages, signal: deadline.signal });
 * } finally {
 *   deadline.clear();
 * }
 * ```
 */
export function startDeadline(
  ms: number,
  parent?: AbortSignal,
  /** The abort reason when the time runs out. */
  timeoutReason: () => unknown = () =>
    new DOMException(`The operation timed out after ${ms} ms`, "TimeoutError"),
): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(timeoutReason());
  }, ms);
  // As AbortSignal.timeout's: the clock alone does not keep a Node process alive (this module also
  // runs in browsers, where a timer is a number).
  (Object(timer) as { unref?: () => void }).unref?.();
  const followParent = (): void => {
    controller.abort(parent?.reason);
  };
  if (parent?.aborted === true) followParent();
  else parent?.addEventListener("abort", followParent, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    clear() {
      clearTimeout(timer);
      parent?.removeEventListener("abort", followParent);
    },
  };
}
