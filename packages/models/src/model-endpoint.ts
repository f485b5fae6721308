/**
 * The HTTP side of a provider: POST a JSON body with the provider's auth headers, and turn whatever
 * goes wrong (an error status, a refused connection, a timeout, a body that is not JSON) into a
 * `model.*` error that names the provider, the model and the URL.
 *
 * @module
 */
import { isFreeholdError, type FreeholdError, type Provider } from "@freehold/api";
import { errorIfAborted } from "./call-timeout.ts";
import { httpFetch } from "./http-fetch.ts";
import {
  invalidResponseError,
  modelErrorFromResponse,
  unreachableError,
  type ModelCallContext,
  type ProviderErrorBody,
} from "./model-error.ts";
import { retryAfterMilliseconds } from "./retry-after.ts";
import { readServerSentEvents, type EventSourceMessage } from "./server-sent-events.ts";

/** Where a model's API key comes from; resolved on first use and again after a `model.auth` error. */
export interface ApiKeySource {
  get(): Promise<string | undefined>;
  /** Forgets the key, so the next call resolves it again (the Secret may have been rotated). */
  invalidate(): void;
}

/** Options of {@link createModelEndpoint}. */
export interface ModelEndpointOptions {
  readonly provider: Provider;
  readonly modelId: string;
  /** The API's base URL, without a trailing slash: `https://api.openai.com/v1`. */
  readonly baseUrl: string;
  readonly apiKey: ApiKeySource;
  readonly fetch?: typeof fetch;
  /** The provider's headers for a key (none when the key is undefined). */
  readonly headers: (apiKey: string | undefined) => Record<string, string>;
  /** Reads the provider's error body (parsed JSON, or the raw text when it is not JSON). */
  readonly parseError: (body: unknown) => ProviderErrorBody;
}

/** A response that came back 2xx, with the context to name in later errors. */
export interface EndpointResponse {
  readonly response: Response;
  readonly context: ModelCallContext;
  readonly apiKey: string | undefined;
}

/** One provider API, as the provider's model implementation sees it. */
export interface ModelEndpoint {
  readonly provider: Provider;
  readonly modelId: string;
  /** POSTs `body` as JSON to `baseUrl + path`; throws a `model.*` error unless the answer is 2xx. */
  post(path: string, body: unknown, signal: AbortSignal | undefined): Promise<EndpointResponse>;
  /** The JSON body of a response. */
  json(answer: EndpointResponse, signal: AbortSignal | undefined): Promise<unknown>;
  /** The SSE events of a response, each `data` parsed as JSON (`[DONE]` ends the stream). */
  events(
    answer: EndpointResponse,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<ServerEvent, void, undefined>;
  /** The error for an error object that arrived inside a stream. */
  streamError(answer: EndpointResponse, body: unknown): FreeholdError;
}

/** One SSE event with its data parsed. */
export interface ServerEvent {
  readonly event: string | undefined;
  readonly data: unknown;
}

async function readText(response: Response): Promise<string> {
  try {
    return await response.text();
  } catch {
    return "";
  }
}

function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Creates the HTTP side of one model.
 *
 * @example
 * ```ts
 * const endpoint = createModelEndpoint({ provider: "openai", modelId: "gpt-4o-mini",
 *   baseUrl: "https://api.openai.com/v1", apiKey, headers: (key) => ({ authorization: `Bearer ${key}` }),
 *   parseError: parseOpenAiError });
 * const answer = await endpoint.post("/chat/completions", body, signal);
 * ```
 */
export function createModelEndpoint(options: ModelEndpointOptions): ModelEndpoint {
  const fetchFunction = options.fetch ?? httpFetch;
  const { provider, modelId } = options;

  function failure(
    context: ModelCallContext,
    error: unknown,
    signal: AbortSignal | undefined,
  ): FreeholdError {
    return (
      errorIfAborted(signal, context) ?? (isFreeholdError(error) ? error : unreachableError(context, error))
    );
  }

  return {
    provider,
    modelId,

    async post(path, body, signal) {
      const url = `${options.baseUrl}${path}`;
      const context: ModelCallContext = { provider, modelId, url };
      const alreadyAborted = errorIfAborted(signal, context);
      if (alreadyAborted !== undefined) throw alreadyAborted;
      const apiKey = await options.apiKey.get();
      let response: Response;
      try {
        response = await fetchFunction(url, {
          method: "POST",
          headers: { "content-type": "application/json", ...options.headers(apiKey) },
          body: JSON.stringify(body),
          ...(signal === undefined ? {} : { signal }),
        });
      } catch (error) {
        throw failure(context, error, signal);
      }
      if (response.ok) return { response, context, apiKey };
      const text = await readText(response);
      const aborted = errorIfAborted(signal, context);
      if (aborted !== undefined) throw aborted;
      const error = modelErrorFromResponse({
        context,
        status: response.status,
        body: options.parseError(parseJsonOrText(text)),
        ...optionalRetryAfter(response.headers),
        ...(apiKey === undefined ? {} : { apiKey }),
      });
      if (error.code === "model.auth") options.apiKey.invalidate();
      throw error;
    },

    async json(answer, signal) {
      let text: string;
      try {
        text = await answer.response.text();
      } catch (error) {
        throw failure(answer.context, error, signal);
      }
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw invalidResponseError(answer.context, `the body is not JSON: ${text.slice(0, 200)}`, error);
      }
    },

    async *events(answer, signal) {
      const body = answer.response.body;
      if (body === null) throw invalidResponseError(answer.context, "the response has no body");
      const events = readServerSentEvents(body);
      try {
        for (;;) {
          let next: IteratorResult<EventSourceMessage>;
          try {
            next = await events.next();
          } catch (error) {
            throw (
              errorIfAborted(signal, answer.context) ??
              invalidResponseError(answer.context, "the connection closed in the middle of the stream", error)
            );
          }
          if (next.done === true || next.value.data.trim() === "[DONE]") return;
          const { event, data } = next.value;
          let parsed: unknown;
          try {
            parsed = JSON.parse(data) as unknown;
          } catch (error) {
            throw invalidResponseError(
              answer.context,
              `a stream event is not JSON: ${data.slice(0, 200)}`,
              error,
            );
          }
          yield { event, data: parsed };
        }
      } finally {
        await events.return().catch(() => undefined);
      }
    },

    streamError(answer, body) {
      return modelErrorFromResponse({
        context: answer.context,
        status: undefined,
        body: options.parseError(body),
        ...(answer.apiKey === undefined ? {} : { apiKey: answer.apiKey }),
      });
    },
  };
}

function optionalRetryAfter(headers: Headers): { retryAfterMs?: number } {
  const retryAfterMs = retryAfterMilliseconds(headers);
  return retryAfterMs === undefined ? {} : { retryAfterMs };
}
