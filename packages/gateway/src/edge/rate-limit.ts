/**
 * Rate limits per identity: a token bucket per caller in this gateway process's memory (each
 * replica limits on its own; the tenants' `runsPerMinute` quota is the cluster-wide limit). A
 * request takes one token; an empty bucket is a 429 `request.rate-limited` with `Retry-After`.
 * Buckets of idle callers are forgotten, so memory stays bounded by the callers of the last minutes.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import type { Context, MiddlewareHandler } from "hono";
import { errorResponse } from "../error-status.ts";

/** The code of a request over its caller's rate (429). */
export const rateLimitedCode = "request.rate-limited";

/** Options of {@link rateLimit}. */
export interface RateLimitOptions {
  /** Requests per second each caller may make on average (default 20). */
  readonly requestsPerSecond?: number;
  /** Requests a caller may make at once after being idle (default 100). */
  readonly burst?: number;
  /** Buckets kept before idle ones are swept (default 100 000). */
  readonly maxCallers?: number;
  /** Who a request counts against. */
  readonly key: (context: Context) => string;
  /** The clock, in ms (default `performance.now`). */
  readonly now?: () => number;
}

/** A token bucket per key. */
export interface TokenBuckets {
  /** Takes a token for `key`: 0 when it had one, else the seconds until it will. */
  take(key: string): number;
  /** Buckets held now. */
  size(): number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets that refill at `rate` per second up to `burst`.
 *
 * @example
 * ```ts
 * const buckets = createTokenBuckets({ requestsPerSecond: 1, burst: 2 });
 * buckets.take("user:ann"); // 0, 0, then about 1 (seconds to wait)
 * ```
 */
export function createTokenBuckets(options: Omit<RateLimitOptions, "key">): TokenBuckets {
  const rate = options.requestsPerSecond ?? 20;
  const burst = options.burst ?? 100;
  const maxCallers = options.maxCallers ?? 100_000;
  const now = options.now ?? (() => performance.now());
  const buckets = new Map<string, Bucket>();
  const refill = (bucket: Bucket, time: number): void => {
    bucket.tokens = Math.min(burst, bucket.tokens + ((time - bucket.at) / 1000) * rate);
    bucket.at = time;
  };
  const sweep = (time: number): void => {
    for (const [key, bucket] of buckets) {
      refill(bucket, time);
      if (bucket.tokens >= burst) buckets.delete(key);
    }
  };
  return {
    take(key) {
      const time = now();
      let bucket = buckets.get(key);
      if (bucket === undefined) {
        if (buckets.size >= maxCallers) sweep(time);
        bucket = { tokens: burst, at: time };
        buckets.set(key, bucket);
      } else refill(bucket, time);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return (1 - bucket.tokens) / rate;
    },
    size: () => buckets.size,
  };
}

/**
 * Refuses requests past the caller's rate (429 with `Retry-After`). Runs after authentication,
 * so callers are told apart by identity.
 *
 * @example
 * ```ts
 * app.use(rateLimit({ requestsPerSecond: 20, burst: 100, key: identityKey }));
 * ```
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  const buckets = createTokenBuckets(options);
  return async (context, next) => {
    const wait = buckets.take(options.key(context));
    if (wait > 0) {
      return errorResponse(
        new FreeholdError(
          rateLimitedCode,
          `too many requests from this caller: retry after ${Math.ceil(wait)} s, and send fewer ` +
            "(the gateway's per-caller rate limit)",
          { retryable: true, details: { retryAfterSeconds: wait } },
        ),
      );
    }
    await next();
    return undefined;
  };
}
