/**
 * Exponential backoff for reconnecting to MCP servers: the delay grows by `factor` after each failed
 * attempt up to `maxDelayMs`, with random jitter so that many workers do not reconnect in lock-step
 * after a server restarts.
 *
 * @module
 */

/** How reconnect attempts are spaced. */
export interface BackoffOptions {
  /** The delay before the first retry. Default: 500 ms. */
  readonly initialDelayMs?: number;
  /** The longest delay between two attempts. Default: 30 s. */
  readonly maxDelayMs?: number;
  /** How much the delay grows after each failed attempt. Default: 2. */
  readonly factor?: number;
  /** The fraction of the delay that is randomized, 0 to 1. Default: 0.2 (±20 %). */
  readonly jitter?: number;
}

/** The defaults of {@link BackoffOptions}. */
export const defaultBackoff = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 0.2,
} as const satisfies Required<BackoffOptions>;

/**
 * The delay before retry number `attempt` (0 for the first retry).
 *
 * @example
 * ```ts
 * backoffDelay(3, { initialDelayMs: 100, jitter: 0 }); // 800
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const { initialDelayMs, maxDelayMs, factor, jitter } = { ...defaultBackoff, ...options };
  const base = Math.min(maxDelayMs, initialDelayMs * factor ** Math.max(0, attempt));
  const spread = base * Math.min(1, Math.max(0, jitter));
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}
