/**
 * Redis refusing writes because it is full (`OOM command not allowed when used memory > 'maxmemory'`,
 * with `maxmemory-policy noeviction`) is not a bug in Freehold: it becomes the retryable
 * `store.full` error (HTTP 503 with `Retry-After`), wherever a Redis reply turns into a Freehold error.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";

/**
 * The code of the error for a Redis that refuses writes because it reached `maxmemory`.
 *
 * @example
 * ```ts
 * if (isFreeholdError(error, storeFullCode)) return retryLater(storeFullRetryAfterSeconds);
 * ```
 */
export const storeFullCode = "store.full";

/** How long a caller should wait before retrying after `store.full`, in seconds. */
export const storeFullRetryAfterSeconds = 30;

/**
 * True when `error` is Redis's reply to a write past `maxmemory` (also when a script's write got it).
 *
 * @example
 * ```ts
 * if (isOutOfMemoryReply(error)) throw storeFullError(error, "failed to start a run");
 * ```
 */
export function isOutOfMemoryReply(error: unknown): boolean {
  return error instanceof Error && /\bOOM command not allowed\b/.test(error.message);
}

/**
 * The `store.full` error for a Redis OOM reply; `context` says what could not be done.
 *
 * @example
 * ```ts
 * throw storeFullError(reply, "failed to checkpoint run acme/r1");
 * ```
 */
export function storeFullError(cause: unknown, context: string): FreeholdError {
  return new FreeholdError(
    storeFullCode,
    `${context}: Redis is full (it refuses writes past its maxmemory) and nothing was written; ` +
      `retry in ${storeFullRetryAfterSeconds} s, and ask the operators to raise Redis's maxmemory or free space`,
    { retryable: true, cause, details: { retryAfterSeconds: storeFullRetryAfterSeconds } },
  );
}

/**
 * Runs a Redis call, turning an OOM reply into `store.full`; any other error passes unchanged.
 *
 * @example
 * ```ts
 * await withStoreErrors("failed to queue run r1", () => queue.add("run", job));
 * ```
 */
export async function withStoreErrors<T>(context: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isOutOfMemoryReply(error)) throw storeFullError(error, context);
    throw error;
  }
}
