/**
 * The abort reason of a call that ran out of time. The retry layer aborts with it; the HTTP layer,
 * which knows the URL, turns it into a `model.timeout` error, and any other abort into
 * `model.aborted`.
 *
 * @module
 */
import { isFreeholdError, type FreeholdError } from "@freehold/api";
import { abortedError, timeoutError, type ModelCallContext } from "./model-error.ts";

/** Why a call's signal was aborted when its time ran out. */
export class CallTimeout extends Error {
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`the call took longer than ${timeoutMs}ms`);
    this.name = "CallTimeout";
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The error to throw for an aborted signal: `model.timeout` when the call ran out of time, the reason
 * itself when it already is a `FreeholdError`, `model.aborted` otherwise.
 *
 * @example
 * ```ts
 * if (signal.aborted) throw errorForAbortedSignal(signal, context);
 * ```
 */
export function errorForAbortedSignal(signal: AbortSignal, context: ModelCallContext): FreeholdError {
  const reason: unknown = signal.reason;
  if (reason instanceof CallTimeout) return timeoutError(context, reason.timeoutMs);
  if (isFreeholdError(reason)) return reason;
  return abortedError(context, reason);
}

/** The error for `signal` when it has been aborted, or undefined while it has not. */
export function errorIfAborted(
  signal: AbortSignal | undefined,
  context: ModelCallContext,
): FreeholdError | undefined {
  return signal?.aborted === true ? errorForAbortedSignal(signal, context) : undefined;
}
