/**
 * The one interface every model implements, whoever serves it: a hosted API, a server in the cluster,
 * or a GGUF file run in the worker. The runtime and every framework adapter talk to this and nothing
 * else.
 *
 * @module
 */
import type {
  AssistantMessage,
  ChatMessage,
  ModelParameters,
  Provider,
  ToolCall,
  Usage,
} from "@freehold/api";

/** A tool the model may call. `inputSchema` is JSON Schema, passed to the provider unchanged. */
export interface ToolDefinition {
  readonly name: string;
  readonly description?: string;
  readonly inputSchema: Record<string, unknown>;
}

/** One model call: the conversation so far, the tools on offer, sampling parameters. */
export interface GenerateRequest {
  readonly messages: readonly ChatMessage[];
  readonly tools?: readonly ToolDefinition[];
  /** Overrides the model's own `spec.parameters`, field by field. */
  readonly parameters?: ModelParameters;
  /** Cancels the call; the call then fails with `model.aborted`. */
  readonly signal?: AbortSignal;
}

/** Why the model stopped writing. */
export type FinishReason = "stop" | "tool-calls" | "length" | "content-filter" | "other";

/** The answer to one model call. */
export interface GenerateResult {
  readonly message: AssistantMessage;
  readonly usage: Usage;
  readonly finishReason: FinishReason;
  /**
   * The model that answered, as its provider named it (often a dated snapshot such as
   * `gpt-4o-mini-2024-07-18`). After a fallback, this is the fallback's model.
   */
  readonly model: string;
}

/**
 * What a streamed call yields: text as it arrives, each tool call once it is complete, and last the
 * whole result (the same one `generate` would have returned).
 */
export type StreamPart =
  | { type: "text-delta"; text: string }
  | { type: "tool-call"; toolCall: ToolCall }
  | { type: "finish"; result: GenerateResult };

/**
 * A model. Failures are `FreeholdError`s with a `model.*` code (see {@link modelErrorCodes}) and
 * `retryable` set when the same call may succeed later.
 *
 * @example
 * ```ts
 * const result = await model.generate({ messages: [{ role: "user", content: "Hello" }] });
 * console.log(result.message.content, result.usage.outputTokens);
 *
 * for await (const part of model.stream({ messages })) {
 *   if (part.type === "text-delta") process.stdout.write(part.text);
 * }
 * ```
 */
export interface LanguageModel {
  readonly provider: Provider;
  /** The model's name at its provider, as the Model resource's `spec.model` says. */
  readonly modelId: string;
  generate(request: GenerateRequest): Promise<GenerateResult>;
  stream(request: GenerateRequest): AsyncIterable<StreamPart>;
}
