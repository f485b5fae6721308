/**
 * A model behind the Anthropic Messages API (`POST {baseUrl}/messages`).
 *
 * @module
 */
import type { ModelParameters } from "@freehold/api";
import { asRecord } from "../../json-value.ts";
import type { GenerateRequest, LanguageModel } from "../../language-model.ts";
import { invalidResponseError } from "../../model-error.ts";
import type { ModelEndpoint } from "../../model-endpoint.ts";
import { anthropicRequestBody } from "./anthropic-messages-request.ts";
import { createAnthropicStreamAssembler, parseAnthropicMessage } from "./anthropic-messages-response.ts";

/** The API version Freehold speaks, sent as `anthropic-version`. */
export const anthropicApiVersion = "2023-06-01";

/** The headers of a call: the key and the API version. */
export function anthropicHeaders(apiKey: string | undefined): Record<string, string> {
  return {
    "anthropic-version": anthropicApiVersion,
    ...(apiKey === undefined ? {} : { "x-api-key": apiKey }),
  };
}

/** Options of {@link createAnthropicMessagesModel}. */
export interface AnthropicMessagesModelOptions {
  readonly endpoint: ModelEndpoint;
  /** The Model's `spec.parameters`; a request's parameters override them field by field. */
  readonly parameters?: ModelParameters;
}

/**
 * Creates a model that calls the Messages API.
 *
 * @example
 * ```ts
 * const model = createAnthropicMessagesModel({ endpoint });
 * for await (const part of model.stream({ messages })) console.log(part);
 * ```
 */
export function createAnthropicMessagesModel(options: AnthropicMessagesModelOptions): LanguageModel {
  const { endpoint } = options;

  function body(request: GenerateRequest, stream: boolean): Record<string, unknown> {
    return anthropicRequestBody(
      endpoint.modelId,
      request,
      { ...options.parameters, ...request.parameters },
      stream,
    );
  }

  return {
    provider: endpoint.provider,
    modelId: endpoint.modelId,

    async generate(request) {
      const answer = await endpoint.post("/messages", body(request, false), request.signal);
      const json = await endpoint.json(answer, request.signal);
      if (asRecord(json)?.type === "error") throw endpoint.streamError(answer, json);
      const result = parseAnthropicMessage(json, endpoint.modelId);
      if (result === undefined) throw invalidResponseError(answer.context, "no content in the body");
      return result;
    },

    async *stream(request) {
      const answer = await endpoint.post("/messages", body(request, true), request.signal);
      const assembler = createAnthropicStreamAssembler(endpoint.modelId);
      for await (const { data } of endpoint.events(answer, request.signal)) {
        const event = asRecord(data);
        if (event === undefined) continue;
        if (event.type === "error") throw endpoint.streamError(answer, event);
        yield* assembler.push(event);
        if (assembler.finished) break;
      }
      if (!assembler.finished) {
        throw invalidResponseError(answer.context, "the stream ended before message_stop");
      }
      yield assembler.finish();
    },
  };
}
