/**
 * A run's model as the AI SDK's language model (specification v4): each call the SDK's loop makes is
 * a durable Freehold model call (`ModelTurn.callModel`), so Freehold's provider, fallbacks, retries,
 * usage, limits and checkpoints hold. The conversation sent is the run's durable one: what the SDK
 * passes as its prompt is the same conversation, rebuilt from the run's messages, and a resumed run
 * continues from what was checkpointed, not from the SDK's memory. When the turn is over (the answer
 * ended the run, a limit, calls the SDK does not run) the call throws `TurnOver` and the SDK's
 * loop stops.
 *
 * @module
 */
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4FinishReason,
  LanguageModelV4GenerateResult,
  LanguageModelV4StreamPart,
} from "@ai-sdk/provider";
import type { FinishReason, GenerateResult } from "@freehold/models";
import type { ToolOutcome } from "@freehold/handoff";
import { TurnOver, type ModelTurn } from "@freehold/runtime";

/**
 * A framework whose loop turns an error thrown by a tool's `execute` into a result for the model, and
 * goes on, must not do so with a failure of the run's own (its store refused the write: the run was
 * cancelled or taken over): the call would be run again by the runtime's loop. A guard keeps such
 * failures: its `turn` ends the framework's loop at the next model call, and `rethrow` gives the
 * first one to the runtime once the framework's loop has stopped.
 *
 * @example
 * ```ts
 * const guard = new TurnGuard(turn);
 * const execute = (id: string) => guard.callTool(id);  // in the framework's tools
 * await frameworkLoop(durableModel(guard.turn, model));
 * guard.rethrow();
 * ```
 */
export class TurnGuard {
  readonly #failures: unknown[] = [];
  readonly turn: ModelTurn;

  constructor(turn: ModelTurn) {
    const failures = this.#failures;
    this.turn = {
      get state() {
        return turn.state;
      },
      toolset: () => turn.toolset(),
      callModel: () => (failures.length > 0 ? Promise.resolve(undefined) : turn.callModel()),
      callTool: (toolCallId) => turn.callTool(toolCallId),
      ...(turn.signal === undefined ? {} : { signal: turn.signal }),
    };
  }

  /** The turn's `callTool`, keeping a failure before it goes to the framework. */
  async callTool(toolCallId: string): Promise<ToolOutcome | undefined> {
    try {
      return await this.turn.callTool(toolCallId);
    } catch (error) {
      this.#failures.push(error);
      throw error;
    }
  }

  get failed(): boolean {
    return this.#failures.length > 0;
  }

  /** Throws the first failure kept, if any. */
  rethrow(): void {
    if (this.#failures.length > 0) throw this.#failures[0];
  }
}

const finishReasons: Record<FinishReason, LanguageModelV4FinishReason["unified"]> = {
  stop: "stop",
  "tool-calls": "tool-calls",
  length: "length",
  "content-filter": "content-filter",
  other: "other",
};

/** A Freehold answer as the SDK's generate result. */
export function toGenerateResult(result: GenerateResult): LanguageModelV4GenerateResult {
  const content: LanguageModelV4Content[] = [];
  if (result.message.content !== "") content.push({ type: "text", text: result.message.content });
  for (const call of result.message.toolCalls ?? []) {
    content.push({ type: "tool-call", toolCallId: call.id, toolName: call.name, input: call.arguments });
  }
  return {
    content,
    finishReason: { unified: finishReasons[result.finishReason], raw: result.finishReason },
    usage: {
      inputTokens: {
        total: result.usage.inputTokens,
        noCache: undefined,
        cacheRead: undefined,
        cacheWrite: undefined,
      },
      outputTokens: { total: result.usage.outputTokens, text: undefined, reasoning: undefined },
    },
    response: { modelId: result.model },
    warnings: [],
  };
}

/** The same answer (its text and tool calls) as the parts of a stream, for loops that stream (`streamText`). */
function toStreamParts(result: LanguageModelV4GenerateResult): LanguageModelV4StreamPart[] {
  const parts: LanguageModelV4StreamPart[] = [{ type: "stream-start", warnings: [] }];
  for (const [index, part] of result.content.entries()) {
    if (part.type === "text") {
      const id = `text-${index}`;
      parts.push(
        { type: "text-start", id },
        { type: "text-delta", id, delta: part.text },
        { type: "text-end", id },
      );
    } else if (part.type === "tool-call") {
      parts.push(part);
    }
  }
  parts.push({ type: "finish", usage: result.usage, finishReason: result.finishReason });
  return parts;
}

/**
 * The model of `turn` for the AI SDK. `provider` and `modelId` name the Model resource's.
 *
 * @example
 * ```ts
 * const result = await generateText({ model: durableModel(turn, agent.model), messages, tools });
 * ```
 */
export function durableModel(
  turn: ModelTurn,
  model: { readonly provider: string; readonly modelId: string },
): LanguageModelV4 {
  const generate = async (options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> => {
    options.abortSignal?.throwIfAborted();
    const result = await turn.callModel();
    if (result === undefined) throw new TurnOver();
    // The answer as the run recorded it: tool call ids the model left empty or repeated are renamed
    // there, and the SDK must execute the calls under the ids the run knows.
    const recorded = turn.state.messages.at(-1);
    return toGenerateResult(recorded?.role === "assistant" ? { ...result, message: recorded } : result);
  };
  return {
    specificationVersion: "v4",
    provider: `freehold.${model.provider}`,
    modelId: model.modelId,
    supportedUrls: {},
    doGenerate: generate,
    async doStream(options) {
      const parts = toStreamParts(await generate(options));
      return {
        stream: new ReadableStream<LanguageModelV4StreamPart>({
          start(controller) {
            for (const part of parts) controller.enqueue(part);
            controller.close();
          },
        }),
      };
    },
  };
}
