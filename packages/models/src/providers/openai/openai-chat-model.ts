/**
 * A model behind the OpenAI chat completions API: OpenAI itself, or any OpenAI-compatible server
 * (vLLM, Ollama, llama.cpp server, LM Studio) at a base URL.
 *
 * @module
 */
import type { ModelParameters } from "@freehold/api";
import { asRecord } from "../../json-value.ts";
import type { GenerateRequest, LanguageModel } from "../../language-model.ts";
import { invalidResponseError } from "../../model-error.ts";
import type { ModelEndpoint } from "../../model-endpoint.ts";
import { openAiChatRequestBody } from "./openai-chat-request.ts";
import { createOpenAiStreamAssembler, parseOpenAiChatCompletion } from "./openai-chat-response.ts";

function hasError(body: unknown): boolean {
  return (asRecord(body)?.error ?? null) !== null;
}

/** Options of {@link createOpenAiChatModel}. */
export interface OpenAiChatModelOptions {
  /** The endpoint, whose provider is `openai` or `openai-compatible`. */
  readonly endpoint: ModelEndpoint;
  /** The Model's `spec.parameters`; a request's parameters override them field by field. */
  readonly parameters?: ModelParameters;
}

/**
 * Creates a model that calls `POST {baseUrl}/chat/completions`.
 *
 * @example
 * ```ts
 * const model = createOpenAiChatModel({ endpoint });
 * const { message } = await model.generate({ messages: [{ role: "user", content: "Hi" }] });
 * ```
 */
export function createOpenAiChatModel(options: OpenAiChatModelOptions): LanguageModel {
  const { endpoint } = options;
  const maxTokensField = endpoint.provider === "openai" ? "max_completion_tokens" : "max_tokens";

  function body(request: GenerateRequest, stream: boolean): Record<string, unknown> {
    const parameters = { ...options.parameters, ...request.parameters };
    return openAiChatRequestBody({ modelId: endpoint.modelId, request, parameters, stream, maxTokensField });
  }

  return {
    provider: endpoint.provider,
    modelId: endpoint.modelId,

    async generate(request) {
      const answer = await endpoint.post("/chat/completions", body(request, false), request.signal);
      const json = await endpoint.json(answer, request.signal);
      if (hasError(json)) throw endpoint.streamError(answer, json);
      const result = parseOpenAiChatCompletion(json, endpoint.modelId);
      if (result === undefined)
        throw invalidResponseError(answer.context, "no choices[0].message in the body");
      return result;
    },

    async *stream(request) {
      const answer = await endpoint.post("/chat/completions", body(request, true), request.signal);
      const assembler = createOpenAiStreamAssembler(endpoint.modelId);
      for await (const { data } of endpoint.events(answer, request.signal)) {
        if (hasError(data)) throw endpoint.streamError(answer, data);
        yield* assembler.push(data);
      }
      if (!assembler.finished) {
        throw invalidResponseError(answer.context, "the stream ended before the model finished");
      }
      yield* assembler.finish();
    },
  };
}
