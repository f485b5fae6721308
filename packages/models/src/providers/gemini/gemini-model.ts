/**
 * A model behind the Gemini API: `POST {baseUrl}/models/{model}:generateContent`, and
 * `:streamGenerateContent?alt=sse` for streams.
 *
 * @module
 */
import type { ModelParameters, ToolCall, Usage } from "@freehold/api";
import { assistantResult } from "../../assistant-result.ts";
import { asRecord } from "../../json-value.ts";
import type { FinishReason, GenerateRequest, LanguageModel, StreamPart } from "../../language-model.ts";
import { invalidResponseError, modelErrorFromResponse } from "../../model-error.ts";
import type { EndpointResponse, ModelEndpoint } from "../../model-endpoint.ts";
import { geminiRequestBody } from "./gemini-request.ts";
import { parseGeminiResponse, type GeminiResponseChunk } from "./gemini-response.ts";

/** The headers of a call: the key goes in `x-goog-api-key`, never in the URL. */
export function geminiHeaders(apiKey: string | undefined): Record<string, string> {
  return apiKey === undefined ? {} : { "x-goog-api-key": apiKey };
}

/** Options of {@link createGeminiModel}. */
export interface GeminiModelOptions {
  readonly endpoint: ModelEndpoint;
  /** The Model's `spec.parameters`; a request's parameters override them field by field. */
  readonly parameters?: ModelParameters;
}

/** How many thought signatures the process remembers (oldest forgotten first). */
const rememberedSignatures = 4096;

/**
 * Thought signatures by tool call id, shared by every Gemini model of the process: a caller may build
 * a model per run or per step, and tool call ids are unique.
 */
const signatures = new Map<string, string>();

/**
 * Creates a model that calls the Gemini API. Thought signatures Gemini attaches to function calls are
 * remembered by tool call id and sent back with the conversation, as Gemini 3 requires; calls this
 * process did not see (another worker's, another provider's) get Google's documented placeholder.
 *
 * @example
 * ```ts
 * const model = createGeminiModel({ endpoint });
 * const { message } = await model.generate({ messages: [{ role: "user", content: "Hi" }] });
 * ```
 */
export function createGeminiModel(options: GeminiModelOptions): LanguageModel {
  const { endpoint } = options;
  const modelPath = `/models/${endpoint.modelId.replace(/^models\//, "")}`;

  function remember(chunk: GeminiResponseChunk): ToolCall[] {
    return chunk.toolCalls.map(({ toolCall, thoughtSignature }) => {
      if (thoughtSignature !== undefined) {
        signatures.set(toolCall.id, thoughtSignature);
        if (signatures.size > rememberedSignatures) signatures.delete(signatures.keys().next().value ?? "");
      }
      return toolCall;
    });
  }

  function body(request: GenerateRequest): Record<string, unknown> {
    const parameters = { ...options.parameters, ...request.parameters };
    return geminiRequestBody(request, parameters, (id) => signatures.get(id));
  }

  function check(answer: EndpointResponse, json: unknown): GeminiResponseChunk {
    if (asRecord(json)?.error !== undefined) throw endpoint.streamError(answer, json);
    const chunk = parseGeminiResponse(json);
    if (chunk === undefined) throw invalidResponseError(answer.context, "no candidates in the body");
    if (chunk.blockReason !== undefined) {
      throw modelErrorFromResponse({
        context: answer.context,
        status: answer.response.status,
        body: { message: `the prompt was blocked (${chunk.blockReason})`, type: "content_filter" },
      });
    }
    return chunk;
  }

  return {
    provider: endpoint.provider,
    modelId: endpoint.modelId,

    async generate(request) {
      const answer = await endpoint.post(`${modelPath}:generateContent`, body(request), request.signal);
      const chunk = check(answer, await endpoint.json(answer, request.signal));
      return assistantResult({
        text: chunk.text,
        toolCalls: remember(chunk),
        usage: chunk.usage ?? { inputTokens: 0, outputTokens: 0 },
        finishReason: chunk.finishReason ?? "other",
        model: chunk.model ?? endpoint.modelId,
      });
    },

    async *stream(request) {
      const answer = await endpoint.post(
        `${modelPath}:streamGenerateContent?alt=sse`,
        body(request),
        request.signal,
      );
      let text = "";
      const toolCalls: ToolCall[] = [];
      let usage: Usage = { inputTokens: 0, outputTokens: 0 };
      let finishReason: FinishReason | undefined;
      let model: string | undefined;
      for await (const { data } of endpoint.events(answer, request.signal)) {
        const chunk = check(answer, data);
        usage = chunk.usage ?? usage;
        finishReason = chunk.finishReason ?? finishReason;
        model ??= chunk.model;
        if (chunk.text !== "") {
          text += chunk.text;
          yield { type: "text-delta", text: chunk.text } satisfies StreamPart;
        }
        for (const toolCall of remember(chunk)) {
          toolCalls.push(toolCall);
          yield { type: "tool-call", toolCall } satisfies StreamPart;
        }
      }
      if (finishReason === undefined) {
        throw invalidResponseError(answer.context, "the stream ended before a finishReason");
      }
      yield {
        type: "finish",
        result: assistantResult({ text, toolCalls, usage, finishReason, model: model ?? endpoint.modelId }),
      };
    },
  };
}
