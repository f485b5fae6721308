/**
 * The agent's Model resource as a LangChain chat model for a native graph: each call is a durable
 * Freehold model call (`ModelTurn.callModel` with the graph's own messages: limits, the tenant's
 * tokens, retries and fallbacks, the answer checkpointed in the run, its tool calls recorded). A
 * call the run already answered (a worker stopped inside the node, or the run came back from a
 * handoff, an approval or child runs) gets the recorded answer again instead of a new model call.
 * An answer with calls that are not the graph's to run (a transfer, a human queue, an agent used as
 * a tool, a tool that needs approval) stops the graph: the runtime takes over, and the node runs
 * again when the run comes back.
 *
 * The model is offered the agent's tools (the manifest's MCP tools, its handoffs and the graph's own
 * tools), whatever the graph binds: `bindTools` keeps the model as it is.
 *
 * @module
 */
import type { ChatMessage } from "@freehold/api";
import type { ModelTurn } from "@freehold/runtime";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { toAIMessage } from "./messages.ts";
import { turnOver, type NativeSession } from "./native-session.ts";

type AssistantMessage = Extract<ChatMessage, { role: "assistant" }>;

/** The text of a LangChain message's content. */
function textOf(message: BaseMessage): string {
  return typeof message.content === "string" ? message.content : message.text;
}

/** A graph's messages as the run's chat messages, the agent's instructions first when they have none. */
export function toChatMessages(messages: readonly BaseMessage[], instructions: string): ChatMessage[] {
  const converted = messages.map((message): ChatMessage => {
    const type = message.type;
    if (type === "system") return { role: "system", content: textOf(message) };
    if (type === "ai") {
      const calls = "tool_calls" in message && Array.isArray(message.tool_calls) ? message.tool_calls : [];
      const content = textOf(message);
      return calls.length === 0
        ? { role: "assistant", content }
        : {
            role: "assistant",
            content,
            toolCalls: calls.map((call: { id?: string; name: string; args: unknown }, index: number) => ({
              id: call.id ?? `call_${index}`,
              name: call.name,
              arguments: JSON.stringify(call.args ?? {}),
            })),
          };
    }
    if (type === "tool") {
      const tool = message as BaseMessage & { tool_call_id: string; status?: string };
      return {
        role: "tool",
        toolCallId: tool.tool_call_id,
        name: message.name ?? "tool",
        content: textOf(message),
        ...(tool.status === "error" ? { isError: true } : {}),
      };
    }
    return { role: "user", content: textOf(message) };
  });
  const hasSystem = converted.some((message) => message.role === "system");
  return hasSystem || instructions === ""
    ? converted
    : [{ role: "system", content: instructions }, ...converted];
}

/**
 * The `n`th model answer of the run (1-based, as `RunState.steps` counts them): its assistant
 * messages, leaving out the requests for people the graph's interrupts recorded.
 */
export function modelAnswer(messages: readonly ChatMessage[], n: number): AssistantMessage | undefined {
  let seen = 0;
  for (const message of messages) {
    if (message.role !== "assistant") continue;
    if ((message.toolCalls ?? []).some((call) => call.id.startsWith("interrupt_"))) continue;
    seen += 1;
    if (seen === n) return message;
  }
  return undefined;
}

/** Calls of the last answer the runtime runs itself: handoffs, delegations, approvals. */
function waitsForOthers(turn: ModelTurn): boolean {
  return turn.state.pendingToolCalls.some(
    (call) => call.status === "pending" && (call.special !== undefined || call.approval === "required"),
  );
}

/** The answer for the graph: the recorded one; the graph stops where the runtime takes over. */
function give(turn: ModelTurn, answer: AssistantMessage | undefined): ChatResult {
  if (answer === undefined || waitsForOthers(turn)) throw turnOver();
  const message = toAIMessage(answer);
  return { generations: [{ text: answer.content, message }] };
}

/** The chat model of one run's graph. */
export class FreeholdChatModel extends BaseChatModel {
  readonly #session: NativeSession;

  constructor(session: NativeSession) {
    super({});
    this.#session = session;
  }

  override _llmType(): string {
    return "freehold";
  }

  /** The model is offered the agent's tools already (see the module comment). */
  override bindTools(): this {
    return this;
  }

  override async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const session = this.#session;
    const turn = session.turn;
    if (turn === undefined || turn.signal?.aborted === true) throw turnOver();
    if (session.delivered < turn.state.steps) {
      // Recorded, not yet seen by the graph: the same answer, no new model call.
      session.delivered += 1;
      return give(turn, modelAnswer(turn.state.messages, session.delivered));
    }
    const result = await turn.callModel(toChatMessages(messages, session.instructions));
    session.delivered = turn.state.steps;
    const answer = modelAnswer(turn.state.messages, turn.state.steps);
    // The final answer completed the run: the graph gets it and finishes its step.
    if (result === undefined && turn.state.status !== "completed") throw turnOver();
    return give(turn, answer);
  }
}
