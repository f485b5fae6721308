/**
 * The loop driver of agents with `spec.framework: langgraph`. An agent with `spec.code` is the team's
 * own graph (native mode, native.ts). Declarative mode, below: each model turn of
 * the run is one invocation of a LangGraph ReAct graph (graph.ts) on the run's model and the agent's
 * MCP tools, each node a durable step. Handoff, delegation and approval tools are not run by the
 * graph: it ends at them and the runtime's shared transitions take over (transfer, human queue, child
 * runs, approval items), as they do after limits and when the run resumes after a crash.
 *
 * Checkpoints: every model call and every tool call, as in the built-in loop. LangGraph's own
 * checkpointer is not used: the run's state is Freehold's.
 *
 * @module
 */
import { isTurnOver, runLoop, type LoopDriver, type ModelTurn, type ResolvedAgent } from "@freehold/runtime";
import { createTurnGraph } from "./graph.ts";
import { toBaseMessages } from "./messages.ts";
import { langSmithRequested, localTracer } from "./local-tracer.ts";
import { runNative } from "./native.ts";

/** One model turn: the graph runs until the answer ends the run, calls a special tool, or the turn is over. */
export async function langGraphTurn(agent: ResolvedAgent, turn: ModelTurn): Promise<void> {
  const graph = createTurnGraph(turn);
  const messages = toBaseMessages([
    { role: "system", content: agent.spec.instructions },
    ...turn.state.messages,
  ]);
  try {
    await graph.invoke(
      { messages },
      {
        // Limits are the runtime's (checked before every model call); this only bounds one turn:
        // a model node and a tools node per step.
        recursionLimit: 2 * (agent.spec.limits.maxSteps + 2),
        // LangSmith never gets the run, whatever the environment says (local-tracer.ts). No callbacks
        // otherwise: even an empty list makes LangChain build and copy a callback manager per node.
        ...(langSmithRequested() ? { callbacks: [localTracer()] } : {}),
      },
    );
  } catch (error) {
    if (isTurnOver(error) || turn.signal?.aborted === true) return;
    throw error;
  }
}

/**
 * The driver for `spec.framework: langgraph`. Give it to the worker:
 *
 * @example
 * ```ts
 * const worker = createRuntimeWorker({ connection, store, agents: runtime.agents, drivers: [langGraphDriver] });
 * ```
 */
export const langGraphDriver: LoopDriver = {
  framework: "langgraph",
  runsCode: true,
  run: (state, options) =>
    options.agent.code === undefined
      ? runLoop(state, { ...options, modelTurn: (turn) => langGraphTurn(options.agent, turn) })
      : runNative(state, options),
};
