/**
 * The one error class of the platform. Every error carries a string `code` that callers can branch on,
 * a message that tells the user what to do, whether retrying may help, and optional details. Errors
 * that cross a boundary (HTTP, queue, MCP) travel as {@link SerializedError}.
 *
 * @module
 */

/** What an error looks like on the wire: `{code, message, details}`. */
export interface SerializedError {
  readonly code: string;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Options of {@link FreeholdError}. */
export interface FreeholdErrorOptions {
  /** True when the same call may succeed later (rate limit, timeout, a server that is down). */
  readonly retryable?: boolean;
  /** Structured context: the offending field, the resource, the limit that was hit. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** The error this one wraps. */
  readonly cause?: unknown;
}

/**
 * The base error. `code` is a stable, dotted, lower-case string such as `manifest.invalid`.
 *
 * @example
 * ```ts
 * throw new FreeholdError("agent.not-found", 'agent "billing" not found in namespace "acme"; apply it first', {
 *   details: { namespace: "acme", name: "billing" },
 * });
 * ```
 */
export class FreeholdError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: string, message: string, options: FreeholdErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "FreeholdError";
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  /** The wire form: `{code, message, details}`; never the stack or the cause. */
  toJSON(): SerializedError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  /** Rebuilds an error received from another process. */
  static fromJSON(error: SerializedError, options: { retryable?: boolean } = {}): FreeholdError {
    return new FreeholdError(error.code, error.message, {
      ...(error.details === undefined ? {} : { details: error.details }),
      ...options,
    });
  }
}

/** True when `error` is a {@link FreeholdError}, optionally with the given code. */
export function isFreeholdError(error: unknown, code?: string): error is FreeholdError {
  return error instanceof FreeholdError && (code === undefined || error.code === code);
}
