/**
 * One call to a loaded local model: either a text answer, streamed as it is written, or tool calls
 * that the model writes but does not run; the runtime runs them and calls again with the results.
 *
 * When to call a tool is decided by a fixed policy, not by the model: with tools on offer, the model
 * calls one after each user message (up to `maxToolRoundsPerTurn` rounds), then answers from the
 * results. The default model, Gemma 3 270M, is a base model that cannot make that choice: measured on
 * this machine, its own choice (native `||call:` syntax, a JSON `{"answer"} | {"tool"}` grammar, or
 * node-llama-cpp's structured decisions) came out the same whatever the question. What it does well,
 * under a grammar, is fill in arguments: the tool's name (when there are several) is chosen from the
 * offered names only, and the arguments can only be JSON of the tool's schema.
 *
 * @module
 */
import type { ChatMessage, ToolCall, Usage } from "@freehold/api";
import type { ChatHistoryItem, LLamaChatGenerateResponseOptions, LlamaChatResponse } from "node-llama-cpp";
import { newToolCallId } from "../assistant-result.ts";
import type { FinishReason, ToolDefinition } from "../language-model.ts";
import { answerCue, endsWithFunctionCall, toChatHistory, transcriptPreamble } from "./chat-history.ts";
import { toGrammarSchema } from "./grammar-schema.ts";
import type { LoadedModel } from "./loaded-model.ts";

/** Sampling and policy for one call. */
export interface TurnSettings {
  readonly maxOutputTokens: number;
  /** 0 picks the likeliest token every time (the same answer for the same conversation). */
  readonly temperature: number;
  readonly topP?: number | undefined;
  readonly seed?: number | undefined;
  readonly stop: readonly string[];
  /** Tool-call rounds the model makes after a user message before it must answer. */
  readonly maxToolRoundsPerTurn: number;
}

/** What one call produced. */
export interface LocalTurn {
  readonly text: string;
  readonly toolCalls: readonly ToolCall[];
  readonly usage: Usage;
  readonly finishReason: FinishReason;
}

/** The prefix the chat wrappers' default function-call syntax starts with. */
const callPrefix = "||call: ";

/** Tool-call rounds since the last user message. */
function toolRoundsSinceUser(messages: readonly ChatMessage[]): number {
  let rounds = 0;
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index];
    if (message === undefined || message.role === "user") break;
    if (message.role === "assistant" && (message.toolCalls ?? []).length > 0) rounds++;
  }
  return rounds;
}

/** The history with `text` written at the start of the open model turn, for the model to continue. */
function withPrefill(history: readonly ChatHistoryItem[], text: string): ChatHistoryItem[] {
  const last = history.at(-1);
  const head = history.slice(0, -1);
  return last?.type === "model"
    ? [...head, { type: "model", response: [...last.response, text] }]
    : [...history, { type: "model", response: [text] }];
}

function finishReasonOf(response: LlamaChatResponse, otherwise: FinishReason): FinishReason {
  return response.metadata.stopReason === "maxTokens" ? "length" : otherwise;
}

function gbnfLiteral(text: string): string {
  return JSON.stringify(text);
}

/** The tool to call: the only one, or the one the model writes when its choice is limited to the names. */
async function chooseTool(
  loaded: LoadedModel,
  history: readonly ChatHistoryItem[],
  tools: readonly ToolDefinition[],
  signal: AbortSignal | undefined,
): Promise<ToolDefinition> {
  const [first] = tools;
  if (first === undefined) throw new Error("chooseTool needs at least one tool");
  if (tools.length === 1) return first;
  const grammar = await loaded.gbnfGrammar(
    `root ::= ${tools.map((tool) => gbnfLiteral(tool.name)).join(" | ")}`,
  );
  const response = await loaded.chat.generateResponse(withPrefill(history, callPrefix), {
    grammar,
    maxTokens: 64,
    ...(signal === undefined ? {} : { signal }),
  });
  const name = response.response.trim();
  return tools.find((tool) => tool.name === name) ?? first;
}

