/**
 * The ReAct graph of one model turn: `model` → `tools` → `model` …, with a conditional edge after
 * `model` on the answer's tool calls. Each node is one durable step of the run:
 *
 * - `model` is one Freehold model call (`ModelTurn.callModel`: limits and the tenant's tokens
 *   checked, the answer checkpointed with its MCP calls recorded as started); its update is the
 *   answer as the run recorded it (an AIMessage whose tool calls carry the run's ids);
 * - `tools` runs the answer's MCP tool calls (`ModelTurn.callTool`: through the broker's allow-list,
 *   each result checkpointed) and adds their results as ToolMessages.
 *
 * The graph ends when the answer calls no tool (the run is over) or calls one the graph does not run:
 * a handoff, a delegation or a tool that needs approval. The runtime's loop then applies the shared
 * transitions to the run (transfer, inbox item, child runs, approval items).
 *
 * @module
 */
import type { RunState } from "@freehold/api";
import { TurnOver, type ModelTurn } from "@freehold/runtime";
import type { BaseMessage } from "@langchain/core/messages";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { toAIMessage, toToolMessage } from "./messages.ts";

/** The calls of the last answer that wait for something other than an MCP server. */
function waitsForOthers(state: RunState): boolean {
  return state.pendingToolCalls.some(
    (call) => call.status === "pending" && (call.special !== undefined || call.approval === "required"),
  );
}

/** Where the graph goes after the model's answer: the tools, or the end of the turn. */
export function afterModel(state: RunState): "tools" | typeof END {
  const last = state.messages.at(-1);
  if (last?.role !== "assistant" || (last.toolCalls ?? []).length === 0) return END;
  return waitsForOthers(state) ? END : "tools";
}

/**
 * The turn's graph, compiled, on `turn`'s durable model and tool calls. It has no checkpointer:
 * the run's state is Freehold's, checkpointed at every model call and every tool call.
 *
 * @example
 * ```ts
 * await createTurnGraph(turn).invoke({ messages: toBaseMessages(turn.state.messages) });
 * ```
 */
export function createTurnGraph(turn: ModelTurn) {
  const stopIfAborted = () => {
    if (turn.signal?.aborted === true) throw new TurnOver();
  };

  const model = async (): Promise<{ messages: BaseMessage[] }> => {
    stopIfAborted();
    const result = await turn.callModel();
    const answer = turn.state.messages.at(-1);
    if (result === undefined || answer?.role !== "assistant") throw new TurnOver();
    // The answer as the run recorded it: tool call ids made unique, as the runtime will run them.
    return { messages: [toAIMessage(answer)] };
  };

  const tools = async (): Promise<{ messages: BaseMessage[] }> => {
    stopIfAborted();
    const answer = turn.state.messages.at(-1);
    const calls = answer?.role === "assistant" ? (answer.toolCalls ?? []) : [];
    // Calls the runtime answered at once (unknown tool, bad arguments) are not pending.
    const pending = turn.state.pendingToolCalls.filter((call) => call.status === "pending");
    await Promise.all(pending.map((call) => turn.callTool(call.toolCall.id)));
    // The results as the run recorded them, in the answer's order; a call without one ends the turn.
    const results = turn.state.messages.filter((message) => message.role === "tool");
    return {
      messages: calls.map((call) => {
        const result = results.findLast((message) => message.toolCallId === call.id);
        if (result === undefined) throw new TurnOver();
        return toToolMessage(result);
      }),
    };
  };

  return new StateGraph(MessagesAnnotation)
    .addNode("model", model)
    .addNode("tools", tools)
    .addEdge(START, "model")
    .addConditionalEdges("model", () => afterModel(turn.state), ["tools", END])
    .addEdge("tools", "model")
    .compile();
}
