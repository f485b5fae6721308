/**
 * The run's durable conversation as the OpenAI Agents SDK's input items: what the SDK's runner is
 * given to start a turn from. The SDK's model (durable-model.ts) sends the run's own conversation,
 * so these items only have to be the same conversation in the SDK's words.
 *
 * @module
 */
import type { ChatMessage } from "@freehold/api";
import type { AgentInputItem } from "@openai/agents-core";

/**
 * The run's messages as input items (the instructions go as the Agent's `instructions`).
 *
 * @example
 * ```ts
 * await runner.run(agent, toInputItems(turn.state.messages));
 * ```
 */
export function toInputItems(messages: readonly ChatMessage[]): AgentInputItem[] {
  return messages.flatMap((message): AgentInputItem[] => {
    switch (message.role) {
      case "system":
        return [{ role: "system", content: message.content }];
      case "user":
        return [{ role: "user", content: message.content }];
      case "assistant":
        return [
          ...(message.content === ""
            ? []
            : [
                {
                  type: "message" as const,
                  role: "assistant" as const,
                  status: "completed" as const,
                  content: [{ type: "output_text" as const, text: message.content }],
                },
              ]),
          ...(message.toolCalls ?? []).map((call) => ({
            type: "function_call" as const,
            callId: call.id,
            name: call.name,
            arguments: call.arguments,
            status: "completed" as const,
          })),
        ];
      case "tool":
        return [
          {
            type: "function_call_result",
            callId: message.toolCallId,
            name: message.name,
            status: message.isError === true ? "incomplete" : "completed",
            output: { type: "text", text: message.content },
          },
        ];
    }
  });
}
