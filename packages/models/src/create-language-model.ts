/**
 * The factory: a Model's spec in, a {@link LanguageModel} out, with the provider's wire API, the API
 * key from its Secret, retries, timeouts and fallbacks.
 *
 * @module
 */
import {
  FreeholdError,
  isFreeholdError,
  type ModelSpec,
  type Provider,
  type SecretKeySelector,
} from "@freehold/api";
import { withFallbacks } from "./fallback-model.ts";
import type { LanguageModel } from "./language-model.ts";
import { createLocalModel } from "./local/local-model.ts";
import { createModelEndpoint, type ApiKeySource, type ModelEndpoint } from "./model-endpoint.ts";
import type { ProviderErrorBody } from "./model-error.ts";
import {
  anthropicHeaders,
  createAnthropicMessagesModel,
} from "./providers/anthropic/anthropic-messages-model.ts";
import { parseAnthropicError } from "./providers/anthropic/anthropic-messages-response.ts";
import { createGeminiModel, geminiHeaders } from "./providers/gemini/gemini-model.ts";
import { parseGeminiError } from "./providers/gemini/gemini-response.ts";
import { createOpenAiChatModel } from "./providers/openai/openai-chat-model.ts";
import { parseOpenAiError } from "./providers/openai/openai-chat-response.ts";
import { withRetries, type RetryOptions } from "./retrying-model.ts";

/** Options of {@link createLanguageModel}. */
export interface CreateLanguageModelOptions {
  /** Reads the Secret key named by `spec.apiKeySecretRef`. Required when the spec names one. */
  readonly resolveSecret?: (ref: SecretKeySelector) => Promise<string>;
  /** The fetch to call providers with. Default: `httpFetch`, over `node:http`. */
  readonly fetch?: typeof fetch;
  /** Already-built models for `spec.fallbacks`, in the same order. */
  readonly fallbacks?: readonly LanguageModel[];
  /** For provider `local`: where fetched GGUF models live. */
  readonly modelsDirectory?: string;
  /** Backoff tuning; the number of retries and the timeout come from the spec. */
  readonly retry?: Pick<RetryOptions, "initialDelayMs" | "maxDelayMs" | "maxRetryAfterMs" | "random">;
}

/** The base URL of each hosted provider, used when `spec.baseUrl` is absent. */
export const defaultBaseUrls: Readonly<Record<Exclude<Provider, "openai-compatible" | "local">, string>> = {
  openai: "https://api.openai.com/v1",
  anthropic: "https://api.anthropic.com/v1",
  gemini: "https://generativelanguage.googleapis.com/v1beta",
};

function configurationError(spec: ModelSpec, message: string): FreeholdError {
  return new FreeholdError("model.configuration", message, {
    details: { provider: spec.provider, model: spec.model },
  });
}

function apiKeySource(spec: ModelSpec, options: CreateLanguageModelOptions): ApiKeySource {
  const ref = spec.apiKeySecretRef;
  const { resolveSecret } = options;
  if (ref === undefined) return { get: () => Promise.resolve(undefined), invalidate: () => undefined };
  if (resolveSecret === undefined) {
    throw configurationError(
      spec,
      `${spec.provider} model "${spec.model}" names its API key in Secret "${ref.name}" (key "${ref.key}"), ` +
        "but no resolveSecret option was given to read it. Pass resolveSecret to createLanguageModel.",
    );
  }
  const read = resolveSecret;
  let pending: Promise<string> | undefined;
  async function resolve(selector: SecretKeySelector): Promise<string> {
    try {
      return (await read(selector)).trim();
    } catch (error) {
      pending = undefined;
      if (isFreeholdError(error)) throw error;
      throw new FreeholdError(
        "model.auth",
        `Cannot read the API key of ${spec.provider} model "${spec.model}" from Secret "${selector.name}" ` +
          `(key "${selector.key}"): ${error instanceof Error ? error.message : String(error)}. ` +
          "Create the Secret in the Model's namespace, or fix the Model's apiKeySecretRef.",
        { cause: error, details: { provider: spec.provider, model: spec.model, secret: selector } },
      );
    }
  }
  return {
    get: () => (pending ??= resolve(ref)),
    invalidate: () => {
      pending = undefined;
    },
  };
}

