/**
 * Which turn of a script answers a request, decided from the conversation the request carries, never
 * from a global cursor: so any number of conversations can share one server, each following the
 * script on its own.
 *
 * The rule: replay the conversation. Before each assistant message already in it, the turn that
 * answered was the first answering turn, from the cursor on, whose `match` held for the messages
 * before it; the cursor then moves past that turn. The request is answered the same way from the
 * final cursor. Error turns answer without adding an assistant message, so they are counted per
 * conversation (by its content) and passed once served `times` times.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { asArray, asRecord, asString } from "../json-value.ts";
import type { ModelScript, ScriptError, ScriptMatch, ScriptTurn } from "./model-script.ts";

/** What answers a request. `step` counts the assistant messages already in the conversation. */
export type ScriptTurnChoice =
  | { readonly kind: "answer"; readonly turn: ScriptTurn; readonly turnIndex: number; readonly step: number }
  | {
      readonly kind: "error";
      readonly error: ScriptError;
      readonly turn: ScriptTurn;
      readonly turnIndex: number;
      readonly step: number;
    }
  | { readonly kind: "exhausted"; readonly step: number };

/** How many times each conversation has been answered with each error turn. */
export type ErrorTurnCounts = Map<string, number>;

/** At most this many conversations' error counts are kept; the oldest are forgotten first. */
const rememberedErrorCounts = 100_000;

/** The text of a wire message's content: a string, or the text of its parts. */
export function messageText(message: unknown): string {
  const content = asRecord(message)?.content;
  if (typeof content === "string") return content;
  return asArray(content)
    .map((part) => asString(asRecord(part)?.text) ?? "")
    .join("");
}

function toolNameOf(message: Record<string, unknown>, messages: readonly unknown[]): string | undefined {
  const named = asString(message.name);
  if (named !== undefined) return named;
  const id = asString(message.tool_call_id);
  for (const earlier of messages) {
    for (const call of asArray(asRecord(earlier)?.tool_calls)) {
      const record = asRecord(call);
      if (record?.id === id) return asString(asRecord(record?.function)?.name);
    }
  }
  return undefined;
}

/** True when `match` holds for a conversation (its last message, or any message). */
export function matchesConversation(match: ScriptMatch | undefined, messages: readonly unknown[]): boolean {
  if (match === undefined) return true;
  const last = asRecord(messages.at(-1)) ?? {};
  if (match.role !== undefined && last.role !== match.role) return false;
  if (
    match.toolName !== undefined &&
    (last.role !== "tool" || toolNameOf(last, messages) !== match.toolName)
  ) {
    return false;
  }
  if (match.contains !== undefined && !messageText(last).includes(match.contains)) return false;
  const anyText = match.anyMessageContains;
  return anyText === undefined || messages.some((message) => messageText(message).includes(anyText));
}

/** The indexes a scan from `cursor` visits: to the end, or once round in a looping script. */
function scanOrder(script: ModelScript, cursor: number): number[] {
  const count = script.turns.length;
  if (script.loop) return Array.from({ length: count }, (_, offset) => (cursor + offset) % count);
  return Array.from({ length: Math.max(0, count - cursor) }, (_, offset) => cursor + offset);
}

function conversationKey(messages: readonly unknown[]): string {
  return createHash("sha256").update(JSON.stringify(messages)).digest("base64url");
}

/**
 * Picks the turn that answers a conversation.
 *
 * @example
 * ```ts
 * const counts: ErrorTurnCounts = new Map();
 * const choice = selectScriptTurn(script, request.messages, counts);
 * if (choice.kind === "answer") console.log(choice.turn.text);
 * ```
 */
export function selectScriptTurn(
  script: ModelScript,
  messages: readonly unknown[],
  errorCounts: ErrorTurnCounts,
): ScriptTurnChoice {
  let cursor = 0;
  let step = 0;
  messages.forEach((message, position) => {
    if (asRecord(message)?.role !== "assistant") return;
    step += 1;
    const before = messages.slice(0, position);
    const answered = scanOrder(script, cursor).find((index) => {
      const turn = script.turns[index];
      return turn !== undefined && turn.error === undefined && matchesConversation(turn.match, before);
    });
    if (answered !== undefined) cursor = script.loop ? (answered + 1) % script.turns.length : answered + 1;
  });

  let key: string | undefined;
  for (const turnIndex of scanOrder(script, cursor)) {
    const turn = script.turns[turnIndex];
    if (turn === undefined || !matchesConversation(turn.match, messages)) continue;
    if (turn.error === undefined) return { kind: "answer", turn, turnIndex, step };
    key ??= conversationKey(messages);
    const countKey = `${key}#${turnIndex}`;
    const served = errorCounts.get(countKey) ?? 0;
    if (served >= turn.error.times) continue;
    errorCounts.delete(countKey);
    errorCounts.set(countKey, served + 1);
    if (errorCounts.size > rememberedErrorCounts) errorCounts.delete(errorCounts.keys().next().value ?? "");
    return { kind: "error", error: turn.error, turn, turnIndex, step };
  }
  return { kind: "exhausted", step };
}
