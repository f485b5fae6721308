/**
 * A run's model as the OpenAI Agents SDK's `Model`: each call the SDK's runner makes is a durable
 * Freehold model call (`ModelTurn.callModel`), so Freehold's provider, fallbacks, retries, usage,
 * limits and checkpoints hold. The conversation sent is the run's durable one, not the SDK's
 * `request.input`: the two are the same conversation (see input-items.ts), and a resumed run
 * continues from what was checkpointed, not from the SDK's memory. When the turn is over (the answer
 * ended the run, a limit, calls the SDK does not run, the worker shutting down) the call throws
 * {@link TurnOver} and the SDK's loop stops.
 *
 * @module
 */
import type { GenerateResult } from "@freehold/models";
import { TurnOver, type ModelTurn } from "@freehold/runtime";
import {
  Usage,
  type AssistantMessageItem,
  type FunctionCallItem,
  type Model,
  type ModelRequest,
  type ModelResponse,
  type StreamEvent,
} from "@openai/agents-core";

/** A Freehold answer as the SDK's output items: its text as a message, its tool calls as function calls. */
function outputItems(result: GenerateResult): (AssistantMessageItem | FunctionCallItem)[] {
  const output: (AssistantMessageItem | FunctionCallItem)[] = [];
  if (result.message.content !== "") {
    output.push({
      type: "message",
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: result.message.content }],
    });
  }
  for (const call of result.message.toolCalls ?? []) {
    output.push({
      type: "function_call",
      callId: call.id,
      name: call.name,
      arguments: call.arguments,
      status: "completed",
    });
  }
  return output;
}

/** A Freehold answer as the SDK's model response. */
export function toModelResponse(result: GenerateResult): ModelResponse {
  const { inputTokens, outputTokens } = result.usage;
  return {
    usage: new Usage({ requests: 1, inputTokens, outputTokens, totalTokens: inputTokens + outputTokens }),
    output: outputItems(result),
  };
}

/**
 * The model of `turn` for the OpenAI Agents SDK (give it to the Agent's `model`).
 *
 * @example
 * ```ts
 * const agent = new Agent({ name: "support", instructions, model: durableModel(turn), tools });
 * ```
 */
export function durableModel(turn: ModelTurn): Model {
  const generate = async (request: ModelRequest): Promise<GenerateResult> => {
    request.signal?.throwIfAborted();
    // A worker shutting down stops at the step boundary, as the built-in loop does.
    if (turn.signal?.aborted === true) throw new TurnOver();
    const result = await turn.callModel();
    if (result === undefined) throw new TurnOver();
    return result;
  };
  return {
    getResponse: async (request) => toModelResponse(await generate(request)),
    // The same answer as the events of a stream, for runs that stream (`run(..., { stream: true })`).
    async *getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
      const result = await generate(request);
      const { inputTokens, outputTokens } = result.usage;
      yield { type: "response_started" };
      if (result.message.content !== "") yield { type: "output_text_delta", delta: result.message.content };
      yield {
        type: "response_done",
        response: {
          id: "freehold",
          usage: { requests: 1, inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
          output: outputItems(result),
        },
      };
    },
  };
}
