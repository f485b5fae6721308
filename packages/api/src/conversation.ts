/**
 * The conversation of a run, as every part passes it around: messages, tool calls, token usage.
 * Providers translate to and from their own wire formats; the run store keeps these.
 *
 * @module
 */
import { z } from "zod";

/** A tool call the model asked for. `arguments` is the JSON text exactly as the model wrote it. */
export const ToolCall = z.object({
  id: z.string().min(1).describe("The call's id, unique within the run; tool results refer to it."),
  name: z.string().min(1).describe("The tool's name as the model saw it."),
  arguments: z.string().describe("The arguments: JSON text as the model wrote it, possibly invalid."),
});
export type ToolCall = z.infer<typeof ToolCall>;

export const SystemMessage = z.object({ role: z.literal("system"), content: z.string() });
export const UserMessage = z.object({ role: z.literal("user"), content: z.string() });
export const AssistantMessage = z.object({
  role: z.literal("assistant"),
  content: z.string().describe("The text the model wrote; empty when it only called tools."),
  toolCalls: z.array(ToolCall).optional(),
});
export const ToolMessage = z.object({
  role: z.literal("tool"),
  toolCallId: z.string().min(1),
  name: z.string().min(1),
  content: z.string().describe("The result as text for the model: the tool's text content, or the error."),
  isError: z.boolean().optional().describe("True when the call failed; the content says why."),
});

/** One message of a conversation. */
export const ChatMessage = z.discriminatedUnion("role", [
  SystemMessage,
  UserMessage,
  AssistantMessage,
  ToolMessage,
]);
export type ChatMessage = z.infer<typeof ChatMessage>;
export type SystemMessage = z.infer<typeof SystemMessage>;
export type UserMessage = z.infer<typeof UserMessage>;
export type AssistantMessage = z.infer<typeof AssistantMessage>;
export type ToolMessage = z.infer<typeof ToolMessage>;

/** Tokens used by one model call, or summed over a run. */
export const Usage = z.object({
  inputTokens: z.int().min(0),
  outputTokens: z.int().min(0),
});
export type Usage = z.infer<typeof Usage>;

/** Adds two usages. */
export function addUsage(left: Usage, right: Usage): Usage {
  return {
    inputTokens: left.inputTokens + right.inputTokens,
    outputTokens: left.outputTokens + right.outputTokens,
  };
}
