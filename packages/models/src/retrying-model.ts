/**
 * Retries and timeouts around any model: each attempt gets the Model's `timeoutSeconds`; a retryable
 * failure (rate limit, 5xx, timeout, refused connection) is tried again after an exponential,
 * jittered backoff that honours the provider's `Retry-After`. A stream is retried only until its
 * first part has been handed out.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { isFreeholdError, startDeadline, type FreeholdError } from "@freehold/api";
import { CallTimeout, errorForAbortedSignal } from "./call-timeout.ts";
import type { GenerateRequest, LanguageModel, StreamPart } from "./language-model.ts";
import type { ModelCallContext } from "./model-error.ts";

/** Options of {@link withRetries}. */
export interface RetryOptions {
  /** Retries after the first attempt (the Model's `spec.maxRetries`). */
  readonly maxRetries: number;
  /** How long one attempt may take (the Model's `spec.timeoutSeconds`, in milliseconds). */
  readonly timeoutMs: number;
  /** The backoff before the first retry; it doubles with every retry. Default 500. */
  readonly initialDelayMs?: number;
  /** The longest backoff. Default 30 000. */
  readonly maxDelayMs?: number;
  /**
   * A `Retry-After` longer than this is not waited for: the call fails now (and falls back, when the
   * Model has fallbacks). Default 60 000.
   */
  readonly maxRetryAfterMs?: number;
  /** Randomness for the jitter, in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

const defaults = { initialDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 60_000, random: Math.random };

/**
 * The wait before retry number `retry` (0 for the first), or undefined when the error should not be
 * retried: half the exponential delay fixed, half random ("equal jitter"), and never less than the
 * provider's `retryAfterMs`.
 *
 * @example
 * ```ts
 * retryDelay(0, error, { maxRetries: 2, timeoutMs: 60_000 }); // 250..500 without Retry-After
 * ```
 */
export function retryDelay(retry: number, error: FreeholdError, options: RetryOptions): number | undefined {
  const { initialDelayMs, maxDelayMs, maxRetryAfterMs, random } = { ...defaults, ...options };
  if (!error.retryable || retry >= options.maxRetries) return undefined;
  const exponential = Math.min(maxDelayMs, initialDelayMs * 2 ** retry);
  const jittered = exponential / 2 + random() * (exponential / 2);
  const retryAfterMs = error.details?.retryAfterMs;
  if (typeof retryAfterMs !== "number") return Math.round(jittered);
  if (retryAfterMs > maxRetryAfterMs) return undefined;
  return Math.round(Math.max(retryAfterMs, jittered));
}

interface Attempt {
  readonly signal: AbortSignal;
  /** The error to throw for what an attempt threw. */
  failure(error: unknown): unknown;
  end(): void;
}

function contextOf(model: LanguageModel): ModelCallContext {
  return { provider: model.provider, modelId: model.modelId, url: "" };
}

function startAttempt(
  model: LanguageModel,
  callerSignal: AbortSignal | undefined,
  timeoutMs: number,
): Attempt {
  const deadline = startDeadline(timeoutMs, callerSignal, () => new CallTimeout(timeoutMs));
  const { signal } = deadline;
  return {
    signal,
    failure(error) {
      // Providers already name their URL; a model that threw something else on abort gets named here.
      if (isFreeholdError(error) || !signal.aborted) return error;
      return errorForAbortedSignal(signal, contextOf(model));
    },
    end() {
      deadline.clear();
    },
  };
}

async function wait(
  model: LanguageModel,
  milliseconds: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  try {
    await sleep(milliseconds, undefined, signal === undefined ? undefined : { signal });
  } catch {
    throw errorForAbortedSignal(signal ?? AbortSignal.abort(), contextOf(model));
  }
}

/**
 * Wraps a model with per-attempt timeouts and retries of retryable failures.
 *
 * @example
 * ```ts
 * const resilient = withRetries(model, { maxRetries: spec.maxRetries, timeoutMs: spec.timeoutSeconds * 1000 });
 * ```
 */
export function withRetries(model: LanguageModel, options: RetryOptions): LanguageModel {
  function nextDelay(retry: number, error: unknown): number | undefined {
    return isFreeholdError(error) ? retryDelay(retry, error, options) : undefined;
  }

  return {
    provider: model.provider,
    modelId: model.modelId,

    async generate(request: GenerateRequest) {
      for (let retry = 0; ; retry++) {
        if (request.signal?.aborted === true) throw errorForAbortedSignal(request.signal, contextOf(model));
        const attempt = startAttempt(model, request.signal, options.timeoutMs);
        let failure: unknown;
        try {
          return await model.generate({ ...request, signal: attempt.signal });
        } catch (error) {
          failure = attempt.failure(error);
        } finally {
          attempt.end();
        }
        const delay = nextDelay(retry, failure);
        if (delay === undefined) throw failure;
        await wait(model, delay, request.signal);
      }
    },

    async *stream(request: GenerateRequest): AsyncGenerator<StreamPart, void, undefined> {
      for (let retry = 0; ; retry++) {
        if (request.signal?.aborted === true) throw errorForAbortedSignal(request.signal, contextOf(model));
        const attempt = startAttempt(model, request.signal, options.timeoutMs);
        let started = false;
        let failure: unknown;
        try {
          for await (const part of model.stream({ ...request, signal: attempt.signal })) {
            started = true;
            yield part;
          }
          return;
        } catch (error) {
          failure = attempt.failure(error);
        } finally {
          attempt.end();
        }
        const delay = started ? undefined : nextDelay(retry, failure);
        if (delay === undefined) throw failure;
        await wait(model, delay, request.signal);
      }
    },
  };
}
