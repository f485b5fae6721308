/**
 * The loop driver: what advances a run. The built-in loop (run-loop.ts) is one driver; a framework
 * adapter is another. Every driver gets the same resolved agent (model, MCP tools behind the broker's
 * allow-lists, handoff and delegation tools, limits) and the same checkpoint, and reports through
 * them: each step's state and events go through `checkpoint`, which is the run's durable history and
 * its event stream. What a driver does with a turn's special calls (transfers, child runs, people,
 * approvals) it does with the shared transitions (handoff-transitions.ts, delegations.ts), and a tool
 * call with `executeToolCall` (tool-execution.ts): no driver keeps a copy of them.
 *
 * @module
 */
import type { AgentSpec, Framework, HumanQueueSpec, RunEvent, RunState } from "@freehold/api";
import type { Quotas, RedisClient, RedisEffect } from "@freehold/handoff";
import type { ToolBroker } from "@freehold/mcp";
import type { LanguageModel } from "@freehold/models";
import type { Tracer } from "@opentelemetry/api";
import type { SpecialTool } from "./special-tools.ts";

/** An agent ready to run: its spec, its model and its tools. */
export interface ResolvedAgent {
  readonly namespace: string;
  readonly name: string;
  readonly spec: AgentSpec;
  readonly model: LanguageModel;
  readonly broker: ToolBroker;
  /** Handoff and delegation tools from the spec (see special-tools.ts). */
  readonly specials: readonly SpecialTool[];
  /** The namespace's human queues, for the handoff items' leases. */
  readonly humanQueues: ReadonlyMap<string, HumanQueueSpec>;
  /**
   * The export `spec.code` names (native mode), imported from the worker's code root on the first
   * call; undefined for an agent without `spec.code`.
   */
  readonly code?: () => Promise<unknown>;
}

/** Writes a new state and its events if the stored state is still `previous` (see RunStore.checkpoint). */
export type Checkpoint = (
  previous: RunState,
  next: RunState,
  events: readonly RunEvent[],
  extra?: { readonly effects?: readonly RedisEffect[] },
) => Promise<RunState>;

/** What a driver is given to work on a run. */
export interface LoopOptions {
  readonly agent: ResolvedAgent;
  readonly checkpoint: Checkpoint;
  /** When it aborts, the driver stops at the next step boundary (graceful shutdown). */
  readonly signal?: AbortSignal;
  readonly tracer?: Tracer;
  /** The clock; tests pass their own. */
  readonly now?: () => Date;
  /** The tenant's quotas (tokens per day, child runs per minute); default: none enforced. */
  readonly quotas?: Quotas;
  /**
   * The run store's Redis, for a framework's own durable state kept under the run's keys (native
   * LangGraph's checkpoints); absent where the driver is run without a worker.
   */
  readonly redis?: RedisClient;
  /**
   * Cancels of this run pushed to the worker (see `watchCancels`); absent, the loop learns of a
   * cancel only from a write that fails.
   */
  readonly cancelNotices?: CancelNotices;
}

/** What a loop knows of its run's cancel without reading the run. */
export interface CancelNotices {
  /**
   * True while a cancel of the run would reach the loop at once (the worker's watch is subscribed):
   * the loop may then write a step's results with its next write (tools whose `onInterrupt` is
   * `retry`), or ask the model again while their write is in flight (the others), send a read-only
   * tool's call (`retry`) while the answer that makes it is being written, and still not spend a
   * model call on a cancelled run.
   */
  live(): boolean;
  /**
   * True once a cancel of the run was announced. The loop then writes before its next call, and only
   * that write, refused, stops it: a notice that was not a cancel costs a write, nothing more.
   */
  cancelled(): boolean;
}

/**
 * How a driver left the run: ended (terminal status); interrupted (shutdown) to resume elsewhere;
 * suspended, waiting for people, approvals or child runs; moved to another agent's queue.
 */
export type LoopOutcome = {
  readonly kind: "ended" | "interrupted" | "suspended" | "moved";
  readonly state: RunState;
};

/**
 * Advances runs of the agents whose `spec.framework` is `framework`. `run` works on a run from the
 * state it is given (a fresh run, or one resumed from its last checkpoint after a crash) until the
 * run ends, waits, moves to another agent, or `options.signal` aborts; every step it takes is
 * checkpointed before the next one is (a result of a `retry` call may go with the model's next answer,
 * and the next model call may be sent while a result's write is in flight: see `CancelNotices`), and
 * a tool call is recorded as started before it leaves the worker (a read-only tool's `retry` call
 * may leave while that write is in flight).
 *
 * @example
 * ```ts
 * const echo: LoopDriver = {
 *   framework: "freehold",
 *   run: (state, options) => runLoop(state, options),
 * };
 * ```
 */
export interface LoopDriver {
  readonly framework: Framework;
  /**
   * Whether the driver runs agents that are the team's own framework code (`spec.code`, native
   * mode); a worker refuses runs of such agents on a driver without it (`runtime.native-unsupported`).
   */
  readonly runsCode?: boolean;
  run(state: RunState, options: LoopOptions): Promise<LoopOutcome>;
}

/** The arguments of a tool call as an object: `{}` when they are absent or not a JSON object. */
export function parseArguments(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text === "" ? "{}" : text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
