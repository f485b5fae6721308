/**
 * How a framework's loop stops when the run's model turn is over (see `ModelTurn`): its model or a
 * tool throws {@link TurnOver} (the answer ended the run, a limit, a call the framework does not run,
 * a shutdown), the framework's loop gives up, and the driver catches it, however the framework
 * wrapped it. Shared by every adapter.
 *
 * @module
 */

/** Thrown through a framework's loop when the run's model turn is over; its driver catches it. */
export class TurnOver extends Error {
  constructor() {
    super("the run's model turn is over");
    this.name = "TurnOver";
  }
}

/** True for a TurnOver, also when a framework wrapped it (as an error's `cause`, up to 5 deep). */
export function isTurnOver(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; depth += 1) {
    if (cause instanceof TurnOver) return true;
    cause = cause.cause;
  }
  return false;
}
