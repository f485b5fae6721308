/**
 * The conversation in node-llama-cpp's terms: Freehold's messages become system, user and model
 * items; an assistant's tool calls and the tool messages that answer them become function calls with
 * their results inside one model item, which the chat wrapper renders in its own syntax
 * (`||call: name({...})` and `||result:` for the default model; see transcript-chat-wrapper.ts).
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

/** Characters of the user's question restated in the {@link answerCue} at most. */
const maxCueQuestionCharacters = 500;

/**
 * What follows tool results when the model answers from them: the user's question again, then
 * `Answer:`. Without a cue a small model goes on writing more results; behind a bare "Reply to the
 * user:" it lost the question, which sits before a long result, and wrote about anything. Measured
 * with Gemma 3 270M on 14 questions about the quickstart's teams.md: 1 of 14 answers held the asked
 * fact before (4 ran to the token limit, 2 were empty), 11 of 14 with the question restated and the
 * file's lines as text (transcript-chat-wrapper.ts); most of those quote the file's lines.
 * It is not part of the answer; earlier answers are rendered with it too.
 *
 * @example
 * ```ts
 * answerCue("Who leads the platform team?"); // "\nQuestion: Who leads the platform team?\nAnswer:"
 * ```
 */
export function answerCue(question: string): string {
  const collapsed = question.replace(/\s+/g, " ").trim();
  const restated =
    collapsed.length > maxCueQuestionCharacters
      ? `${collapsed.slice(0, maxCueQuestionCharacters)}…`
      : collapsed;
  return `\nQuestion: ${restated}\nAnswer:`;
}

/** Options of {@link toChatHistory}. */
export interface ChatHistoryOptions {
  /** A system text put first, e.g. {@link transcriptPreamble}. */
  readonly preamble?: string | undefined;
  /** A system text put after the conversation's leading system messages, e.g. {@link toolCallInstructions}. */
  readonly instructions?: string | undefined;
}

/** A property list a small model can read: `"city" (string, The city), "days" (integer)`. */
function describeArguments(inputSchema: Readonly<Record<string, unknown>>): string {
  const properties = inputSchema.properties;
  if (typeof properties !== "object" || properties === null) return "none";
  const described = Object.entries(properties as Record<string, unknown>).map(([name, schema]) => {
    const { type, description } = (typeof schema === "object" && schema !== null ? schema : {}) as {
      type?: unknown;
      description?: unknown;
    };
    const details = [
      typeof type === "string" ? type : "value",
      ...(typeof description === "string" ? [description] : []),
    ];
    return `"${name}" (${details.join(", ")})`;
  });
  return described.length === 0 ? "none" : described.join(", ");
}

/**
 * What the model reads before it writes a call of `tool`: that tool only, with its arguments as a
 * plain list. A 270M model fills arguments far better from this than from every tool's JSON Schema
 * (it read "1234" as `": "` with all four schemas of a test, `"1234"` with this).
 */
export function toolCallInstructions(tool: ToolDefinition): string {
  const description = tool.description === undefined ? "" : ` ${tool.description}`;
  return `The assistant calls the tool ${tool.name}:${description} Its arguments: ${describeArguments(tool.inputSchema)}.`;
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
 * toChatHistory([{ role: "user", content: "Hi" }], { preamble: transcriptPreamble });
 * // [{ type: "system", text: transcriptPreamble }, { type: "user", text: "Hi" }, { type: "model", response: [] }]
 * ```
 */
export function toChatHistory(
  messages: readonly ChatMessage[],
  options: ChatHistoryOptions = {},
): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  if (options.preamble !== undefined) history.push({ type: "system", text: options.preamble });
  let instructionsAdded = options.instructions === undefined;
  let question = "";
  let openModel: ChatModelResponse | undefined;
  const pendingCalls = new Map<string, ChatModelFunctionCall>();
  const addInstructions = (): void => {
    if (instructionsAdded || options.instructions === undefined) return;
    history.push({ type: "system", text: options.instructions });
    instructionsAdded = true;
  };
  for (const message of messages) {
    switch (message.role) {
      case "system":
        history.push({ type: "system", text: message.content });
        openModel = undefined;
        break;
      case "user":
        addInstructions();
        history.push({ type: "user", text: message.content });
        question = message.content;
        openModel = undefined;
        break;
      case "assistant": {
        addInstructions();
        const response: ChatModelResponse["response"] = [];
        if (message.content !== "") {
          response.push(
            endsWithFunctionCall(openModel) ? `${answerCue(question)} ${message.content}` : message.content,
          );
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
          addInstructions();
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
  addInstructions();
  const last = history.at(-1);
  if (last?.type !== "model" || openModel === undefined) history.push({ type: "model", response: [] });
  return history;
}
