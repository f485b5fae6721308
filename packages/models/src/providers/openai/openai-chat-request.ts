/**
 * Freehold's conversation in the OpenAI chat completions wire format, which OpenAI and every
 * OpenAI-compatible server (vLLM, Ollama, llama.cpp server, LM Studio) read.
 *
 * @module
 */
import type { ChatMessage, ModelParameters } from "@freehold/api";
import type { GenerateRequest } from "../../language-model.ts";

/** One message as the chat completions API takes it. */
export type OpenAiChatMessage =
  | { role: "system" | "user"; content: string }
  | {
      role: "assistant";
      content: string | null;
      tool_calls?: { id: string; type: "function"; function: { name: string; arguments: string } }[];
    }
  | { role: "tool"; tool_call_id: string; content: string };

/** The wire form of one message. */
export function toOpenAiChatMessage(message: ChatMessage): OpenAiChatMessage {
  switch (message.role) {
    case "system":
    case "user":
      return { role: message.role, content: message.content };
    case "assistant": {
      const toolCalls = message.toolCalls ?? [];
      if (toolCalls.length === 0) return { role: "assistant", content: message.content };
      return {
        role: "assistant",
        content: message.content === "" ? null : message.content,
        tool_calls: toolCalls.map((call) => ({
          id: call.id,
          type: "function",
          function: { name: call.name, arguments: call.arguments },
        })),
      };
    }
    case "tool":
      return { role: "tool", tool_call_id: message.toolCallId, content: message.content };
  }
}

/** Options of {@link openAiChatRequestBody}. */
export interface OpenAiChatRequestOptions {
  readonly modelId: string;
  readonly request: GenerateRequest;
  readonly parameters: ModelParameters;
  readonly stream: boolean;
  /**
   * OpenAI's current name for the output limit is `max_completion_tokens` (reasoning models refuse
   * `max_tokens`); OpenAI-compatible servers read `max_tokens`.
   */
  readonly maxTokensField: "max_completion_tokens" | "max_tokens";
}

/**
 * The body of `POST /chat/completions`.
 *
 * @example
 * ```ts
 * openAiChatRequestBody({ modelId: "gpt-4o-mini", request, parameters: {}, stream: true,
 *   maxTokensField: "max_completion_tokens" });
 * ```
 */
export function openAiChatRequestBody(options: OpenAiChatRequestOptions): Record<string, unknown> {
  const { parameters, request } = options;
  const tools = request.tools ?? [];
  return {
    model: options.modelId,
    messages: request.messages.map(toOpenAiChatMessage),
    ...(tools.length === 0
      ? {}
      : {
          tools: tools.map((tool) => ({
            type: "function",
            function: {
              name: tool.name,
              ...(tool.description === undefined ? {} : { description: tool.description }),
              parameters: tool.inputSchema,
            },
          })),
        }),
    ...(parameters.temperature === undefined ? {} : { temperature: parameters.temperature }),
    ...(parameters.topP === undefined ? {} : { top_p: parameters.topP }),
    ...(parameters.maxOutputTokens === undefined
      ? {}
      : { [options.maxTokensField]: parameters.maxOutputTokens }),
    ...(parameters.seed === undefined ? {} : { seed: parameters.seed }),
    ...(parameters.stop === undefined ? {} : { stop: parameters.stop }),
    ...(options.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
}
