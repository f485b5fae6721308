/**
 * The options of one tool call: the idempotency key that travels to the server, the timeout that
 * progress keeps alive, cancellation and progress reports.
 *
 * @module
 */

/**
 * The key under the request's `_meta` that carries the idempotency key of a tool call:
 * `{ "_meta": { "freehold.dev/idempotency-key": "run-123/step-4/call-1" } }`. A server that reads it
 * can answer a retried call with the earlier result instead of running it twice.
 */
export const idempotencyKeyMeta = "freehold.dev/idempotency-key";

/** A progress notification of a running tool call. */
export interface ToolCallProgress {
  /** Grows with every notification. */
  readonly progress: number;
  /** The value `progress` reaches at the end, when the server knows it. */
  readonly total?: number;
  readonly message?: string;
}

/**
 * Options of `McpPool.callTool` and `ToolBroker.callTool`.
 *
 * @example
 * ```ts
 * await pool.callTool("billing-api", "refund", { invoice: "INV-7" }, {
 *   idempotencyKey: `${runId}/${callId}`,
 *   timeoutMs: 30_000,
 *   signal: run.signal,
 *   onProgress: ({ progress, total }) => console.log(progress, total),
 * });
 * ```
 */
export interface CallToolOptions {
  /**
   * Identifies the call across retries and worker restarts; the same key for the same logical call.
   * Sent to the server as `_meta["freehold.dev/idempotency-key"]`.
   */
  readonly idempotencyKey: string;
  /**
   * How long the call may go without an answer or a progress notification; every progress
   * notification starts the timeout again. Default: the connection's `timeoutMs`, else the pool's
   * `defaultTimeoutMs` (60 s).
   */
  readonly timeoutMs?: number;
  /** Cancels the call: the server gets `notifications/cancelled` and the call rejects with `mcp.cancelled`. */
  readonly signal?: AbortSignal;
  /** Called for every progress notification of the call. */
  readonly onProgress?: (progress: ToolCallProgress) => void;
}
