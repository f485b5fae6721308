/**
 * Fallbacks: when a model fails with a retryable error after its own retries (or its account's quota
 * is used up), the next model of the Model's `spec.fallbacks` is tried. The result's `model` says
 * which one answered. A stream falls back only until its first part has been handed out.
 *
 * @module
 */
import { FreeholdError, isFreeholdError } from "@freehold/api";
import type { GenerateRequest, LanguageModel, StreamPart } from "./language-model.ts";

/** True when a failure of one model is worth trying on the next. */
export function shouldFallBack(error: unknown): boolean {
  if (!isFreeholdError(error) || error.code === "model.aborted") return false;
  return error.retryable || error.code === "model.rate-limit";
}

interface FailedAttempt {
  readonly provider: string;
  readonly model: string;
  readonly code: string;
}

/** The last model's error, saying which other models failed before it. */
function exhausted(error: unknown, attempts: readonly FailedAttempt[]): unknown {
  if (!isFreeholdError(error) || attempts.length < 2) return error;
  const tried = attempts
    .map((attempt) => `${attempt.provider} "${attempt.model}" (${attempt.code})`)
    .join(", ");
  return new FreeholdError(error.code, `${error.message} Every model failed, in order: ${tried}.`, {
    retryable: error.retryable,
    cause: error,
    details: { ...error.details, attempts },
  });
}

function attemptOf(model: LanguageModel, error: unknown): FailedAttempt {
  return {
    provider: model.provider,
    model: model.modelId,
    code: isFreeholdError(error) ? error.code : "unknown",
  };
}

/**
 * Wraps a model with fallbacks, tried in order. The wrapper keeps the primary's provider and id.
 *
 * @example
 * ```ts
 * const model = withFallbacks(primary, [cheaper, local]);
 * const result = await model.generate({ messages }); // result.model names the one that answered
 * ```
 */
export function withFallbacks(primary: LanguageModel, fallbacks: readonly LanguageModel[]): LanguageModel {
  const models = [primary, ...fallbacks];
  return {
    provider: primary.provider,
    modelId: primary.modelId,

    async generate(request: GenerateRequest) {
      const attempts: FailedAttempt[] = [];
      for (const [index, model] of models.entries()) {
        try {
          return await model.generate(request);
        } catch (error) {
          attempts.push(attemptOf(model, error));
          if (index === models.length - 1 || !shouldFallBack(error)) throw exhausted(error, attempts);
        }
      }
      throw new Error("unreachable: a model list is never empty");
    },

    async *stream(request: GenerateRequest): AsyncGenerator<StreamPart, void, undefined> {
      const attempts: FailedAttempt[] = [];
      for (const [index, model] of models.entries()) {
        let started = false;
        try {
          for await (const part of model.stream(request)) {
            started = true;
            yield part;
          }
          return;
        } catch (error) {
          attempts.push(attemptOf(model, error));
          if (started || index === models.length - 1 || !shouldFallBack(error))
            throw exhausted(error, attempts);
        }
      }
    },
  };
}
