/**
 * Reading the Anthropic Messages API's answers: a whole message, the events of a stream
 * (`message_start`, `content_block_*`, `message_delta`, `error`), and error bodies.
 *
 * @module
 */
import type { ToolCall, Usage } from "@freehold/api";
import { assistantResult, tokenCount } from "../../assistant-result.ts";
import { asArray, asRecord, asString } from "../../json-value.ts";
import type { FinishReason, GenerateResult, StreamPart } from "../../language-model.ts";
import type { ProviderErrorBody } from "../../model-error.ts";

/** Anthropic's `stop_reason` as a {@link FinishReason}. */
export function anthropicFinishReason(reason: unknown): FinishReason {
  switch (reason) {
    case "end_turn":
    case "stop_sequence":
      return "stop";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool-calls";
    case "refusal":
      return "content-filter";
    default:
      return "other";
  }
}

/** Input tokens count the cached prompt too: all of it was the model's input. */
function inputTokensOf(usage: Record<string, unknown> | undefined): number {
  return (
    tokenCount(usage?.input_tokens) +
    tokenCount(usage?.cache_creation_input_tokens) +
    tokenCount(usage?.cache_read_input_tokens)
  );
}

/** Reads an error body: `{type: "error", error: {type, message}}`, or plain text. */
export function parseAnthropicError(body: unknown): ProviderErrorBody {
  const error = asRecord(asRecord(body)?.error);
  const message = asString(error?.message) ?? asString(body);
  const type = asString(error?.type);
  return {
    ...(message === undefined || message === "" ? {} : { message: message.slice(0, 1000) }),
    ...(type === undefined ? {} : { type }),
  };
}

function toolCallOf(block: Record<string, unknown>): ToolCall | undefined {
  const id = asString(block.id);
  const name = asString(block.name);
  if (id === undefined || name === undefined) return undefined;
  return { id, name, arguments: JSON.stringify(asRecord(block.input) ?? {}) };
}

/** Reads a whole message, or returns undefined when the body is not one. */
export function parseAnthropicMessage(body: unknown, modelId: string): GenerateResult | undefined {
  const record = asRecord(body);
  if (record === undefined || !Array.isArray(record.content)) return undefined;
  let text = "";
  const toolCalls: ToolCall[] = [];
  for (const value of asArray(record.content)) {
    const block = asRecord(value);
    if (block?.type === "text") text += asString(block.text) ?? "";
    if (block?.type === "tool_use") {
      const call = toolCallOf(block);
      if (call !== undefined) toolCalls.push(call);
    }
  }
  const usage = asRecord(record.usage);
  return assistantResult({
    text,
    toolCalls,
    usage: { inputTokens: inputTokensOf(usage), outputTokens: tokenCount(usage?.output_tokens) },
    finishReason: anthropicFinishReason(record.stop_reason),
    model: asString(record.model) ?? modelId,
  });
}

/** Assembles a streamed message event by event. */
export interface AnthropicStreamAssembler {
  /** The parts one event yields: text deltas, and a tool call when its block stops. */
  push(event: Record<string, unknown>): StreamPart[];
  /** True once `message_stop` arrived. */
  readonly finished: boolean;
  /** The finish part. */
  finish(): StreamPart;
}

/**
 * Creates an assembler. A `tool_use` block's input arrives as `input_json_delta` fragments; the
 * call is complete at its `content_block_stop`.
 *
 * @example
 * ```ts
 * const assembler = createAnthropicStreamAssembler("claude-sonnet-4-5");
 * for (const event of events) yield* assembler.push(event);
 * yield assembler.finish();
 * ```
 */
export function createAnthropicStreamAssembler(modelId: string): AnthropicStreamAssembler {
  let text = "";
  let model: string | undefined;
  let finishReason: FinishReason = "other";
  let finished = false;
  const usage: { -readonly [key in keyof Usage]: number } = { inputTokens: 0, outputTokens: 0 };
  const toolBlocks = new Map<number, { id: string; name: string; json: string; input: string }>();
  const toolCalls: ToolCall[] = [];

  function readUsage(value: unknown): void {
    const record = asRecord(value);
    if (record === undefined) return;
    if (record.input_tokens !== undefined) usage.inputTokens = inputTokensOf(record);
    if (record.output_tokens !== undefined) usage.outputTokens = tokenCount(record.output_tokens);
  }

  return {
    get finished() {
      return finished;
    },

    push(event) {
      const index = typeof event.index === "number" ? event.index : -1;
      switch (event.type) {
        case "message_start": {
          const message = asRecord(event.message);
          model = asString(message?.model);
          readUsage(message?.usage);
          return [];
        }
        case "content_block_start": {
          const block = asRecord(event.content_block);
          if (block?.type === "tool_use") {
            const input = asRecord(block.input) ?? {};
            toolBlocks.set(index, {
              id: asString(block.id) ?? "",
              name: asString(block.name) ?? "",
              json: "",
              input: Object.keys(input).length === 0 ? "" : JSON.stringify(input),
            });
          }
          if (block?.type === "text" && asString(block.text)) {
            const initial = asString(block.text) ?? "";
            text += initial;
            return [{ type: "text-delta", text: initial }];
          }
          return [];
        }
        case "content_block_delta": {
          const delta = asRecord(event.delta);
          if (delta?.type === "text_delta") {
            const piece = asString(delta.text) ?? "";
            text += piece;
            return piece === "" ? [] : [{ type: "text-delta", text: piece }];
          }
          const block = toolBlocks.get(index);
          if (delta?.type === "input_json_delta" && block !== undefined)
            block.json += asString(delta.partial_json) ?? "";
          return [];
        }
        case "content_block_stop": {
          const block = toolBlocks.get(index);
          if (block === undefined) return [];
          toolBlocks.delete(index);
          const toolCall = { id: block.id, name: block.name, arguments: block.json || block.input || "{}" };
          toolCalls.push(toolCall);
          return [{ type: "tool-call", toolCall }];
        }
        case "message_delta":
          finishReason = anthropicFinishReason(asRecord(event.delta)?.stop_reason);
          readUsage(event.usage);
          return [];
        case "message_stop":
          finished = true;
          return [];
        default:
          return [];
      }
    },

    finish() {
      return {
        type: "finish",
        result: assistantResult({
          text,
          toolCalls,
          usage: { ...usage },
          finishReason,
          model: model ?? modelId,
        }),
      };
    },
  };
}
