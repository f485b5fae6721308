/**
 * Building the result of a model call the same way for every provider: the assistant message (text
 * and tool calls), usage, why it stopped, and which model answered.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import type { ToolCall, Usage } from "@freehold/api";
import type { FinishReason, GenerateResult } from "./language-model.ts";

/** What a provider's response amounts to. */
export interface AssistantTurn {
  readonly text: string;
  readonly toolCalls: readonly ToolCall[];
  readonly usage: Usage;
  readonly finishReason: FinishReason;
  readonly model: string;
}

/**
 * The result of a call. A turn with tool calls finishes with `tool-calls` even when the server said
 * `stop` (several OpenAI-compatible servers do).
 *
 * @example
 * ```ts
 * assistantResult({ text: "Hi", toolCalls: [], usage, finishReason: "stop", model: "gpt-4o-mini" });
 * ```
 */
export function assistantResult(turn: AssistantTurn): GenerateResult {
  const toolCalls = turn.toolCalls.length === 0 ? undefined : [...turn.toolCalls];
  return {
    message: {
      role: "assistant",
      content: turn.text,
      ...(toolCalls === undefined ? {} : { toolCalls }),
    },
    usage: turn.usage,
    finishReason: toolCalls !== undefined && turn.finishReason === "stop" ? "tool-calls" : turn.finishReason,
    model: turn.model,
  };
}

/** A fresh tool call id, for providers that send none (Gemini, some OpenAI-compatible servers). */
export function newToolCallId(): string {
  return `call_${randomUUID().replaceAll("-", "").slice(0, 24)}`;
}

/**
 * The arguments of a tool call as an object, for providers that want one (Anthropic's `input`,
 * Gemini's `args`). Text that is not a JSON object becomes `{}`: the tool's result already told the
 * model what was wrong with it.
 */
export function toolArgumentsObject(argumentsText: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(argumentsText);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/** A non-negative integer token count from a provider's field, or 0. */
export function tokenCount(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}
