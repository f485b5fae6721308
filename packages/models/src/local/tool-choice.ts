/**
 * Whether to call a tool, and which, decided by the model with "noisy channel" scoring: for each tool
 * (and for "no tool"), how likely the model finds the user's request written after that tool's
 * candidate text (tool-candidates.ts: the first sentence of its description, and the agent's
 * instructions when they name the tool). The candidate under which the request is likeliest wins.
 *
 * Why not let the model write its choice? A small model asked to pick (native `||call:` syntax, a JSON
 * grammar with `{"answer"} | {"tool"}`, node-llama-cpp's structured decisions, a grammar over the
 * names) answers by position and label bias: the same choice whatever the request. Scoring the
 * request itself under each candidate removes that bias, because every candidate scores the same
 * tokens. Measured with Gemma 3 270M (see the package README): 14 of 14 requests about ACME's teams
 * call read_text_file for the quickstart agent, whose instructions name it (0 of 14 when the
 * instructions were left out); 11 of 12 requests over four tools and "no tool"; 10 of 10 requests that
 * need no tool answered directly with a weather tool on offer.
 *
 * @module
 */
import type { Token } from "node-llama-cpp";
import type { ToolDefinition } from "../language-model.ts";
import type { LoadedModel } from "./loaded-model.ts";
import { candidatePrefix } from "./tool-candidates.ts";

/** Request tokens scored at most (its start). */
const maxRequestTokens = 96;

/** What to choose a tool for. */
export interface ToolChoiceRequest {
  /** The user's request: the last user message. */
  readonly request: string;
  /** The conversation's system messages (the agent's instructions), if any. */
  readonly instructions?: string | undefined;
}

/** What a choice costs: the tokens the model read to make it. */
export interface ToolChoice {
  /** The tool to call, or undefined to answer without one. */
  readonly tool: ToolDefinition | undefined;
  readonly evaluatedTokens: number;
}

/** The log-probability of `request` after `prefix`, summed over its tokens. */
async function requestLogProbability(
  loaded: LoadedModel,
  prefix: string,
  request: readonly Token[],
): Promise<number> {
  const { model, chat } = loaded;
  const bos = model.tokens.bos;
  const prefixTokens = [...(bos === null ? [] : [bos]), ...model.tokenize(prefix)];
  const tokens = [...prefixTokens, ...request];
  const sequence = chat.sequence;
  await sequence.clearHistory();
  const firstScored = prefixTokens.length - 1;
  const outputs = await sequence.controlledEvaluate(
    tokens.map((token, index) => {
      const next = tokens[index + 1];
      return index < firstScored || next === undefined
        ? token
        : [
            token,
            {
              generateNext: { logits: { filter: { tokens: [next], includeTop: 1 } }, totalLogitWeight: true },
            },
          ];
    }),
  );
  let sum = 0;
  for (let index = firstScored; index < tokens.length - 1; index++) {
    const next = outputs[index]?.next;
    const token = tokens[index + 1];
    const logit = token === undefined ? undefined : next?.logits?.get(token);
    if (next?.logits === undefined || logit === undefined || next.totalLogitWeight === undefined) continue;
    const maxLogit = Math.max(...next.logits.values());
    sum += logit - maxLogit - Math.log(next.totalLogitWeight);
  }
  return sum;
}

/**
 * Chooses the tool the user's request calls for, or none. Costs one short evaluation per tool, plus
 * one; the chat re-reads its prompt afterwards.
 *
 * @example
 * ```ts
 * const { tool } = await chooseTool(
 *   loaded,
 *   { request: "Who leads the platform team?", instructions: "First call read_text_file ..." },
 *   [readTextFileTool],
 * );
 * ```
 */
export async function chooseTool(
  loaded: LoadedModel,
  choiceRequest: ToolChoiceRequest,
  tools: readonly ToolDefinition[],
): Promise<ToolChoice> {
  const requestTokens = loaded.model.tokenize(choiceRequest.request.trim()).slice(0, maxRequestTokens);
  let best: { tool: ToolDefinition | undefined; score: number } | undefined;
  let evaluatedTokens = 0;
  for (const tool of [undefined, ...tools]) {
    const prefix = candidatePrefix(tool, choiceRequest.instructions);
    const score = await requestLogProbability(loaded, prefix, requestTokens);
    evaluatedTokens += loaded.chat.sequence.contextTokens.length;
    if (best === undefined || score > best.score) best = { tool, score };
  }
  return { tool: best?.tool, evaluatedTokens };
}
