/**
 * From errors to HTTP responses: one table maps a {@link FreeholdError}'s code to a status, and every
 * error leaves the gateway as JSON `{code, message, details}`, never as a stack trace.
 *
 * @module
 */
import { FreeholdError, isFreeholdError, type SerializedError } from "@freehold/api";
import { isOutOfMemoryReply, runsExceededCode, storeFullCode, storeFullError } from "@freehold/handoff";
import { a2aAgentNotFoundCode } from "./a2a/a2a-exposure.ts";
import { unsupportedMediaTypeCode } from "./edge/json-bodies.ts";
import { misdirectedCode } from "./edge/loopback-host.ts";
import { originForbiddenCode } from "./edge/origin-check.ts";
import { rateLimitedCode } from "./edge/rate-limit.ts";
import { tooManyStreamsCode } from "./edge/stream-limit.ts";
import { methodNotAllowedCode } from "./method-not-allowed.ts";

/** Codes with a status of their own, looked up before the suffix rules. */
const codeStatuses: Readonly<Record<string, number>> = {
  // A tenant's runsPerMinute: retry after the minute (Retry-After).
  [runsExceededCode]: 429,
  // Redis refuses writes past maxmemory: retry later (Retry-After).
  [storeFullCode]: 503,
  // The edge: a body that is not JSON, a foreign Origin, a foreign Host on a loopback gateway,
  // a caller over its rate or its open event streams (Retry-After).
  [unsupportedMediaTypeCode]: 415,
  [originForbiddenCode]: 403,
  [misdirectedCode]: 421,
  [rateLimitedCode]: 429,
  [tooManyStreamsCode]: 429,
  // A path the gateway serves, with a method it does not serve there (Allow lists those it does).
  [methodNotAllowedCode]: 405,
  // A2A: an agent that is not exposed (spec.a2a.enabled) is not found; a card needs the public URL.
  [a2aAgentNotFoundCode]: 404,
  "a2a.public-url-unavailable": 503,
};

/**
 * Error codes to HTTP statuses, for codes without an entry of their own: the first rule whose
 * pattern matches the code wins. Codes are `<thing>.<what-happened>`, so the suffix decides.
 */
const statusRules: readonly (readonly [pattern: RegExp, status: number])[] = [
  [/\.unauthenticated$/, 401],
  [/\.forbidden$/, 403],
  [/[.-]not-found$/, 404],
  [/\.too-large$/, 413],
  [/\.unsupported-media-type$/, 415],
  // The resource is there, but not in a state that allows the action.
  [
    /\.(already-[a-z-]+|finished|exists|conflict|stale|stale-item|precondition-failed|not-claimed-by-you)$/,
    409,
  ],
  // The request is well-formed but names something that cannot be done.
  [/\.unprocessable$/, 422],
  [/\.(invalid|malformed)(-[a-z-]+)?$/, 400],
  [/\.(unavailable|timeout)$/, 503],
];

/** The HTTP status of an error code; 500 when no rule matches. */
export function statusOfCode(code: string): number {
  const status = codeStatuses[code];
  if (status !== undefined) return status;
  for (const [pattern, status] of statusRules) {
    if (pattern.test(code)) return status;
  }
  return 500;
}

/** True when an error from a Redis client means Redis cannot be reached. */
function isRedisDown(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return (
    code === "ECONNREFUSED" ||
    code === "ECONNRESET" ||
    code === "ETIMEDOUT" ||
    /Connection is closed|max retries per request|Stream isn't writeable|Command timed out/i.test(
      error.message,
    )
  );
}

/**
 * Any error as a {@link FreeholdError} fit for a response: Freehold errors as they are, Redis being
 * down as `redis.unavailable` (503, retryable), Redis refusing writes because it is full as
 * `store.full` (503, retryable), anything else as `gateway.internal` (500) with a message that hides
 * internals.
 */
export function toResponseError(error: unknown): FreeholdError {
  if (isFreeholdError(error)) return error;
  if (isOutOfMemoryReply(error)) return storeFullError(error, "the gateway could not write to Redis");
  if (isRedisDown(error)) {
    return new FreeholdError("redis.unavailable", "the gateway cannot reach Redis; retry shortly", {
      retryable: true,
      cause: error,
    });
  }
  return new FreeholdError("gateway.internal", "the gateway failed to handle the request; see its log", {
    cause: error,
  });
}

/** Seconds to wait before retrying, for a 429 or 503: the error's `details.retryAfterSeconds`, or 1. */
function retryAfter(error: FreeholdError): string {
  const seconds = error.details?.retryAfterSeconds;
  return typeof seconds === "number" && Number.isFinite(seconds) && seconds > 0
    ? String(Math.ceil(seconds))
    : "1";
}

/**
 * The response for an error: its status from the table and the `{code, message, details}` body;
 * a 429 or 503 says when to retry (`Retry-After`).
 */
export function errorResponse(error: unknown): Response {
  const freeholdError = toResponseError(error);
  const body: SerializedError = freeholdError.toJSON();
  const headers: Record<string, string> = { "content-type": "application/json" };
  const status = statusOfCode(freeholdError.code);
  if (status === 429 || status === 503) headers["retry-after"] = retryAfter(freeholdError);
  return new Response(JSON.stringify(body), { status, headers });
}
