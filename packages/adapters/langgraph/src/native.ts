/**
 * Native mode: the agent is the team's own LangGraph graph (`spec.code`), run on Freehold's durable
 * runtime. The export is a compiled graph, a `StateGraph`, or a factory
 * `({ model, tools, checkpointer }) => graph` that gets Freehold's pieces (native-model.ts,
 * native-tools.ts, run-checkpointer.ts). The graph runs with Freehold's checkpointer whatever it
 * was compiled with (thread = the run), so it resumes from its last super-step after a worker stops;
 * its `interrupt()`s become inbox items of a human queue of `spec.handoffs`, and a person's answer
 * resumes it (`Command({ resume })`).
 *
 * @module
 */
import { FreeholdError, isTerminal, priorities, type ChatMessage, type RunState } from "@freehold/api";
import {
  createToolset,
  isTurnOver,
  parseArguments,
  runLoop,
  withCodeTools,
  type LoopOptions,
  type LoopOutcome,
  type ModelTurn,
  type PeopleRequest,
  type ResolvedAgent,
} from "@freehold/runtime";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { BaseMessage } from "@langchain/core/messages";
import type { StructuredToolInterface } from "@langchain/core/tools";
import {
  Command,
  isGraphDrained,
  RunControl,
  type BaseCheckpointSaver,
  type CompiledStateGraph,
} from "@langchain/langgraph";
import { langSmithRequested, localTracer } from "./local-tracer.ts";
import { toBaseMessages } from "./messages.ts";
import { FreeholdChatModel } from "./native-model.ts";
import { withSession, type NativeSession } from "./native-session.ts";
import { durableToolNodes, freeholdTools, markDurable } from "./native-tools.ts";
import { createRunCheckpointer, type RunCheckpointer } from "./run-checkpointer.ts";

/** What a graph factory gets: Freehold's pieces, in LangChain's types. */
export interface FreeholdGraphPieces {
  /** The agent's Model resource; each call durable (see native-model.ts). */
  readonly model: BaseChatModel;
  /** The manifest's MCP tools, handoffs and agents as tools; each call durable (see native-tools.ts). */
  readonly tools: StructuredToolInterface[];
  /** The run's checkpointer (compile with it, or leave it: Freehold sets it anyway). */
  readonly checkpointer: BaseCheckpointSaver;
}

/** A graph as the adapter runs it. */
type RunnableGraph = CompiledStateGraph<any, any, any, any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "function") return "a function";
  if (typeof value !== "object") return `a ${typeof value}`;
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  return name === undefined || name === "Object" ? "an object" : `a ${name}`;
}

function codeInvalid(agent: ResolvedAgent, found: string): FreeholdError {
  const code = agent.spec.code;
  return new FreeholdError(
    "adapter.langgraph.code-invalid",
    `agent ${agent.name}'s code (${code?.module ?? "?"}, export ${code?.export ?? "default"}) is ${found}; export a compiled LangGraph graph (graph.compile(), createReactAgent(...)), a StateGraph, or a function ({ model, tools, checkpointer }) => graph`,
    { details: { agent: agent.name, found } },
  );
}

function isStateGraph(
  value: unknown,
): value is { compile(options: { checkpointer: BaseCheckpointSaver }): unknown } {
  const shape = value as { compile?: unknown; addNode?: unknown } | null;
  return typeof shape?.compile === "function" && typeof shape.addNode === "function";
}

function isCompiledGraph(value: unknown): value is RunnableGraph {
  const shape = value as { invoke?: unknown; getState?: unknown; nodes?: unknown } | null;
  return (
    typeof shape?.invoke === "function" &&
    typeof shape.getState === "function" &&
    typeof shape.nodes === "object" &&
    shape.nodes !== null
  );
}

/** The export as a compiled graph with `checkpointer` (a copy: an exported graph serves every run). */
export async function resolveGraph(
  agent: ResolvedAgent,
  exported: unknown,
  pieces: FreeholdGraphPieces,
): Promise<RunnableGraph> {
  let value = exported;
  if (typeof value === "function") value = await (value as (pieces: FreeholdGraphPieces) => unknown)(pieces);
  // By shape, not instanceof: the code's @langchain/langgraph may be another copy than the worker's.
  if (isStateGraph(value)) return value.compile({ checkpointer: pieces.checkpointer }) as RunnableGraph;
  if (isCompiledGraph(value)) {
    // A copy with the run's checkpointer, as LangGraph's own withConfig copies a graph.
    const Graph = value.constructor as new (fields: object) => RunnableGraph;
    // eslint-disable-next-line @typescript-eslint/no-misused-spread -- the fields, as LangGraph's withConfig copies them
    return new Graph({ ...value, checkpointer: pieces.checkpointer });
  }
  throw codeInvalid(
    agent,
    typeof exported === "function" ? `a function that returned ${describe(value)}` : describe(value),
  );
}

