/**
 * The run's durable conversation as LangChain messages, the state of the graph's `messages`
 * channel. The graph holds a copy: what the model is sent is always the run's own conversation, as
 * last checkpointed (see driver.ts).
 *
 * @module
 */
import type { ChatMessage } from "@freehold/api";
import { parseArguments } from "@freehold/runtime";
import {
  AIMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
  type BaseMessage,
} from "@langchain/core/messages";

type AssistantMessage = Extract<ChatMessage, { role: "assistant" }>;
type ToolResultMessage = Extract<ChatMessage, { role: "tool" }>;

/** An assistant message as an AIMessage whose tool calls keep the run's ids. */
export function toAIMessage(message: AssistantMessage): AIMessage {
  return new AIMessage({
    content: message.content,
    tool_calls: (message.toolCalls ?? []).map((call) => ({
      type: "tool_call" as const,
      id: call.id,
      name: call.name,
      args: parseArguments(call.arguments),
    })),
  });
}

/** A tool result as a ToolMessage (an error result has status `error`). */
export function toToolMessage(message: ToolResultMessage): ToolMessage {
  return new ToolMessage({
    content: message.content,
    tool_call_id: message.toolCallId,
    name: message.name,
    status: message.isError === true ? "error" : "success",
  });
}

/**
 * The run's messages as LangChain messages.
 *
 * @example
 * ```ts
 * await graph.invoke({ messages: toBaseMessages([{ role: "user", content: "Hello" }]) });
 * ```
 */
export function toBaseMessages(messages: readonly ChatMessage[]): BaseMessage[] {
  return messages.map((message): BaseMessage => {
    switch (message.role) {
      case "system":
        return new SystemMessage(message.content);
      case "user":
        return new HumanMessage(message.content);
      case "assistant":
        return toAIMessage(message);
      case "tool":
        return toToolMessage(message);
    }
  });
}
