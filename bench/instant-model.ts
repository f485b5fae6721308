/**
 * Shared by the handoff benchmarks: a LanguageModel that answers at once, in this process, with a
 * call of the first `transfer_to_*` tool it is offered, so a run ping-pongs between agents and the
 * model's own time is not part of any figure.
 */
import type { ChatMessage } from "@freehold/api";
import type { GenerateRequest, GenerateResult, LanguageModel, StreamPart } from "@freehold/models";

/** How many transfers a conversation has had so far. */
export function transfers(messages: readonly ChatMessage[]): number {
  return messages.filter((message) => message.role === "tool" && message.name.startsWith("transfer_to_"))
    .length;
}

export interface InstantModelHooks {
  /** Answer ("done") instead of transferring once the conversation has had this many transfers. */
  readonly maxTransfers?: number;
  /** Called first on every call, with the transfers so far. */
  readonly onCall?: (transfersSoFar: number) => void;
  /** Called just before a transfer call is returned. */
  readonly onTransfer?: () => void;
  /** Called just before the final answer is returned. */
  readonly onAnswer?: () => void;
}

export function instantModel(hooks: InstantModelHooks = {}): LanguageModel {
  const usage = { inputTokens: 1, outputTokens: 1 };
  // Counting the transfers reads the whole conversation: only done for a hook that needs it, so that
  // the model's time per call stays the same however long the conversation has grown.
  const counted = hooks.onCall !== undefined || hooks.maxTransfers !== undefined;
  const generate = (request: GenerateRequest): Promise<GenerateResult> => {
    const hops = counted ? transfers(request.messages) : 0;
    hooks.onCall?.(hops);
    const transfer = request.tools?.find((tool) => tool.name.startsWith("transfer_to_"));
    if (transfer === undefined || hops >= (hooks.maxTransfers ?? Infinity)) {
      hooks.onAnswer?.();
      return Promise.resolve({
        message: { role: "assistant", content: "done" },
        usage,
        finishReason: "stop",
        model: "instant",
      });
    }
    const result: GenerateResult = {
      message: {
        role: "assistant",
        content: "",
        // An id no earlier call of the conversation has (each adds messages).
        toolCalls: [
          { id: `call_${request.messages.length}`, name: transfer.name, arguments: '{"note":"over to you"}' },
        ],
      },
      usage,
      finishReason: "tool-calls",
      model: "instant",
    };
    hooks.onTransfer?.();
    return Promise.resolve(result);
  };
  return {
    provider: "openai-compatible",
    modelId: "instant",
    generate,
    async *stream(request: GenerateRequest): AsyncIterable<StreamPart> {
      yield { type: "finish", result: await generate(request) };
    },
  };
}
