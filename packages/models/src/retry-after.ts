/**
 * How long a provider asks us to wait: the `Retry-After` header (seconds or an HTTP date), OpenAI's
 * `retry-after-ms`, and Google's `RetryInfo.retryDelay` (`"22s"`).
 *
 * @module
 */

/**
 * The wait a response asks for, in milliseconds, or undefined when it names none.
 *
 * @example
 * ```ts
 * retryAfterMilliseconds(new Headers({ "retry-after": "2" })); // 2000
 * ```
 */
export function retryAfterMilliseconds(headers: Headers, now: number = Date.now()): number | undefined {
  const milliseconds = headers.get("retry-after-ms");
  if (milliseconds !== null && /^\d+(\.\d+)?$/.test(milliseconds.trim())) {
    return Math.ceil(Number(milliseconds));
  }
  const value = headers.get("retry-after")?.trim();
  if (value === undefined || value === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * A protobuf JSON duration (`"22s"`, `"0.5s"`) in milliseconds, or undefined when it is not one.
 *
 * @example
 * ```ts
 * durationMilliseconds("10.5s"); // 10500
 * ```
 */
export function durationMilliseconds(duration: unknown): number | undefined {
  if (typeof duration !== "string") return undefined;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(duration.trim());
  return match?.[1] === undefined ? undefined : Math.ceil(Number(match[1]) * 1000);
}
