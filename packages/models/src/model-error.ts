/**
 * Every provider failure becomes one of a few `FreeholdError` codes, so the runtime can branch on
 * the code and on `retryable` whoever served the model. Messages name the provider, the model and the
 * URL (never the API key) and say what to do.
 *
 * @module
 */
import { FreeholdError, type Provider } from "@freehold/api";

/** The codes of model failures. */
export const modelErrorCodes = [
  "model.rate-limit",
  "model.auth",
  "model.context-length",
  "model.content-filter",
  "model.not-found",
  "model.invalid-request",
  "model.provider",
  "model.timeout",
  "model.unreachable",
  "model.aborted",
  "model.configuration",
  "model.local-missing",
  "model.local-load-failed",
] as const;
export type ModelErrorCode = (typeof modelErrorCodes)[number];

/** Which call failed: named in every message. */
export interface ModelCallContext {
  readonly provider: Provider;
  readonly modelId: string;
  readonly url: string;
}

/** What a provider's error body says, in a provider-neutral shape. */
export interface ProviderErrorBody {
  readonly message?: string;
  /** The provider's error type: `rate_limit_error`, `RESOURCE_EXHAUSTED`, `invalid_request_error`. */
  readonly type?: string;
  /** The provider's error code: `context_length_exceeded`, `insufficient_quota`, `API_KEY_INVALID`. */
  readonly code?: string;
  /** A wait the body asks for (Gemini's `RetryInfo`), when the headers name none. */
  readonly retryAfterMs?: number;
}

const contextLengthPattern =
  /context[ _-]?(length|window|size)|maximum context|prompt is too long|too many (input )?tokens|input token count.*exceeds|exceeds? the (maximum|available) (number of tokens|context)|input is too long/i;
const contentFilterPattern = /content[ _-]?(filter|policy|management)|safety|responsible ?ai|moderation/i;
const modelNotFoundPattern =
  /model.*(not found|does not exist|not exist|unknown|not available)|(unknown|invalid) model|no such model/i;
const authPattern = /api[ _-]?key|unauthori[sz]ed|authentication|permission[ _]denied/i;

/** Maps an HTTP status and the provider's error body to a code. */
export function classifyModelError(status: number, body: ProviderErrorBody): ModelErrorCode {
  const text = `${body.type ?? ""} ${body.code ?? ""} ${body.message ?? ""}`;
  if (status === 401 || status === 403) return "model.auth";
  if (status === 404) return "model.not-found";
  if (status === 408) return "model.timeout";
  if (status === 429) return "model.rate-limit";
  if (status === 413) return "model.context-length";
  if (status >= 500 || status === 409) return "model.provider";
  if (contextLengthPattern.test(text)) return "model.context-length";
  if (contentFilterPattern.test(text)) return "model.content-filter";
  if (/API_KEY_INVALID/.test(text) || (status === 400 && authPattern.test(body.code ?? ""))) {
    return "model.auth";
  }
  if (modelNotFoundPattern.test(body.message ?? "")) return "model.not-found";
  return "model.invalid-request";
}

/** The HTTP status an error type stands for, for errors that arrive inside a stream. */
const statusOfStreamErrorType: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  rate_limit_exceeded: 429,
  api_error: 500,
  server_error: 500,
  overloaded_error: 529,
  INVALID_ARGUMENT: 400,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

function who(context: ModelCallContext): string {
  const where = context.url === "" ? "" : ` at ${context.url}`;
  return `${context.provider} model "${context.modelId}"${where}`;
}

function redact(text: string, apiKey: string | undefined): string {
  return apiKey === undefined || apiKey.length < 4 ? text : text.replaceAll(apiKey, "***");
}

function adviceFor(
  code: ModelErrorCode,
  context: ModelCallContext,
  hasKey: boolean,
  retryAfterMs?: number,
): string {
  switch (code) {
    case "model.rate-limit":
      return retryAfterMs === undefined
        ? "Wait and retry, raise the account's rate limit, or add a fallback model."
        : `Retry after ${Math.ceil(retryAfterMs / 1000)}s, raise the account's rate limit, or add a fallback model.`;
    case "model.auth":
      if (!hasKey)
        return "The server wants an API key: set the Model's apiKeySecretRef to a Secret that holds one.";
      return `Check that the Secret named by the Model's apiKeySecretRef holds a valid ${context.provider} API key with access to this model.`;
    case "model.not-found":
      return "Check that spec.model names a model this server serves, and that spec.baseUrl points at the right server.";
    case "model.context-length":
      return "Shorten the conversation or the tool results, lower maxOutputTokens, or use a model with a larger context window.";
    case "model.content-filter":
      return "Rephrase the request, or review the provider's content policy for this deployment.";
    case "model.invalid-request":
      return "Check the model's parameters and the tools' input schemas.";
    case "model.provider":
      return "This is usually temporary: retry later or add a fallback model.";
    default:
      return "";
  }
}

