/**
 * Freehold's conversation in the Anthropic Messages API wire format: system text apart, tool calls
 * as `tool_use` blocks of the assistant, tool results as `tool_result` blocks of a user turn, and
 * consecutive turns of one role merged.
 *
 * @module
 */
import type { ChatMessage, ModelParameters } from "@freehold/api";
import { toolArgumentsObject } from "../../assistant-result.ts";
import type { GenerateRequest } from "../../language-model.ts";

/** A content block Freehold sends. */
export type AnthropicContentBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> }
  | { type: "tool_result"; tool_use_id: string; content: string; is_error?: boolean };

/** One turn of the conversation. */
export interface AnthropicMessage {
  role: "user" | "assistant";
  content: AnthropicContentBlock[];
}

/** The output limit Anthropic requires on every call when the Model sets none. */
export const defaultAnthropicMaxTokens = 4096;

function blocksOf(message: Exclude<ChatMessage, { role: "system" }>): AnthropicContentBlock[] {
  switch (message.role) {
    case "user":
      return message.content === "" ? [] : [{ type: "text", text: message.content }];
    case "assistant":
      return [
        ...(message.content === "" ? [] : [{ type: "text" as const, text: message.content }]),
        ...(message.toolCalls ?? []).map((call) => ({
          type: "tool_use" as const,
          id: call.id,
          name: call.name,
          input: toolArgumentsObject(call.arguments),
        })),
      ];
    case "tool":
      return [
        {
          type: "tool_result",
          tool_use_id: message.toolCallId,
          content: message.content,
          ...(message.isError === true ? { is_error: true } : {}),
        },
      ];
  }
}

/**
 * The system text and the turns of a conversation.
 *
 * @example
 * ```ts
 * const { system, messages } = toAnthropicMessages(conversation);
 * ```
 */
export function toAnthropicMessages(conversation: readonly ChatMessage[]): {
  system: string | undefined;
  messages: AnthropicMessage[];
} {
  const system: string[] = [];
  const messages: AnthropicMessage[] = [];
  for (const message of conversation) {
    if (message.role === "system") {
      if (message.content !== "") system.push(message.content);
      continue;
    }
    const role = message.role === "assistant" ? "assistant" : "user";
    const content = blocksOf(message);
    if (content.length === 0) continue;
    const last = messages.at(-1);
    if (last?.role === role) last.content.push(...content);
    else messages.push({ role, content });
  }
  return { system: system.length === 0 ? undefined : system.join("\n\n"), messages };
}

/**
 * The body of `POST /v1/messages`.
 *
 * @example
 * ```ts
 * anthropicRequestBody("claude-sonnet-4-5", request, { maxOutputTokens: 1024 }, false);
 * ```
 */
export function anthropicRequestBody(
  modelId: string,
  request: GenerateRequest,
  parameters: ModelParameters,
  stream: boolean,
): Record<string, unknown> {
  const { system, messages } = toAnthropicMessages(request.messages);
  const tools = request.tools ?? [];
  return {
    model: modelId,
    max_tokens: parameters.maxOutputTokens ?? defaultAnthropicMaxTokens,
    ...(system === undefined ? {} : { system }),
    messages,
    ...(tools.length === 0
      ? {}
      : {
          tools: tools.map((tool) => ({
            name: tool.name,
            ...(tool.description === undefined ? {} : { description: tool.description }),
            input_schema: tool.inputSchema,
          })),
        }),
    // Anthropic's temperature runs from 0 to 1; the Model resource allows up to 2 for every provider.
    ...(parameters.temperature === undefined ? {} : { temperature: Math.min(1, parameters.temperature) }),
    ...(parameters.topP === undefined ? {} : { top_p: parameters.topP }),
    ...(parameters.stop === undefined ? {} : { stop_sequences: parameters.stop }),
    ...(stream ? { stream: true } : {}),
  };
}