/** The human queue and the summary of an interrupt's value. */
export function peopleRequest(agent: ResolvedAgent, value: unknown, ref: string): PeopleRequest {
  const queues = (agent.spec.handoffs ?? []).flatMap((handoff) =>
    handoff.humanQueue === undefined ? [] : [handoff.humanQueue],
  );
  const fields = typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  const named = typeof fields.queue === "string" ? fields.queue : undefined;
  if (named !== undefined && !queues.includes(named)) {
    throw new FreeholdError(
      "adapter.langgraph.interrupt-queue",
      `agent ${agent.name}'s graph called interrupt() for human queue ${named}, which its spec.handoffs does not list (${queues.join(", ") || "none"}); add { humanQueue: ${named} } to spec.handoffs or name a listed queue`,
      { details: { agent: agent.name, queue: named } },
    );
  }
  const queue = named ?? queues[0];
  if (queue === undefined) {
    throw new FreeholdError(
      "adapter.langgraph.interrupt-no-queue",
      `agent ${agent.name}'s graph called interrupt(), but its spec.handoffs lists no human queue to ask; add { humanQueue: <queue> } to spec.handoffs`,
      { details: { agent: agent.name } },
    );
  }
  const text = [fields.summary, fields.question, fields.message].find((entry) => typeof entry === "string");
  const summary = typeof value === "string" ? value : typeof text === "string" ? text : JSON.stringify(value);
  const reason = typeof fields.reason === "string" ? fields.reason : undefined;
  const priority = priorities.find((entry) => entry === fields.priority);
  return {
    queue,
    summary,
    ref,
    ...(reason === undefined ? {} : { reason }),
    ...(priority === undefined ? {} : { priority }),
  };
}

/** The answer of a person to the request with `ref`, once the run has it. */
function answerTo(messages: readonly ChatMessage[], ref: string): string | undefined {
  const id = messages
    .flatMap((message) => (message.role === "assistant" ? (message.toolCalls ?? []) : []))
    .findLast((call) => call.id.startsWith("interrupt_") && parseArguments(call.arguments).ref === ref)?.id;
  const answer = messages.find((message) => message.role === "tool" && message.toolCallId === id);
  return answer?.role === "tool" ? answer.content : undefined;
}

/** The graph's result as the run's output: the text of its last message, else its state as JSON. */
function outputOf(values: unknown): string {
  const messages = (values as { messages?: BaseMessage[] } | undefined)?.messages;
  const last = Array.isArray(messages) ? messages.at(-1) : undefined;
  if (last !== undefined) return typeof last.content === "string" ? last.content : last.text;
  return JSON.stringify(values ?? null);
}

/** The run waits for people (the loop makes the inbox item when the turn returns). */
async function ask(turn: ModelTurn, request: PeopleRequest): Promise<void> {
  if (turn.askPeople === undefined)
    throw new FreeholdError("runtime.internal", "the run's loop cannot ask people");
  await turn.askPeople(request);
}

/** The run completes with the graph's output. */
async function complete(turn: ModelTurn, output: string): Promise<void> {
  if (turn.complete === undefined)
    throw new FreeholdError("runtime.internal", "the run's loop cannot complete it");
  await turn.complete(output);
}

interface Interrupted {
  readonly id: string;
  readonly value: unknown;
}