const summaries: Partial<Record<ModelErrorCode, string>> = {
  "model.rate-limit": "is rate-limited",
  "model.auth": "refused the API key",
  "model.not-found": "was not found",
  "model.context-length": "refused a conversation that is too long",
  "model.content-filter": "refused the request by its content filter",
  "model.invalid-request": "rejected the request",
  "model.provider": "failed",
  "model.timeout": "timed out",
};

/** Options of {@link modelErrorFromResponse}. */
export interface ModelErrorInput {
  readonly context: ModelCallContext;
  /** The HTTP status, or undefined for an error that arrived inside a 200 stream. */
  readonly status: number | undefined;
  readonly body: ProviderErrorBody;
  readonly retryAfterMs?: number;
  /** Redacted from the provider's message, should it echo the key. */
  readonly apiKey?: string;
}

/**
 * Builds the error for a provider's error response (or an error event inside a stream).
 *
 * @example
 * ```ts
 * throw modelErrorFromResponse({ context, status: 429, body: { message: "slow down" }, retryAfterMs: 2000 });
 * ```
 */
export function modelErrorFromResponse(input: ModelErrorInput): FreeholdError {
  const { context, body } = input;
  const status = input.status ?? statusOfStreamErrorType[body.type ?? ""] ?? 500;
  const code = classifyModelError(status, body);
  const retryAfterMs = input.retryAfterMs ?? body.retryAfterMs;
  const quotaExhausted =
    code === "model.rate-limit" && /insufficient_quota|billing|credit/i.test(body.code ?? "");
  const retryable =
    (code === "model.rate-limit" && !quotaExhausted) || code === "model.provider" || code === "model.timeout";
  const providerMessage = redact(body.message ?? "no message", input.apiKey);
  const summary = quotaExhausted ? "refused the call: the account's quota is used up" : summaries[code];
  const advice = quotaExhausted
    ? "Add credits or raise the quota at the provider, or add a fallback model."
    : adviceFor(code, context, input.apiKey !== undefined, retryAfterMs);
  const where = input.status === undefined ? "in the stream" : `HTTP ${status}`;
  return new FreeholdError(
    code,
    `${who(context)} ${summary ?? "failed"} (${where}: ${providerMessage}). ${advice}`,
    {
      retryable,
      details: {
        provider: context.provider,
        model: context.modelId,
        url: context.url,
        ...(input.status === undefined ? {} : { status }),
        ...(body.type === undefined ? {} : { providerType: body.type }),
        ...(body.code === undefined ? {} : { providerCode: body.code }),
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      },
    },
  );
}

/** The error for a server that cannot be reached (connection refused, DNS, reset). */
export function unreachableError(context: ModelCallContext, cause: unknown): FreeholdError {
  const systemCode = networkErrorCode(cause);
  return new FreeholdError(
    "model.unreachable",
    `Cannot connect to ${who(context)}${systemCode === undefined ? "" : ` (${systemCode})`}. ` +
      "Check spec.baseUrl, and that the server is running and reachable from the worker.",
    {
      retryable: true,
      cause,
      details: { provider: context.provider, model: context.modelId, url: context.url, systemCode },
    },
  );
}

/** The error for a call that took longer than the Model's `timeoutSeconds`. */
export function timeoutError(context: ModelCallContext, timeoutMs: number): FreeholdError {
  const seconds = Math.round(timeoutMs / 100) / 10;
  return new FreeholdError(
    "model.timeout",
    `${who(context)} did not answer within ${seconds}s. Raise the Model's spec.timeoutSeconds, or check the server's load.`,
    {
      retryable: true,
      details: { provider: context.provider, model: context.modelId, url: context.url, timeoutMs },
    },
  );
}

/** The error for a call its caller cancelled. */
export function abortedError(context: ModelCallContext, reason: unknown): FreeholdError {
  return new FreeholdError("model.aborted", `The call to ${who(context)} was cancelled.`, {
    cause: reason,
    details: { provider: context.provider, model: context.modelId, url: context.url },
  });
}

/** The error for a 2xx response whose body is not what the provider's API returns. */
export function invalidResponseError(
  context: ModelCallContext,
  problem: string,
  cause?: unknown,
): FreeholdError {
  return new FreeholdError(
    "model.provider",
    `${who(context)} sent a response Freehold cannot read (${problem}). ` +
      "Check that spec.provider matches the server's API; retry later if the server was restarting.",
    {
      retryable: true,
      cause,
      details: { provider: context.provider, model: context.modelId, url: context.url },
    },
  );
}

/** The system error code (`ECONNREFUSED`) somewhere in a fetch failure's cause chain. */
export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const { code, cause, errors } = current as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === "string" && code !== "") return code;
    current = cause ?? (Array.isArray(errors) ? (errors[0] as unknown) : undefined);
  }
  return undefined;
}
