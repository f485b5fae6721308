/**
 * Reading the chat completions API's answers: a whole completion, the chunks of a stream (text
 * deltas, tool-call fragments assembled by index, the usage chunk), and error bodies.
 *
 * @module
 */
import type { ToolCall, Usage } from "@freehold/api";
import { assistantResult, newToolCallId, tokenCount } from "../../assistant-result.ts";
import { asArray, asCode, asRecord, asString } from "../../json-value.ts";
import type { FinishReason, GenerateResult, StreamPart } from "../../language-model.ts";
import type { ProviderErrorBody } from "../../model-error.ts";

/** OpenAI's `finish_reason` as a {@link FinishReason}. */
export function openAiFinishReason(reason: unknown): FinishReason {
  switch (reason) {
    case "stop":
      return "stop";
    case "length":
      return "length";
    case "tool_calls":
    case "function_call":
      return "tool-calls";
    case "content_filter":
      return "content-filter";
    default:
      return "other";
  }
}

function usageOf(value: unknown): Usage {
  const usage = asRecord(value);
  return {
    inputTokens: tokenCount(usage?.prompt_tokens),
    outputTokens: tokenCount(usage?.completion_tokens),
  };
}

/** Reads an error body: `{error: {message, type, code}}`, `{error: "text"}`, or plain text. */
export function parseOpenAiError(body: unknown): ProviderErrorBody {
  const record = asRecord(body);
  // OpenAI nests the error; vLLM's older releases put its fields at the top (`object: "error"`).
  const error = asRecord(record?.error) ?? (asString(record?.message) === undefined ? undefined : record);
  if (error !== undefined) {
    const message = asString(error.message);
    const type = asString(error.type);
    const code = asCode(error.code);
    return {
      ...(message === undefined ? {} : { message: message.slice(0, 1000) }),
      ...(type === undefined ? {} : { type }),
      ...(code === undefined ? {} : { code }),
    };
  }
  const message = asString(record?.error) ?? asString(body);
  return message === undefined || message === "" ? {} : { message: message.slice(0, 1000) };
}

/**
 * Reads a whole completion, or returns undefined when the body is not one (the caller then reports
 * an unreadable response).
 */
export function parseOpenAiChatCompletion(body: unknown, modelId: string): GenerateResult | undefined {
  const record = asRecord(body);
  const choice = asRecord(asArray(record?.choices)[0]);
  const message = asRecord(choice?.message);
  if (message === undefined) return undefined;
  const toolCalls: ToolCall[] = asArray(message.tool_calls).flatMap((value) => {
    const call = asRecord(value);
    const invoked = asRecord(call?.function);
    const name = asString(invoked?.name);
    if (name === undefined) return [];
    const argumentsText = asString(invoked?.arguments) ?? "";
    return [{ id: asString(call?.id) || newToolCallId(), name, arguments: argumentsText || "{}" }];
  });
  return assistantResult({
    text: asString(message.content) ?? asString(message.refusal) ?? "",
    toolCalls,
    usage: usageOf(record?.usage),
    finishReason: openAiFinishReason(choice?.finish_reason),
    model: asString(record?.model) ?? modelId,
  });
}

interface PartialToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** Assembles a streamed completion chunk by chunk. */
export interface OpenAiStreamAssembler {
  /** The parts one chunk yields right away (text deltas). */
  push(chunk: unknown): StreamPart[];
  /** True once a chunk carried a `finish_reason`. */
  readonly finished: boolean;
  /** The tool calls, then the finish part. */
  finish(): StreamPart[];
}

/**
 * Creates an assembler. Tool-call fragments are joined by their `index`: the first fragment of a
 * call carries its id and name, later ones carry pieces of the arguments.
 *
 * @example
 * ```ts
 * const assembler = createOpenAiStreamAssembler("gpt-4o-mini");
 * for (const chunk of chunks) yield* assembler.push(chunk);
 * yield* assembler.finish();
 * ```
 */
export function createOpenAiStreamAssembler(modelId: string): OpenAiStreamAssembler {
  let text = "";
  let model: string | undefined;
  let finishReason: FinishReason | undefined;
  let usage: Usage = { inputTokens: 0, outputTokens: 0 };
  const toolCalls = new Map<number, PartialToolCall>();

  /** Servers that send no `index` (older Ollama) send each call whole, or start each with its name. */
  function addToolCallFragment(value: unknown): void {
    const fragment = asRecord(value);
    const invoked = asRecord(fragment?.function);
    const id = asString(fragment?.id);
    const name = asString(invoked?.name) ?? "";
    const index =
      typeof fragment?.index === "number"
        ? fragment.index
        : name === ""
          ? Math.max(0, toolCalls.size - 1)
          : toolCalls.size;
    const call = toolCalls.get(index) ?? { id: "", name: "", arguments: "" };
    if (id !== undefined && id !== "") call.id = id;
    call.name += name;
    call.arguments += asString(invoked?.arguments) ?? "";
    toolCalls.set(index, call);
  }

  return {
    get finished() {
      return finishReason !== undefined;
    },

    push(chunk) {
      const record = asRecord(chunk);
      model ??= asString(record?.model);
      if (record?.usage !== undefined && record.usage !== null) usage = usageOf(record.usage);
      const parts: StreamPart[] = [];
      for (const value of asArray(record?.choices)) {
        const choice = asRecord(value);
        const delta = asRecord(choice?.delta);
        const content = asString(delta?.content) ?? asString(delta?.refusal);
        if (content !== undefined && content !== "") {
          text += content;
          parts.push({ type: "text-delta", text: content });
        }
        for (const fragment of asArray(delta?.tool_calls)) addToolCallFragment(fragment);
        if (choice?.finish_reason !== undefined && choice.finish_reason !== null) {
          finishReason = openAiFinishReason(choice.finish_reason);
        }
      }
      return parts;
    },

    finish() {
      const calls: ToolCall[] = [...toolCalls.entries()]
        .sort(([left], [right]) => left - right)
        .map(([, call]) => ({
          id: call.id || newToolCallId(),
          name: call.name,
          arguments: call.arguments || "{}",
        }));
      const result = assistantResult({
        text,
        toolCalls: calls,
        usage,
        finishReason: finishReason ?? "other",
        model: model ?? modelId,
      });
      return [
        ...calls.map((toolCall): StreamPart => ({ type: "tool-call", toolCall })),
        { type: "finish", result },
      ];
    },
  };
}