async function toolCallTurn(
  loaded: LoadedModel,
  history: readonly ChatHistoryItem[],
  tools: readonly ToolDefinition[],
  settings: TurnSettings,
  signal: AbortSignal | undefined,
): Promise<Omit<LocalTurn, "usage">> {
  const tool = await chooseTool(loaded, history, tools, signal);
  const grammar = await loaded.jsonSchemaGrammar(toGrammarSchema(tool.inputSchema));
  const response = await loaded.chat.generateResponse(withPrefill(history, `${callPrefix}${tool.name}(`), {
    grammar,
    maxTokens: settings.maxOutputTokens,
    temperature: settings.temperature,
    ...(settings.topP === undefined ? {} : { topP: settings.topP }),
    ...(settings.seed === undefined ? {} : { seed: settings.seed }),
    ...(signal === undefined ? {} : { signal }),
  });
  return {
    text: "",
    toolCalls: [{ id: newToolCallId(), name: tool.name, arguments: response.response.trim() }],
    finishReason: finishReasonOf(response, "tool-calls"),
  };
}

async function textTurn(
  loaded: LoadedModel,
  history: ChatHistoryItem[],
  hasTools: boolean,
  settings: TurnSettings,
  signal: AbortSignal | undefined,
  onText: ((text: string) => void) | undefined,
): Promise<Omit<LocalTurn, "usage">> {
  const options: LLamaChatGenerateResponseOptions = {
    maxTokens: settings.maxOutputTokens,
    temperature: settings.temperature,
    // A small model at temperature 0 loops; a mild penalty on the last tokens keeps it moving.
    repeatPenalty: { penalty: 1.1, lastTokens: 64 },
    trimWhitespaceSuffix: true,
    // A new call or a new heading means the answer is over.
    customStopTriggers: [...settings.stop, ...(hasTools ? [callPrefix.trim()] : []), "\n### "],
    ...(settings.topP === undefined ? {} : { topP: settings.topP }),
    ...(settings.seed === undefined ? {} : { seed: settings.seed }),
    ...(signal === undefined ? {} : { signal }),
    ...(onText === undefined ? {} : { onTextChunk: onText }),
  };
  // After tool results, the answer starts behind a cue (see chat-history.ts).
  const prompt = endsWithFunctionCall(history.at(-1)) ? withPrefill(history, answerCue) : history;
  const response = await loaded.chat.generateResponse(prompt, options);
  return { text: response.response, toolCalls: [], finishReason: finishReasonOf(response, "stop") };
}

/**
 * Runs one call on a loaded model, after the calls queued before it. Usage counts the prompt as the
 * chat wrapper renders it (the model's own tokenizer) and every token the model wrote.
 *
 * @example
 * ```ts
 * const turn = await runLocalTurn(loaded, { messages, tools }, settings, (text) => process.stdout.write(text));
 * ```
 */
export function runLocalTurn(
  loaded: LoadedModel,
  request: {
    readonly messages: readonly ChatMessage[];
    readonly tools?: readonly ToolDefinition[] | undefined;
    readonly signal?: AbortSignal | undefined;
  },
  settings: TurnSettings,
  onText?: (text: string) => void,
): Promise<LocalTurn> {
  const tools = request.tools ?? [];
  const { signal } = request;
  return loaded.exclusive(async () => {
    const history = toChatHistory(request.messages, tools, {
      preamble: loaded.transcript ? transcriptPreamble : undefined,
    });
    const { chat, model } = loaded;
    const inputTokens = chat.chatWrapper
      .generateContextState({ chatHistory: history })
      .contextText.tokenize(model.tokenizer).length;
    const meter = chat.sequence.tokenMeter;
    const before = meter.getState();
    const callTool =
      tools.length > 0 && toolRoundsSinceUser(request.messages) < settings.maxToolRoundsPerTurn;
    const turn = callTool
      ? await toolCallTurn(loaded, history, tools, settings, signal)
      : await textTurn(loaded, history, tools.length > 0, settings, signal, onText);
    const outputTokens = meter.diff(before).usedOutputTokens;
    return { ...turn, usage: { inputTokens, outputTokens } };
  }, signal);
}