function endpointFor(
  spec: ModelSpec,
  options: CreateLanguageModelOptions,
  baseUrl: string,
  wire: {
    headers: (apiKey: string | undefined) => Record<string, string>;
    parseError: (body: unknown) => ProviderErrorBody;
  },
): ModelEndpoint {
  return createModelEndpoint({
    provider: spec.provider,
    modelId: spec.model,
    baseUrl: baseUrl.replace(/\/+$/, ""),
    apiKey: apiKeySource(spec, options),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...wire,
  });
}

function bearer(apiKey: string | undefined): Record<string, string> {
  return apiKey === undefined || apiKey === "" ? {} : { authorization: `Bearer ${apiKey}` };
}

/** The model of the spec's provider, without retries or fallbacks. */
function createProviderModel(spec: ModelSpec, options: CreateLanguageModelOptions): LanguageModel {
  const parameters = spec.parameters === undefined ? {} : { parameters: spec.parameters };
  switch (spec.provider) {
    case "local":
      return createLocalModel(
        spec,
        options.modelsDirectory === undefined ? {} : { modelsDirectory: options.modelsDirectory },
      );
    case "openai":
    case "openai-compatible": {
      const baseUrl = spec.baseUrl ?? (spec.provider === "openai" ? defaultBaseUrls.openai : undefined);
      if (baseUrl === undefined) {
        throw configurationError(
          spec,
          `openai-compatible model "${spec.model}" has no baseUrl. Set spec.baseUrl to the server's API, ` +
            "e.g. http://vllm.models:8000/v1 or http://localhost:11434/v1 for Ollama.",
        );
      }
      const endpoint = endpointFor(spec, options, baseUrl, { headers: bearer, parseError: parseOpenAiError });
      return createOpenAiChatModel({ endpoint, ...parameters });
    }
    case "anthropic": {
      const baseUrl = spec.baseUrl ?? defaultBaseUrls.anthropic;
      const endpoint = endpointFor(spec, options, baseUrl, {
        headers: anthropicHeaders,
        parseError: parseAnthropicError,
      });
      return createAnthropicMessagesModel({ endpoint, ...parameters });
    }
    case "gemini": {
      const baseUrl = spec.baseUrl ?? defaultBaseUrls.gemini;
      const endpoint = endpointFor(spec, options, baseUrl, {
        headers: geminiHeaders,
        parseError: parseGeminiError,
      });
      return createGeminiModel({ endpoint, ...parameters });
    }
  }
}

/**
 * Creates the model a Model resource declares: OpenAI, any OpenAI-compatible server, Anthropic,
 * Gemini, or a local GGUF model; with `spec.timeoutSeconds` per attempt, `spec.maxRetries` retries
 * of retryable failures, and the given fallbacks.
 *
 * @throws FreeholdError `model.configuration` when the spec cannot work (no baseUrl for
 *   openai-compatible, an apiKeySecretRef without `resolveSecret`).
 * @example
 * ```ts
 * const model = createLanguageModel(ModelSpec.parse({ provider: "openai", model: "gpt-4o-mini",
 *   apiKeySecretRef: { name: "openai", key: "api-key" } }), { resolveSecret: (ref) => readSecret(ref) });
 * const { message, usage } = await model.generate({ messages: [{ role: "user", content: "Hi" }] });
 * ```
 */
export function createLanguageModel(
  spec: ModelSpec,
  options: CreateLanguageModelOptions = {},
): LanguageModel {
  const model = withRetries(createProviderModel(spec, options), {
    maxRetries: spec.maxRetries,
    timeoutMs: spec.timeoutSeconds * 1000,
    ...options.retry,
  });
  const fallbacks = options.fallbacks ?? [];
  return fallbacks.length === 0 ? model : withFallbacks(model, fallbacks);
}
