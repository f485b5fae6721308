/**
 * How the graph stops when the run's turn is over: a node throws {@link TurnOver} (the answer ended
 * the run, a limit, a call the graph does not run, a shutdown) and the driver catches it.
 *
 * @module
 */

/** Thrown from a node of the graph when the run's turn is over; the driver catches it. */
export class TurnOver extends Error {
  constructor() {
    super("the run's model turn is over");
    this.name = "TurnOver";
  }
}

/** True for a TurnOver, also when LangGraph wrapped it. */
export function isTurnOver(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; depth += 1) {
    if (cause instanceof TurnOver) return true;
    cause = cause.cause;
  }
  return false;
}
