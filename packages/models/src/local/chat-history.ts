/**
 * The conversation in node-llama-cpp's terms: Freehold's messages become system, user and model
 * items; an assistant's tool calls and the tool messages that answer them become function calls with
 * their results inside one model item, which the chat wrapper renders in its own syntax
 * (`||call: name({...})` and `||result: ...` for the default model).
 *
 * @module
 */
import type { ChatMessage } from "@freehold/api";
import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelResponse } from "node-llama-cpp";
import type { ToolDefinition } from "../language-model.ts";

/**
 * What opens the transcript of a base model (one without a chat template), which otherwise tends to
 * repeat the question instead of answering it.
 */
export const transcriptPreamble =
  "A conversation between a user and a helpful assistant. The assistant answers briefly.";

/**
 * What follows tool results when the model answers from them: without it, a small model goes on
 * writing more results. It is not part of the answer; earlier answers are rendered with it too.
 */
export const answerCue = "Answer: ";

/** Options of {@link toChatHistory}. */
export interface ChatHistoryOptions {
  /** A system text put first, e.g. {@link transcriptPreamble}. */
  readonly preamble?: string | undefined;
}

/** The text that tells the model which tools it has, added after the leading system messages. */
export function toolsSystemText(tools: readonly ToolDefinition[]): string {
  const lines = tools.map(
    (tool) =>
      `- ${tool.name}: ${tool.description ?? "(no description)"} Arguments (JSON Schema): ` +
      JSON.stringify(tool.inputSchema),
  );
  return [
    "You can call these tools:",
    ...lines,
    'To call a tool, write: ||call: tool_name({"argument": "value"})',
  ].join("\n");
}

/** A tool's result as the wrapper renders it: parsed when it is JSON, else the text. */
function resultValue(content: string): unknown {
  try {
    return JSON.parse(content) as unknown;
  } catch {
    return content;
  }
}

function parameters(argumentsText: string): unknown {
  try {
    return JSON.parse(argumentsText) as unknown;
  } catch {
    return argumentsText;
  }
}

/** True when `item` is a model turn whose last part is a function call (and its result). */
export function endsWithFunctionCall(item: ChatHistoryItem | undefined): boolean {
  return (
    item?.type === "model" &&
    (item.response.at(-1) as { type?: unknown } | undefined)?.type === "functionCall"
  );
}

/**
 * The history for LlamaChat. When the conversation ends with a user or system message, an empty model
 * item follows for the model to fill; when it ends with tool results, the model item that holds them
 * is left open, so the model goes on from the results in the same turn.
 *
 * @example
 * ```ts
 * toChatHistory([{ role: "user", content: "Hi" }], [], { preamble: transcriptPreamble });
 * // [{ type: "system", text: transcriptPreamble }, { type: "user", text: "Hi" }, { type: "model", response: [] }]
 * ```
 */
export function toChatHistory(
  messages: readonly ChatMessage[],
  tools: readonly ToolDefinition[],
  options: ChatHistoryOptions = {},
): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  if (options.preamble !== undefined) history.push({ type: "system", text: options.preamble });
  let toolsAdded = tools.length === 0;
  let openModel: ChatModelResponse | undefined;
  const pendingCalls = new Map<string, ChatModelFunctionCall>();
  const addTools = (): void => {
    if (toolsAdded) return;
    history.push({ type: "system", text: toolsSystemText(tools) });
    toolsAdded = true;
  };
  for (const message of messages) {
    switch (message.role) {
      case "system":
        history.push({ type: "system", text: message.content });
        openModel = undefined;
        break;
      case "user":
        addTools();
        history.push({ type: "user", text: message.content });
        openModel = undefined;
        break;
      case "assistant": {
        addTools();
        const response: ChatModelResponse["response"] = [];
        if (message.content !== "") {
          response.push(endsWithFunctionCall(openModel) ? `${answerCue}${message.content}` : message.content);
        }
        for (const call of message.toolCalls ?? []) {
          const item: ChatModelFunctionCall = {
            type: "functionCall",
            name: call.name,
            params: parameters(call.arguments),
            result: undefined,
          };
          pendingCalls.set(call.id, item);
          response.push(item);
        }
        // An assistant message after tool results continues the same model turn.
        if (openModel === undefined) {
          openModel = { type: "model", response };
          history.push(openModel);
        } else {
          openModel.response.push(...response);
        }
        if ((message.toolCalls ?? []).length === 0) openModel = undefined;
        break;
      }
      case "tool": {
        const call = pendingCalls.get(message.toolCallId);
        const result = resultValue(message.isError === true ? `Error: ${message.content}` : message.content);
        if (call === undefined) {
          // A result whose call is not in the conversation (trimmed away): keep it as a call of its own.
          addTools();
          if (openModel === undefined) {
            openModel = { type: "model", response: [] };
            history.push(openModel);
          }
          openModel.response.push({ type: "functionCall", name: message.name, params: undefined, result });
        } else {
          call.result = result;
          pendingCalls.delete(message.toolCallId);
        }
        break;
      }
    }
  }
  addTools();
  const last = history.at(-1);
  if (last?.type !== "model" || openModel === undefined) history.push({ type: "model", response: [] });
  return history;
}
