/**
 * Reading the Gemini API's answers: a `GenerateContentResponse` (whole, or one per SSE event when
 * streaming), prompt blocks, and error bodies with their `RetryInfo` and `ErrorInfo` details.
 *
 * @module
 */
import type { ToolCall, Usage } from "@freehold/api";
import { newToolCallId, tokenCount } from "../../assistant-result.ts";
import { asArray, asRecord, asString } from "../../json-value.ts";
import type { FinishReason } from "../../language-model.ts";
import type { ProviderErrorBody } from "../../model-error.ts";
import { durationMilliseconds } from "../../retry-after.ts";

const contentFilterReasons = new Set([
  "SAFETY",
  "RECITATION",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
  "IMAGE_RECITATION",
]);

/** Gemini's `finishReason` as a {@link FinishReason}. */
export function geminiFinishReason(reason: unknown): FinishReason {
  if (reason === "STOP") return "stop";
  if (reason === "MAX_TOKENS") return "length";
  if (typeof reason === "string" && contentFilterReasons.has(reason)) return "content-filter";
  return "other";
}

/** Reads an error body: `{error: {code, message, status, details}}`, or plain text. */
export function parseGeminiError(body: unknown): ProviderErrorBody {
  const record = asRecord(body);
  const error = asRecord(asArray(body)[0])?.error ?? record?.error;
  const fields = asRecord(error);
  const message = asString(fields?.message) ?? asString(body);
  const type = asString(fields?.status);
  let code: string | undefined;
  let retryAfterMs: number | undefined;
  for (const value of asArray(fields?.details)) {
    const detail = asRecord(value);
    const kind = asString(detail?.["@type"]) ?? "";
    if (kind.endsWith("google.rpc.ErrorInfo")) code ??= asString(detail?.reason);
    if (kind.endsWith("google.rpc.RetryInfo")) retryAfterMs = durationMilliseconds(detail?.retryDelay);
  }
  return {
    ...(message === undefined || message === "" ? {} : { message: message.slice(0, 1000) }),
    ...(type === undefined ? {} : { type }),
    ...(code === undefined ? {} : { code }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

/** What one `GenerateContentResponse` holds. */
export interface GeminiResponseChunk {
  readonly text: string;
  /** Tool calls with the thought signature Gemini attached, to send back on the next call. */
  readonly toolCalls: readonly { toolCall: ToolCall; thoughtSignature: string | undefined }[];
  readonly finishReason: FinishReason | undefined;
  readonly usage: Usage | undefined;
  readonly model: string | undefined;
  /** Why the prompt was refused, when Gemini answered with no candidate at all. */
  readonly blockReason: string | undefined;
}

function usageOf(value: unknown): Usage | undefined {
  const usage = asRecord(value);
  if (usage === undefined) return undefined;
  return {
    inputTokens: tokenCount(usage.promptTokenCount) + tokenCount(usage.toolUsePromptTokenCount),
    outputTokens: tokenCount(usage.candidatesTokenCount) + tokenCount(usage.thoughtsTokenCount),
  };
}

/**
 * Reads one response, or returns undefined when the body is not one.
 *
 * @example
 * ```ts
 * const chunk = parseGeminiResponse(json);
 * ```
 */
export function parseGeminiResponse(body: unknown): GeminiResponseChunk | undefined {
  const record = asRecord(body);
  if (record === undefined) return undefined;
  const candidate = asRecord(asArray(record.candidates)[0]);
  if (candidate === undefined && record.promptFeedback === undefined && record.usageMetadata === undefined) {
    return undefined;
  }
  let text = "";
  const toolCalls: { toolCall: ToolCall; thoughtSignature: string | undefined }[] = [];
  for (const value of asArray(asRecord(candidate?.content)?.parts)) {
    const part = asRecord(value);
    if (part === undefined || part.thought === true) continue;
    const call = asRecord(part.functionCall);
    const name = asString(call?.name);
    if (call !== undefined && name !== undefined) {
      const id = asString(call.id);
      toolCalls.push({
        toolCall: {
          id: id === undefined || id === "" ? newToolCallId() : id,
          name,
          arguments: JSON.stringify(asRecord(call.args) ?? {}),
        },
        thoughtSignature: asString(part.thoughtSignature),
      });
    } else {
      text += asString(part.text) ?? "";
    }
  }
  return {
    text,
    toolCalls,
    finishReason:
      candidate?.finishReason === undefined ? undefined : geminiFinishReason(candidate.finishReason),
    usage: usageOf(record.usageMetadata),
    model: asString(record.modelVersion),
    blockReason: candidate === undefined ? asString(asRecord(record.promptFeedback)?.blockReason) : undefined,
  };
}
