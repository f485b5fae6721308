/**
 * The chat completions a scripted model server sends, in the exact shape of OpenAI's: a whole
 * `chat.completion`, or the `chat.completion.chunk`s of a stream (text word by word, tool-call
 * arguments in fragments, a usage chunk when asked), and OpenAI-style error bodies. Token counts are
 * deterministic: a quarter of the characters, rounded up.
 *
 * @module
 */
import { asArray, asRecord, asString } from "../json-value.ts";
import type { ScriptError, ScriptTurn } from "./model-script.ts";
import { messageText } from "./select-script-turn.ts";

/** The deterministic token count of a text: its length divided by 4, rounded up. */
export function scriptedTokenCount(text: string): number {
  return Math.ceil(text.length / 4);
}

/** A turn made concrete for one conversation. */
export interface ScriptedAnswer {
  readonly text: string;
  readonly toolCalls: readonly { readonly id: string; readonly name: string; readonly arguments: string }[];
  readonly finishReason: "stop" | "length" | "content_filter" | "tool_calls";
  readonly usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** Where a completion comes from: its id, the model it names, when. */
export interface CompletionIdentity {
  readonly id: string;
  readonly model: string;
  readonly created: number;
}

function promptText(messages: readonly unknown[]): string {
  return messages
    .map((message) => {
      const calls = asArray(asRecord(message)?.tool_calls).map((call) => {
        const invoked = asRecord(asRecord(call)?.function);
        return `${asString(invoked?.name) ?? ""}${asString(invoked?.arguments) ?? ""}`;
      });
      return messageText(message) + calls.join("");
    })
    .join("");
}

/**
 * Makes a turn concrete: tool call ids (`call_<step>_<index>` unless the script names them),
 * arguments as text, usage.
 *
 * @example
 * ```ts
 * scriptedAnswer({ text: "Hello" }, 0, [{ role: "user", content: "Hi" }]).usage; // 1 in, 2 out
 * ```
 */
export function scriptedAnswer(turn: ScriptTurn, step: number, messages: readonly unknown[]): ScriptedAnswer {
  const toolCalls = (turn.toolCalls ?? []).map((call, index) => ({
    id: call.id ?? `call_${step}_${index}`,
    name: call.name,
    arguments: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments),
  }));
  const text = turn.text ?? "";
  const inputTokens = scriptedTokenCount(promptText(messages));
  const outputTokens = scriptedTokenCount(
    text + toolCalls.map((call) => call.name + call.arguments).join(""),
  );
  return {
    text,
    toolCalls,
    finishReason: toolCalls.length > 0 ? "tool_calls" : (turn.finishReason ?? "stop"),
    usage: {
      prompt_tokens: inputTokens,
      completion_tokens: outputTokens,
      total_tokens: inputTokens + outputTokens,
    },
  };
}

function wireToolCalls(answer: ScriptedAnswer): Record<string, unknown>[] {
  return answer.toolCalls.map((call) => ({
    id: call.id,
    type: "function",
    function: { name: call.name, arguments: call.arguments },
  }));
}

/** The body of a non-streamed answer. */
export function completionBody(
  answer: ScriptedAnswer,
  identity: CompletionIdentity,
): Record<string, unknown> {
  return {
    id: identity.id,
    object: "chat.completion",
    created: identity.created,
    model: identity.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: answer.text === "" && answer.toolCalls.length > 0 ? null : answer.text,
          ...(answer.toolCalls.length === 0 ? {} : { tool_calls: wireToolCalls(answer) }),
          refusal: null,
        },
        logprobs: null,
        finish_reason: answer.finishReason,
      },
    ],
    usage: answer.usage,
    system_fingerprint: "fp_freehold_scripted",
  };
}

function pieces(text: string, size: number): string[] {
  const result: string[] = [];
  for (let start = 0; start < text.length; start += size) result.push(text.slice(start, start + size));
  return result;
}

/** The chunks of a streamed answer, in order, without the final `[DONE]`. */
export function completionChunks(
  answer: ScriptedAnswer,
  identity: CompletionIdentity,
  includeUsage: boolean,
): Record<string, unknown>[] {
  const chunk = (
    delta: Record<string, unknown>,
    finishReason: string | null = null,
  ): Record<string, unknown> => ({
    id: identity.id,
    object: "chat.completion.chunk",
    created: identity.created,
    model: identity.model,
    system_fingerprint: "fp_freehold_scripted",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const chunks = [chunk({ role: "assistant", content: "", refusal: null })];
  for (const word of answer.text.match(/\s*\S+\s*|\s+/g) ?? []) chunks.push(chunk({ content: word }));
  answer.toolCalls.forEach((call, index) => {
    chunks.push(
      chunk({
        tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }],
      }),
    );
    for (const piece of pieces(call.arguments, 16)) {
      chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  chunks.push(chunk({}, answer.finishReason));
  if (includeUsage) {
    chunks.push({
      id: identity.id,
      object: "chat.completion.chunk",
      created: identity.created,
      model: identity.model,
      system_fingerprint: "fp_freehold_scripted",
      choices: [],
      usage: answer.usage,
    });
  }
  return chunks;
}

const defaultErrors: Readonly<Record<number, { message: string; type: string; code: string | null }>> = {
  400: { message: "Invalid request (scripted).", type: "invalid_request_error", code: null },
  401: {
    message: "Incorrect API key provided (scripted).",
    type: "invalid_request_error",
    code: "invalid_api_key",
  },
  403: {
    message: "You are not allowed to use this model (scripted).",
    type: "invalid_request_error",
    code: null,
  },
  404: {
    message: "The model does not exist (scripted).",
    type: "invalid_request_error",
    code: "model_not_found",
  },
  429: { message: "Rate limit reached (scripted).", type: "requests", code: "rate_limit_exceeded" },
};

/** The status, headers and body of an error turn. */
export function errorResponse(error: ScriptError): {
  status: number;
  headers: Record<string, string>;
  body: string;
} {
  const retryAfter: Record<string, string> =
    error.retryAfterSeconds === undefined ? {} : { "retry-after": String(error.retryAfterSeconds) };
  if (typeof error.body === "string") {
    let isJson = true;
    try {
      JSON.parse(error.body);
    } catch {
      isJson = false;
    }
    const contentType = isJson ? "application/json" : "text/plain; charset=utf-8";
    return {
      status: error.status,
      headers: { "content-type": contentType, ...retryAfter },
      body: error.body,
    };
  }
  const fallback = defaultErrors[error.status] ?? {
    message: "The server had an error while processing your request (scripted).",
    type: "server_error",
    code: null,
  };
  const body = error.body ?? {
    error: {
      message: error.message ?? fallback.message,
      type: error.type ?? fallback.type,
      param: null,
      code: error.code ?? fallback.code,
    },
  };
  return {
    status: error.status,
    headers: { "content-type": "application/json", ...retryAfter },
    body: JSON.stringify(body),
  };
}
