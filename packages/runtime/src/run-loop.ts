/**
 * The executor of the agent loop: it asks `nextStep` what to do, calls the model or the tools,
 * folds the outcome in with the pure steps, and checkpoints after every step. Checkpoints go through
 * one queue, so parallel tool calls never race each other's writes. With quotas, each model call's
 * tokens count against the tenant's day, a run whose tenant used them up ends (`tokensPerDay`), and
 * a child run past the tenant's runs per minute becomes the delegation's error result.
 *
 * @module
 */
import {
  FreeholdError,
  isoTime,
  isTerminal,
  type AgentSpec,
  type ChatMessage,
  type RunEvent,
  type RunState,
  type ToolCallRecord,
  startDeadline,
} from "@freehold/api";
import type { GenerateResult } from "@freehold/models";
import type { Context } from "@opentelemetry/api";
import {
  applyToolResult,
  finish,
  type RedisEffect,
  type ToolOutcome,
  type Transition,
} from "@freehold/handoff";
import { admitDelegations, startChildRuns } from "./delegations.ts";
import {
  handToPeople,
  recordPeopleRequest,
  requestApprovals,
  transfer,
  type PeopleRequest,
} from "./handoff-transitions.ts";
import { recoverInterrupted } from "./interrupted-calls.ts";
import { parseArguments, type LoopDriver, type LoopOptions, type LoopOutcome } from "./loop-driver.ts";
import { applyModelResult, nextStep } from "./steps.ts";
import { executeToolCall } from "./tool-execution.ts";
import { createToolset, type Toolset } from "./toolset.ts";
import { contextFromTraceparent, inSpan, runtimeTracer, SpanKind, traceparentOf } from "./tracing.ts";

/** The pending calls of a turn that run on MCP servers now (not handoffs, not awaiting approval). */
function ordinaryCalls(calls: readonly ToolCallRecord[]): ToolCallRecord[] {
  return calls.filter((call) => call.special === undefined && call.approval !== "required");
}

/** A call to a tool its server annotates `readOnlyHint`, under `onInterrupt: retry`. */
function changesNothing(call: ToolCallRecord, toolset: Toolset): boolean {
  return (
    call.onInterrupt === "retry" &&
    toolset.tools.some((tool) => tool.name === call.toolCall.name && tool.readOnly === true)
  );
}

/** `state` with the calls whose ids are given marked as started at `startedAt` (or unmarked: undefined). */
function withStarted(state: RunState, ids: ReadonlySet<string>, startedAt: string | undefined): RunState {
  return {
    ...state,
    pendingToolCalls: state.pendingToolCalls.map((call) => {
      if (!ids.has(call.toolCall.id)) return call;
      if (startedAt !== undefined) return { ...call, startedAt };
      const { startedAt: _startedAt, ...rest } = call;
      return rest;
    }),
  };
}

/** The messages sent to the model: the agent's instructions, then the conversation. */
export function modelMessages(spec: AgentSpec, state: RunState): ChatMessage[] {
  return [{ role: "system", content: spec.instructions }, ...state.messages];
}

/** What a framework's own loop gets for one model turn of a run (see {@link RunLoopOptions.modelTurn}). */
export interface ModelTurn {
  /** The run as last checkpointed (or ahead of it by a step deferred to the next write). */
  readonly state: RunState;
  /** The agent's tools as the model sees them: MCP tools within the allow-lists, handoffs, delegations. */
  toolset(): Promise<Toolset>;
  /**
   * One model call on the run's durable conversation: limits and the tenant's tokens checked first,
   * the answer checkpointed with the MCP tool calls it makes recorded as started. Undefined when the
   * turn is over: the run cannot call the model now (calls pending that are not the framework's to
   * run, a limit, the tokens: recorded), the call failed (recorded), or the answer ended the run.
   * `messages` (native mode) is the conversation the framework's code sends instead of the run's;
   * the answer is recorded in the run all the same.
   */
  callModel(messages?: readonly ChatMessage[]): Promise<GenerateResult | undefined>;
  /**
   * The framework's code asks a person (native mode: an interrupt). The request is recorded as a
   * pending handoff call to human queue `queue` (`transfer_to_human_<queue>`, whose result is the
   * person's answer); once the turn returns, the loop hands the run to people (an inbox item).
   * Always set by {@link runLoop}.
   */
  askPeople?(request: PeopleRequest): Promise<void>;
  /**
   * The framework's code ended without a final answer of the model: the run completes with
   * `output`. Always set by {@link runLoop}.
   */
  complete?(output: string): Promise<void>;
  /**
   * Runs one pending MCP tool call (recorded as started first, if it was not) and checkpoints its
   * result. Undefined for a call that is not one to run now: a handoff, a delegation, one awaiting
   * approval, one with a result.
   */
  callTool(toolCallId: string): Promise<ToolOutcome | undefined>;
  readonly signal?: AbortSignal;
}

