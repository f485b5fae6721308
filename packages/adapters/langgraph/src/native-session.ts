/**
 * What a native graph's Freehold pieces (its model, its tools) share while the graph runs for one
 * run: the run's current model turn and how many of the run's model answers the graph has seen.
 * A graph exported as one object serves every run of the worker at once, so its pieces find their
 * run's session by the graph's thread (`thread_id` = the run's id) in {@link sessionOf}.
 *
 * @module
 */
import type { ModelTurn } from "@freehold/runtime";
import type { RunnableConfig } from "@langchain/core/runnables";
import { GraphDrained } from "@langchain/langgraph";

/** One run's graph at work. */
export interface NativeSession {
  readonly runId: string;
  /** The agent's instructions, sent first when the graph's messages have no system message. */
  readonly instructions: string;
  /** The model turn the graph runs in now; undefined between turns. */
  turn: ModelTurn | undefined;
  /**
   * The run's model answers (`RunState.steps`) the graph has been given. Fewer than the run's:
   * the graph resumed from a checkpoint written before the node that got the others, which are
   * given again instead of calling the model.
   */
  delivered: number;
}

const sessions = new Map<string, NativeSession>();

/** Registers `session` while `work` runs. */
export async function withSession<T>(session: NativeSession, work: () => Promise<T>): Promise<T> {
  sessions.set(session.runId, session);
  try {
    return await work();
  } finally {
    sessions.delete(session.runId);
  }
}

/**
 * Stops the graph where it is (its last checkpoint kept): the run's turn is over (a handoff, an
 * approval, a limit, a shutdown). LangGraph lets this error through a tool node, unlike others.
 */
export function turnOver(): GraphDrained {
  return new GraphDrained("the run's model turn is over");
}

/** The session and turn of the run whose graph `config` belongs to; stops the graph when there is none. */
export function sessionOf(config: RunnableConfig | undefined): NativeSession & { turn: ModelTurn } {
  const runId: unknown = config?.configurable?.thread_id;
  const session = typeof runId === "string" ? sessions.get(runId) : undefined;
  if (session?.turn === undefined) throw turnOver();
  if (session.turn.signal?.aborted === true) throw turnOver();
  return session as NativeSession & { turn: ModelTurn };
}
