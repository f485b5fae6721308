/**
 * One call to a loaded local model: either a text answer, streamed as it is written, or a tool call
 * that the model writes but does not run; the runtime runs it and calls again with the result.
 *
 * With tools on offer, the model first chooses a tool or none (tool-choice.ts scores the user's
 * request under each tool's description and what the agent's instructions say about it). For a tool, it writes the arguments under a grammar
 * compiled from the tool's JSON Schema, so they are always JSON of the right shape. After
 * `maxToolRoundsPerTurn` rounds of calls since the last user message (default 1) it answers from the
 * results: the request that chose a tool would choose it again.
 *
 * @module
 */
import type { ChatMessage, ToolCall, Usage } from "@freehold/api";
import type { ChatHistoryItem, LLamaChatGenerateResponseOptions, LlamaChatResponse } from "node-llama-cpp";
import { newToolCallId } from "../assistant-result.ts";
import type { FinishReason, ToolDefinition } from "../language-model.ts";
import {
  answerCue,
  endsWithFunctionCall,
  toChatHistory,
  toolCallInstructions,
  transcriptPreamble,
} from "./chat-history.ts";
import { answerStopTriggers, createAnswerText, finalAnswer } from "./answer-text.ts";
import { toGrammarSchema } from "./grammar-schema.ts";
import type { LoadedModel } from "./loaded-model.ts";
import { chooseTool, type ToolChoiceRequest } from "./tool-choice.ts";

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

/**
 * A small model at temperature 0 loops ("I'm sorry, I'm late. I'm sorry, ..."), in answers and in
 * argument strings alike; DRY penalizes repeating a run of recent tokens, without the harm a plain
 * repeat penalty does to JSON punctuation.
 */
const dryRepeatPenalty = { strength: 0.8, base: 1.75, allowedLength: 2, lastTokens: 128 };

/**
 * What a tool is chosen for: the last user message, and the system messages (the agent's
 * instructions), which may say what a tool is for.
 */
function toolChoiceRequest(messages: readonly ChatMessage[]): ToolChoiceRequest {
  const system = messages.filter((message) => message.role === "system").map((message) => message.content);
  return {
    request: messages.findLast((message) => message.role === "user")?.content ?? "",
    instructions: system.length === 0 ? undefined : system.join("\n"),
  };
}

async function toolCallTurn(
  loaded: LoadedModel,
  history: readonly ChatHistoryItem[],
  tool: ToolDefinition,
  settings: TurnSettings,
  signal: AbortSignal | undefined,
): Promise<Omit<LocalTurn, "usage">> {
  // A schema the grammar compiler refuses still gets a call: any JSON object (the tool validates).
  const grammar = await loaded
    .jsonSchemaGrammar(toGrammarSchema(tool.inputSchema))
    .catch(() => loaded.jsonSchemaGrammar({ type: "object", additionalProperties: true }));
  const response = await loaded.chat.generateResponse(withPrefill(history, `${callPrefix}${tool.name}(`), {
    grammar,
    maxTokens: settings.maxOutputTokens,
    temperature: settings.temperature,
    dryRepeatPenalty,
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
  question: string,
  settings: TurnSettings,
  signal: AbortSignal | undefined,
  onText: ((text: string) => void) | undefined,
): Promise<Omit<LocalTurn, "usage">> {
  const afterToolResults = endsWithFunctionCall(history.at(-1));
  // A base model loops line by line; an instruction-tuned one may repeat a line on purpose (code).
  const endAtRepeatedLine = loaded.transcript;
  const looped = new AbortController();
  const answer = createAnswerText({ endAtRepeatedLine, onText });
  const options: LLamaChatGenerateResponseOptions = {
    maxTokens: settings.maxOutputTokens,
    temperature: settings.temperature,
    dryRepeatPenalty,
    trimWhitespaceSuffix: true,
    customStopTriggers: answerStopTriggers({ stop: settings.stop, afterToolResults }),
    // Stopped for a loop, the model returns what it wrote; the caller's abort is thrown below.
    signal: signal === undefined ? looped.signal : AbortSignal.any([signal, looped.signal]),
    stopOnAbortSignal: true,
    onTextChunk: (chunk) => {
      if (answer.push(chunk)) looped.abort();
    },
    ...(settings.topP === undefined ? {} : { topP: settings.topP }),
    ...(settings.seed === undefined ? {} : { seed: settings.seed }),
  };
  // After tool results, the answer starts behind a cue (see chat-history.ts).
  const prompt = afterToolResults ? withPrefill(history, answerCue(question)) : history;
  const response = await loaded.chat.generateResponse(prompt, options);
  signal?.throwIfAborted();
  return {
    text: finalAnswer(response.response, { endAtRepeatedLine }),
    toolCalls: [],
    finishReason: looped.signal.aborted ? "stop" : finishReasonOf(response, "stop"),
  };
}

/**
 * Runs one call on a loaded model, after the calls queued before it. Usage counts the prompt as the
 * chat wrapper renders it (the model's own tokenizer) plus the tokens read to choose a tool, and
 * every token the model wrote.
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
    const { chat, model } = loaded;
    const mayCallTool =
      tools.length > 0 && toolRoundsSinceUser(request.messages) < settings.maxToolRoundsPerTurn;
    const choiceRequest = toolChoiceRequest(request.messages);
    const choice = mayCallTool
      ? await chooseTool(loaded, choiceRequest, tools)
      : { tool: undefined, evaluatedTokens: 0 };
    signal?.throwIfAborted();
    const history = toChatHistory(request.messages, {
      preamble: loaded.transcript ? transcriptPreamble : undefined,
      instructions: choice.tool === undefined ? undefined : toolCallInstructions(choice.tool),
    });
    const promptTokens = chat.chatWrapper
      .generateContextState({ chatHistory: history })
      .contextText.tokenize(model.tokenizer).length;
    const meter = chat.sequence.tokenMeter;
    const before = meter.getState();
    const turn =
      choice.tool === undefined
        ? await textTurn(loaded, history, choiceRequest.request, settings, signal, onText)
        : await toolCallTurn(loaded, history, choice.tool, settings, signal);
    const outputTokens = meter.diff(before).usedOutputTokens;
    return { ...turn, usage: { inputTokens: promptTokens + choice.evaluatedTokens, outputTokens } };
  }, signal);
}