/** Options of {@link runLoop}. */
export interface RunLoopOptions extends LoopOptions {
  /**
   * Drives a model turn with a framework's own loop (model calls and tool calls through the
   * {@link ModelTurn}, until it stops); the loop then takes over again: handoffs, delegations,
   * approvals, limits. Default: one model call per turn.
   */
  readonly modelTurn?: (turn: ModelTurn) => Promise<void>;
}

/**
 * Works on a run until it ends or the signal asks to stop. Never repeats a tool call recorded as
 * done: a run resumed from a checkpoint continues with the calls still pending, under the same
 * idempotency keys.
 */
export async function runLoop(initial: RunState, options: RunLoopOptions): Promise<LoopOutcome> {
  const { agent, checkpoint, quotas } = options;
  const tracer = options.tracer ?? runtimeTracer();
  const now = options.now ?? (() => new Date());
  /** The run as this loop knows it: the last write's state, or ahead of it by writes in flight or deferred. */
  let state = initial;
  /** The state as last stored (revision and time set by the store). */
  let written = initial;
  /** The state given to the last write (`state` is still it when nothing advanced since). */
  let sent = initial;
  /** Events of steps deferred since the last write, written with the next one. */
  let deferred: readonly RunEvent[] = [];
  let writes = Promise.resolve();
  /** The first write that failed: every write after it fails with it, and the run falls back to `written`. */
  let failure: { readonly error: unknown } | undefined;
  /**
   * Calls this loop recorded as started in the write of the model's answer (one write per step, not
   * two) and has not sent yet: a shutdown before they leave the worker takes the mark back.
   */
  let markedNotSent = new Set<string>();

  /**
   * Applies a transition to the run at once and checkpoints it, one write at a time, in order. A
   * transition that says `defer` is written with the next one instead: only for a step after which
   * nothing leaves the worker before the next write. The promise settles when the write (and every
   * one before it) is stored.
   */
  const commit = (
    transition: (
      current: RunState,
    ) => Transition & { readonly effects?: readonly RedisEffect[]; readonly defer?: boolean },
    /** Write what was deferred even when the transition changes nothing. */
    flush = false,
  ): Promise<void> => {
    if (failure !== undefined) return durable();
    const { state: next, events, effects, defer } = transition(state);
    if (defer === true && effects === undefined) {
      state = next;
      deferred = [...deferred, ...events];
      return durable();
    }
    if (events.length === 0 && effects === undefined) {
      // Nothing new: what was deferred stays so, unless asked to flush.
      const unchanged = next === sent && deferred.length === 0;
      if (unchanged || (next === state && !flush)) return durable();
    }
    const all = deferred.length === 0 ? events : [...deferred, ...events];
    state = next;
    sent = next;
    deferred = [];
    const write = writes.then(async () => {
      if (failure !== undefined) throw failure.error;
      try {
        written = await checkpoint(written, next, all, effects === undefined ? undefined : { effects });
      } catch (error) {
        // The run is what was stored: nothing decides on a step that was not.
        failure = { error };
        state = written;
        sent = written;
        throw error;
      }
      // Nothing advanced since: the run is the stored one.
      if (state === next) {
        state = written;
        sent = written;
      }
    });
    writes = write.catch(() => undefined);
    return write;
  };

  /**
   * Throws the first write that failed: nothing leaves the worker after it (a write sent ahead may
   * fail while the loop goes on, and the loop then knows the run as it was stored, before it).
   */
  function throwIfFailed(): void {
    if (failure !== undefined) throw failure.error;
  }

  /** Settles when every write made so far is stored; fails with the first that failed. */
  function durable(): Promise<void> {
    return writes.then(() => {
      if (failure !== undefined) throw failure.error;
    });
  }

  const parent = contextFromTraceparent(state.traceparent);
  return inSpan<LoopOutcome>(
    tracer,
    `invoke_agent ${agent.name}`,
    parent,
    {
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": agent.name,
      "gen_ai.conversation.id": state.id,
      "freehold.namespace": agent.namespace,
    },
    async (span, runContext) => {
      if (state.status !== "running" || state.traceparent === undefined) {
        const traceparent = state.traceparent ?? traceparentOf(span);
        // Written with the next step: nothing leaves the worker before it but the model request.
        await commit((current) => ({
          state: { ...current, status: "running", traceparent },
          events: [],
          defer: true,
        }));
      }
      // Calls a worker was running when it stopped: their outcome is unknown; each follows its policy.
      await commit((current) => recoverInterrupted(current, now()));
      for (;;) {
        throwIfFailed();
        if (isTerminal(state.status)) {
          await commit((current) => ({ state: current, events: [] }), true);
          span.setAttribute("freehold.run.status", state.status);
          return { kind: "ended", state };
        }
        if (options.signal?.aborted === true) {
          const unmark = markedNotSent;
          markedNotSent = new Set();
          // Writes what was deferred, too.
          await commit(
            (current) => ({
              state: unmark.size > 0 ? withStarted(current, unmark, undefined) : current,
              events: [],
            }),
            true,
          );
          return { kind: "interrupted", state };
        }
        const step = nextStep(state, agent.spec.limits);
        if (step.kind === "stop") {
          await commit((current) => finish(current, "limit_exceeded", now(), { limit: step.limit }));
        } else if (step.kind === "call-model") {
          // The step was just decided: the built-in turn does not decide it again.
          if (options.modelTurn === undefined) await callModel(runContext, true);
          else await options.modelTurn(turnOf(runContext));
        } else {
          const ordinary = ordinaryCalls(step.calls);
          if (ordinary.length > 0) {
            // Recorded as started before any leaves the worker: a resumed run knows which may have
            // run. Calls of the model's last answer were marked in the same write as the answer.
            const unmarked = new Set(
              ordinary.filter((call) => !markedNotSent.has(call.toolCall.id)).map((call) => call.toolCall.id),
            );
            if (unmarked.size > 0) {
              const startedAt = isoTime(now());
              await commit((current) => ({ state: withStarted(current, unmarked, startedAt), events: [] }));
            }
            markedNotSent = new Set();
            await Promise.all(ordinary.map((call) => callTool(call.toolCall.id, runContext)));
          } else {
            const outcome = await handOff(step.calls);
            if (outcome !== undefined) {
              await commit((current) => ({ state: current, events: [] }), true);
              return { kind: outcome, state };
            }
          }
        }
      }
    },
    SpanKind.INTERNAL,
  ).catch(async (error: unknown) => {
    // A tool result's write may still be in flight: it settles before the run goes back to its queue.
    await writes;
    throw error;
  });

  /**
   * The turn's remaining calls are handoffs, delegations or calls that need approval: turn them into
   * waiting (approval items, an inbox item, child runs) or a transfer. Other calls ran first.
   */
  async function handOff(calls: readonly ToolCallRecord[]): Promise<"suspended" | "moved" | undefined> {
    const needApproval = calls.filter((call) => call.approval === "required");
    if (needApproval.length > 0) {
      const time = isoTime(now());
      await commit((current) => requestApprovals(current, needApproval, agent, time));
      return "suspended";
    }
    const [first] = calls;
    const special = first?.special;
    if (first === undefined || special === undefined) return undefined;
    if (special.kind === "transfer") {
      if (state.hops >= agent.spec.limits.maxHandoffs) {
        await commit((current) => finish(current, "limit_exceeded", now(), { limit: "maxHandoffs" }));
        return undefined;
      }
      const note = parseArguments(first.toolCall.arguments).note;
      await commit((current) =>
        transfer(current, first, {
          from: agent.name,
          to: special.agent,
          note: typeof note === "string" ? note : "",
          now: now(),
        }),
      );
      return "moved";
    }
    if (special.kind === "human") {
      const time = isoTime(now());
      await commit((current) => handToPeople(current, first, { agent, queue: special.queue, time }));
      return "suspended";
    }
    // Delegations: every one of the turn starts a child run, and the run waits for them all. A child
    // run the tenant's runs per minute refuses is that call's error result instead.
    const admission = await admitDelegations(state, calls, agent, quotas);
    await commit((current) => startChildRuns(current, admission, agent, now()));
    return admission.asked.length === 0 ? undefined : "suspended";
  }

  /** What a framework's loop gets for a model turn: this run's model and tool calls. */
  function turnOf(runContext: Context): ModelTurn {
    return {
      get state() {
        return state;
      },
      toolset: currentToolset,
      callModel: (messages) => callModel(runContext, false, messages),
      askPeople: (request) => commit((current) => recordPeopleRequest(current, request, now())),
      complete: (output) =>
        commit((current) =>
          isTerminal(current.status)
            ? { state: current, events: [] }
            : finish(current, "completed", now(), { output }),
        ),
      async callTool(toolCallId) {
        const record = state.pendingToolCalls.find((call) => call.toolCall.id === toolCallId);
        if (record?.status !== "pending" || record.special !== undefined || record.approval === "required") {
          return undefined;
        }
        if (record.startedAt === undefined) {
          const startedAt = isoTime(now());
          await commit((current) => ({
            state: withStarted(current, new Set([toolCallId]), startedAt),
            events: [],
          }));
        }
        markedNotSent.delete(toolCallId);
        return callTool(toolCallId, runContext);
      },
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    };
  }

  async function currentToolset(): Promise<Toolset> {
    return createToolset(await agent.broker.listTools(), agent.spec.tools ?? [], agent.specials);
  }

  /**
   * One durable model call (`decided`: the loop found just now that the next step is one). Undefined
   * when the run does not go on with an answer: it cannot call the model now (calls pending, a limit
   * or the tenant's tokens: recorded), the call failed (recorded), or the answer ended the run.
   */
  async function callModel(
    runContext: Context,
    decided: boolean,
    messages?: readonly ChatMessage[],
  ): Promise<GenerateResult | undefined> {
    if (!decided && nextStep(state, agent.spec.limits).kind !== "call-model") return undefined;
    await stopIfCancelled();
    if (quotas !== undefined && (await quotas.tokensExhausted(agent.namespace))) {
      await commit((current) => finish(current, "limit_exceeded", now(), { limit: "tokensPerDay" }));
      return undefined;
    }
    const toolset = await currentToolset();
    throwIfFailed();
    const remainingMs = agent.spec.limits.timeoutSeconds * 1000 - state.activeMs;
    const started = now();
    const modelName = `${agent.model.provider}/${agent.model.modelId}`;
    let result: GenerateResult;
    try {
      result = await inSpan(
        tracer,
        `chat ${agent.model.modelId}`,
        runContext,
        {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": agent.model.provider,
          "gen_ai.request.model": agent.model.modelId,
        },
        async (span) => {
          const deadline = startDeadline(Math.max(1, remainingMs));
          let generated: GenerateResult;
          try {
            generated = await agent.model.generate({
              messages: messages ?? modelMessages(agent.spec, state),
              tools: toolset.definitions,
              signal: deadline.signal,
            });
          } finally {
            deadline.clear();
          }
          span.setAttributes({
            "gen_ai.response.model": generated.model,
            "gen_ai.usage.input_tokens": generated.usage.inputTokens,
            "gen_ai.usage.output_tokens": generated.usage.outputTokens,
            "gen_ai.response.finish_reasons": [generated.finishReason],
          });
          return generated;
        },
        SpanKind.CLIENT,
      );
    } catch (error) {
      const durationMs = now().getTime() - started.getTime();
      if (state.activeMs + durationMs >= agent.spec.limits.timeoutSeconds * 1000) {
        await commit((current) =>
          finish({ ...current, activeMs: current.activeMs + durationMs }, "limit_exceeded", now(), {
            limit: "timeoutSeconds",
          }),
        );
        return undefined;
      }
      const failure =
        error instanceof FreeholdError
          ? { code: error.code, message: `model ${modelName} failed: ${error.message}` }
          : { code: "model.provider", message: `model ${modelName} failed: ${String(error)}` };
      await commit((current) =>
        finish({ ...current, activeMs: current.activeMs + durationMs }, "failed", now(), { error: failure }),
      );
      return undefined;
    }
    // Redis failing from here on (down, full: store.full, the run taken over) is not the model's
    // failure: it propagates, and the job is retried from the last checkpoint.
    const durationMs = now().getTime() - started.getTime();
    // The tenant's tokens are counted while the answer is written (two round trips at once, not one
    // after the other). The calls the answer makes leave only once both are done: a count past the
    // tenant's day ends the run with them unsent, and so does a count that failed (then the job is
    // retried), the write that ends it taking their started marks back.
    const before = writes;
    /** The calls this answer's write records as started: whether every one changes nothing (see changesNothing). */
    const marked = { readOnly: false };
    const count = quotas?.addTokens(agent.namespace, result.usage.inputTokens + result.usage.outputTokens);
    const answer = commit((current) => {
      const advanced = applyModelResult(current, result, toolset, { now: now(), durationMs });
      // The calls the loop sends next are recorded as started in this same write.
      const next = isTerminal(advanced.state.status)
        ? undefined
        : nextStep(advanced.state, agent.spec.limits);
      const toSend = next?.kind === "call-tools" ? ordinaryCalls(next.calls) : [];
      // A turn of transfers only: its answer is written with the transfer, the next step, as
      // nothing leaves the worker in between (a worker that dies there calls the model again).
      if (
        next?.kind === "call-tools" &&
        next.calls.every((call) => call.special?.kind === "transfer" && call.approval !== "required")
      ) {
        return { ...advanced, defer: true };
      }
      if (toSend.length === 0 || options.signal?.aborted === true) return advanced;
      markedNotSent = new Set(toSend.map((call) => call.toolCall.id));
      marked.readOnly = toSend.every((call) => changesNothing(call, toolset));
      return {
        ...advanced,
        state: withStarted(advanced.state, markedNotSent, isoTime(now())),
      };
    });
    // Except calls that change nothing and may run again: every call of the answer is to a tool its
    // server annotates `readOnlyHint`, under `onInterrupt: retry`. They leave while the answer's
    // write is in flight (once the write before it is stored: one in flight at a time). A worker
    // that dies before it is stored leaves the answer unsaved, and the model is asked again; one
    // that dies after it runs the calls again, as their policy says; a write Redis refuses fails the
    // run before its next step. Not while cancels reach the loop only through its writes (a
    // cancelled run would still send them), nor in native mode.
    const early = marked.readOnly && runsAhead();
    if (early) answer.catch(() => undefined); // Its failure is the next step's to report.
    const [counted, answered] = await Promise.allSettled([count, early ? before : answer]);
    if (answered.status === "rejected") throw answered.reason;
    // This call used up the tenant's tokens: the run ends here, unless it just answered.
    const exceeded = counted.status === "fulfilled" && counted.value?.exceeded === true;
    if ((exceeded && !isTerminal(state.status)) || counted.status === "rejected") {
      const unmark = markedNotSent;
      markedNotSent = new Set();
      await commit((current) => {
        const unsent = unmark.size > 0 ? withStarted(current, unmark, undefined) : current;
        return exceeded
          ? finish(unsent, "limit_exceeded", now(), { limit: "tokensPerDay" })
          : { state: unsent, events: [] };
      }, true);
      if (counted.status === "rejected") throw counted.reason;
    }
    return isTerminal(state.status) ? undefined : result;
  }

  async function callTool(toolCallId: string, runContext: Context): Promise<ToolOutcome | undefined> {
    const record = state.pendingToolCalls.find((call) => call.toolCall.id === toolCallId);
    if (record === undefined) return undefined;
    const startedAt = record.startedAt === undefined ? now() : new Date(record.startedAt);
    await stopIfCancelled();
    throwIfFailed();
    const outcome = await executeToolCall(agent, record, { tracer, context: runContext });
    if (outcome === undefined) return undefined;
    // Without cancels pushed to this loop, the result is stored before the model is asked again, so
    // a run cancelled while the tool ran spends no model call: the write fails. With them (a cancel
    // is seen before the model call), the loop goes on while the write is in flight: the model call
    // does not wait for it, the next write does (and fails with it). A worker that dies meanwhile
    // leaves the result stored or not, as one that dies just after the call; a refused write costs
    // the model call, whose answer is not written. The result of a call that may run again
    // (`onInterrupt: retry`) is not even sent: it goes with the next write, the model's answer, and
    // a worker that dies in between runs the call again, as its policy says. Neither in native mode,
    // where the framework's code may keep state of its own that must not run ahead.
    const ahead = runsAhead();
    const stored = commit((current) => ({
      ...applyToolResult(current, toolCallId, outcome, { now: now(), startedAt }),
      defer: ahead && record.onInterrupt === "retry",
    }));
    // Its failure is the next write's (and `durable()`'s) to report.
    if (ahead) stored.catch(() => undefined);
    else await stored;
    return outcome;
  }

  /**
   * The loop may go on while a write is in flight: cancels reach it without its writes (so a run
   * cancelled meanwhile is seen before its next model or tool call), and no framework code of the
   * agent's own (native mode) keeps state that must not run ahead of the stored run.
   */
  function runsAhead(): boolean {
    return agent.code === undefined && options.cancelNotices?.live() === true;
  }

  /**
   * A cancel of the run was announced: writes what the loop has not written (or an unchanged run),
   * which fails as the run is cancelled, so nothing more leaves the worker.
   */
  async function stopIfCancelled(): Promise<void> {
    if (options.cancelNotices?.cancelled() !== true) return;
    await commit((current) => ({ state: { ...current }, events: [] }), true);
  }
}

/** The built-in loop as a driver: agents with `spec.framework: freehold` (the default). */
export const builtInDriver: LoopDriver = { framework: "freehold", run: runLoop };