/** One model turn of a native run: the graph runs (or resumes) until it ends, stops or interrupts. */
async function nativeTurn(
  agent: ResolvedAgent,
  graph: RunnableGraph,
  session: NativeSession,
  turn: ModelTurn,
): Promise<void> {
  const control = new RunControl();
  const drain = () => {
    control.requestDrain("shutdown");
  };
  turn.signal?.addEventListener("abort", drain, { once: true });
  const config = {
    configurable: { thread_id: session.runId },
    // Limits are the runtime's (checked before every model call); this bounds one invocation.
    recursionLimit: Math.max(25, 4 * (agent.spec.limits.maxSteps + 2)),
    // Each super-step's checkpoint is written before the next step starts.
    durability: "sync" as const,
    control,
    // LangSmith never gets the run (local-tracer.ts); no callbacks otherwise (see driver.ts).
    ...(langSmithRequested() ? { callbacks: [localTracer()] } : {}),
  };
  // Every step of the run (a write, or one under way) makes a new state.
  const startedFrom = turn.state;
  session.turn = turn;
  try {
    const before = await graph.getState(config);
    const pending: Interrupted[] = before.tasks.flatMap((task) => task.interrupts as Interrupted[]);
    let input: Command | { messages: BaseMessage[] } | null;
    const [asked] = pending;
    if (before.config.configurable?.checkpoint_id === undefined) {
      // A new graph: the conversation so far is its input.
      input = { messages: toBaseMessages(turn.state.messages) };
    } else if (asked !== undefined) {
      const answer = answerTo(turn.state.messages, asked.id);
      if (answer === undefined) {
        // The request was not recorded before the worker stopped: ask again.
        await ask(turn, peopleRequest(agent, asked.value, asked.id));
        return;
      }
      input = new Command({ resume: answer });
    } else if (before.next.length === 0) {
      await complete(turn, outputOf(before.values));
      return;
    } else {
      input = null;
    }
    try {
      await graph.invoke(input, config);
    } catch (error) {
      if (isGraphDrained(error) || isTurnOver(error) || turn.signal?.aborted === true) return;
      throw error;
    }
    const after = await graph.getState(config);
    const [interrupt] = after.tasks.flatMap((task) => task.interrupts as Interrupted[]);
    if (interrupt !== undefined) {
      await ask(turn, peopleRequest(agent, interrupt.value, interrupt.id));
    } else if (after.next.length === 0 && !isTerminal(turn.state.status)) {
      await complete(turn, outputOf(after.values));
    }
  } finally {
    session.turn = undefined;
    turn.signal?.removeEventListener("abort", drain);
  }
  if (turn.state === startedFrom && turn.signal?.aborted !== true) {
    throw new FreeholdError(
      "adapter.langgraph.stalled",
      `agent ${agent.name}'s graph stopped without a step of the run (no model call, tool call, interrupt or end); check that its nodes call the model Freehold supplies`,
    );
  }
}

/**
 * Runs a native agent's graph on `state` (options.agent.code set). Needs the run store's Redis
 * (`options.redis`), where its checkpoints go.
 */
export async function runNative(state: RunState, options: LoopOptions): Promise<LoopOutcome> {
  const { agent, redis } = options;
  if (agent.code === undefined) throw codeInvalid(agent, "missing (no spec.code)");
  if (redis === undefined) {
    throw new FreeholdError(
      "adapter.langgraph.store-missing",
      `agent ${agent.name} is a native LangGraph graph, whose checkpoints go to the run store; run it in a Freehold worker (freehold worker, freehold dev), which gives the driver the store's Redis`,
    );
  }
  const checkpointer: RunCheckpointer = createRunCheckpointer({
    redis,
    namespace: agent.namespace,
    runId: state.id,
    steps: () => session.turn?.state.steps ?? session.delivered,
  });
  const session: NativeSession = {
    runId: state.id,
    instructions: agent.spec.instructions,
    turn: undefined,
    delivered: (await checkpointer.stepsAtLatest()) ?? state.steps,
  };
  const toolset = createToolset(await agent.broker.listTools(), agent.spec.tools ?? [], agent.specials);
  const tools = freeholdTools(session, toolset);
  markDurable(tools);
  const exported = await agent.code();
  const graph = await resolveGraph(agent, exported, {
    model: new FreeholdChatModel(session),
    tools,
    checkpointer,
  });
  const withCode = withCodeTools(agent, durableToolNodes(graph));
  const outcome = await withSession(session, () =>
    runLoop(state, {
      ...options,
      agent: withCode,
      modelTurn: (turn) => nativeTurn(withCode, graph, session, turn),
    }),
  );
  // A finished run's graph keeps the run's retention; one that moved to another agent starts anew
  // if it comes back (its checkpoints would give that agent's answers to this graph).
  if (outcome.kind === "ended") await checkpointer.expireWithRun();
  if (outcome.kind === "moved") await checkpointer.deleteThread(state.id);
  return outcome;
}
