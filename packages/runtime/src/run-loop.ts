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
  isTerminal,
  priorities,
  type AgentSpec,
  type ChatMessage,
  type HumanQueueSpec,
  type Priority,
  type RunEvent,
  type RunState,
  type ToolCallRecord,
} from "@freehold/api";
import type { ToolBroker } from "@freehold/mcp";
import type { GenerateResult, LanguageModel } from "@freehold/models";
import type { Context, Tracer } from "@opentelemetry/api";
import {
  applyToolResult,
  approvalItemEffects,
  dispatchKey,
  finish,
  inboxItemEffects,
  newRun,
  newRunEffects,
  runsExceededCode,
  type Quotas,
  type RedisEffect,
  type ToolOutcome,
  type Transition,
} from "@freehold/handoff";
import { applyModelResult, nextStep } from "./steps.ts";
import { toolResultText, type ToolResultLike } from "./tool-result-text.ts";
import type { SpecialTool } from "./special-tools.ts";
import { createToolset, type Toolset } from "./toolset.ts";
import { contextFromTraceparent, inSpan, runtimeTracer, SpanKind, traceparentOf } from "./tracing.ts";

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
}

/** Writes a new state and its events if the stored state is still `previous` (see RunStore.checkpoint). */
export type Checkpoint = (
  previous: RunState,
  next: RunState,
  events: readonly RunEvent[],
  extra?: { readonly effects?: readonly RedisEffect[] },
) => Promise<RunState>;

/** Options of {@link runLoop}. */
export interface LoopOptions {
  readonly agent: ResolvedAgent;
  readonly checkpoint: Checkpoint;
  /** When it aborts, the loop stops at the next step boundary (graceful shutdown). */
  readonly signal?: AbortSignal;
  readonly tracer?: Tracer;
  /** The clock; tests pass their own. */
  readonly now?: () => Date;
  /** The tenant's quotas (tokens per day, child runs per minute); default: none enforced. */
  readonly quotas?: Quotas;
}

/**
 * How the loop left the run: ended (terminal status); interrupted (shutdown) to resume elsewhere;
 * suspended, waiting for people, approvals or child runs; moved to another agent's queue.
 */
export type LoopOutcome = {
  readonly kind: "ended" | "interrupted" | "suspended" | "moved";
  readonly state: RunState;
};

function parseArguments(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text === "" ? "{}" : text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/** The pending calls of a turn that run on MCP servers now (not handoffs, not awaiting approval). */
function ordinaryCalls(calls: readonly ToolCallRecord[]): ToolCallRecord[] {
  return calls.filter((call) => call.special === undefined && call.approval !== "required");
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

/**
 * Works on a run until it ends or the signal asks to stop. Never repeats a tool call recorded as
 * done: a run resumed from a checkpoint continues with the calls still pending, under the same
 * idempotency keys.
 */
export async function runLoop(initial: RunState, options: LoopOptions): Promise<LoopOutcome> {
  const { agent, checkpoint, quotas } = options;
  const tracer = options.tracer ?? runtimeTracer();
  const now = options.now ?? (() => new Date());
  let state = initial;
  /** The state as last written; `state` is ahead of it by the steps deferred since, with `deferred`. */
  let written = initial;
  let deferred: readonly RunEvent[] = [];
  let writes = Promise.resolve();
  /**
   * Calls this loop recorded as started in the write of the model's answer (one write per step, not
   * two) and has not sent yet: a shutdown before they leave the worker takes the mark back.
   */
  let markedNotSent = new Set<string>();

  /**
   * Applies a transition to the latest state and checkpoints it, one write at a time. A transition
   * that says `defer` is written with the next one instead: only for a step after which nothing
   * leaves the worker before the next write.
   */
  const commit = (
    transition: (
      current: RunState,
    ) => Transition & { readonly effects?: readonly RedisEffect[]; readonly defer?: boolean },
  ): Promise<void> => {
    const write = writes.then(async () => {
      const { state: next, events, effects, defer } = transition(state);
      if (defer === true && effects === undefined) {
        state = next;
        deferred = [...deferred, ...events];
        return;
      }
      if (next === written && events.length === 0) return;
      const all = deferred.length === 0 ? events : [...deferred, ...events];
      state = await checkpoint(written, next, all, effects === undefined ? undefined : { effects });
      written = state;
      deferred = [];
    });
    writes = write.catch(() => undefined);
    return write;
  };

  const parent = contextFromTraceparent(state.traceparent);
  return inSpan(
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
        await commit((current) => ({ state: { ...current, status: "running", traceparent }, events: [] }));
      }
      // Calls a worker was running when it stopped: their outcome is unknown; each follows its policy.
      await commit((current) => recoverInterrupted(current, now()));
      for (;;) {
        if (isTerminal(state.status)) {
          span.setAttribute("freehold.run.status", state.status);
          return { kind: "ended", state };
        }
        if (options.signal?.aborted === true) {
          const unmark = markedNotSent;
          markedNotSent = new Set();
          // Writes what was deferred, too.
          await commit((current) => ({
            state: unmark.size > 0 ? withStarted(current, unmark, undefined) : current,
            events: [],
          }));
          return { kind: "interrupted", state };
        }
        const step = nextStep(state, agent.spec.limits);
        if (step.kind === "stop") {
          await commit((current) => finish(current, "limit_exceeded", now(), { limit: step.limit }));
        } else if (step.kind === "call-model") {
          if (quotas !== undefined && (await quotas.tokensExhausted(agent.namespace))) {
            await commit((current) => finish(current, "limit_exceeded", now(), { limit: "tokensPerDay" }));
          } else {
            await callModel(runContext);
          }
        } else {
          const ordinary = ordinaryCalls(step.calls);
          if (ordinary.length > 0) {
            // Recorded as started before any leaves the worker: a resumed run knows which may have
            // run. Calls of the model's last answer were marked in the same write as the answer.
            const unmarked = new Set(
              ordinary.filter((call) => !markedNotSent.has(call.toolCall.id)).map((call) => call.toolCall.id),
            );
            if (unmarked.size > 0) {
              const startedAt = now().toISOString();
              await commit((current) => ({ state: withStarted(current, unmarked, startedAt), events: [] }));
            }
            markedNotSent = new Set();
            await Promise.all(ordinary.map((call) => callTool(call.toolCall.id, runContext)));
          } else {
            const outcome = await handOff(step.calls);
            if (outcome !== undefined) return { kind: outcome, state };
          }
        }
      }
    },
    SpanKind.INTERNAL,
  );

  /**
   * The turn's remaining calls are handoffs, delegations or calls that need approval: turn them into
   * waiting (approval items, an inbox item, child runs) or a transfer. Other calls ran first.
   */
  async function handOff(calls: readonly ToolCallRecord[]): Promise<"suspended" | "moved" | undefined> {
    const time = now().toISOString();
    const needApproval = calls.filter((call) => call.approval === "required");
    if (needApproval.length > 0) {
      await commit((current) => {
        const reason =
          [...current.messages].reverse().find((message) => message.role === "assistant")?.content ?? "";
        const effects = needApproval.flatMap((call) =>
          approvalItemEffects({
            schemaVersion: 1,
            id: call.idempotencyKey,
            namespace: agent.namespace,
            agent: agent.name,
            runId: current.id,
            toolCall: call.toolCall,
            server: call.server ?? "",
            tool: call.tool ?? call.toolCall.name,
            arguments: parseArguments(call.toolCall.arguments),
            reason: (call.interruptions ?? 0) > 0 ? interruptedReason(call) : reason,
            createdAt: time,
          }),
        );
        return {
          state: {
            ...current,
            status: "waiting_for_approval",
            waiting: { kind: "approval", itemIds: needApproval.map((call) => call.idempotencyKey) },
          },
          events: needApproval.map((call) => ({
            type: "approval-request" as const,
            runId: current.id,
            time,
            itemId: call.idempotencyKey,
            toolCall: call.toolCall,
            server: call.server ?? "",
            tool: call.tool ?? call.toolCall.name,
          })),
          effects,
        };
      });
      return "suspended";
    }
    const [first] = calls;
    const special = first?.special;
    if (first === undefined || special === undefined) return undefined;
    const args = parseArguments(first.toolCall.arguments);
    if (special.kind === "transfer") {
      if (state.hops >= agent.spec.limits.maxHandoffs) {
        await commit((current) => finish(current, "limit_exceeded", now(), { limit: "maxHandoffs" }));
        return undefined;
      }
      const note = typeof args.note === "string" ? args.note : "";
      await commit((current) => {
        let moved = applyToolResult(
          current,
          first.toolCall.id,
          { content: `Transferred to ${special.agent}.`, isError: false },
          { now: now(), startedAt: now() },
        );
        const events: RunEvent[] = [...moved.events];
        for (const other of moved.state.pendingToolCalls.filter((call) => call.status === "pending")) {
          const skipped = applyToolResult(
            moved.state,
            other.toolCall.id,
            { content: `Not done: the conversation moved to ${special.agent}.`, isError: true },
            { now: now(), startedAt: now() },
          );
          moved = skipped;
          events.push(...skipped.events);
        }
        const hop = current.hops + 1;
        return {
          state: { ...moved.state, agent: special.agent, hops: hop, status: "queued" },
          events: [
            ...events,
            {
              type: "agent-transfer",
              runId: current.id,
              time,
              from: agent.name,
              to: special.agent,
              note,
              hop,
            },
          ],
        };
      });
      return "moved";
    }
    if (special.kind === "human") {
      const queue = special.queue;
      const summary = typeof args.summary === "string" ? args.summary : "";
      const reason = typeof args.reason === "string" ? args.reason : "";
      const priority =
        typeof args.priority === "string" && priorities.includes(args.priority as Priority)
          ? (args.priority as Priority)
          : "normal";
      await commit((current) => ({
        state: {
          ...current,
          status: "waiting_for_human",
          waiting: { kind: "human", queue, itemId: first.idempotencyKey },
        },
        events: [
          {
            type: "human-handoff",
            runId: current.id,
            time,
            queue,
            itemId: first.idempotencyKey,
            summary,
            reason,
            priority,
          },
        ],
        effects: inboxItemEffects({
          schemaVersion: 1,
          id: first.idempotencyKey,
          namespace: agent.namespace,
          queue,
          runId: current.id,
          agent: agent.name,
          summary,
          reason,
          priority,
          conversation: current.messages,
          status: "waiting",
          createdAt: time,
          queuedAt: time,
          escalations: 0,
          leaseSeconds: agent.humanQueues.get(queue)?.leaseSeconds ?? 900,
        }),
      }));
      return "suspended";
    }
    // Delegations: every one of the turn starts a child run, and the run waits for them all. A child
    // run the tenant's runs per minute refuses is that call's error result instead.
    const delegations = calls.filter((call) => call.special?.kind === "delegate");
    const refused = new Map<string, string>();
    const { maxDelegationDepth, maxChildRuns } = agent.spec.limits;
    const childDepth = (state.parent === undefined ? 0 : (state.parent.depth ?? 1)) + 1;
    let started = state.childRuns ?? 0;
    for (const call of delegations) {
      const target = call.special?.kind === "delegate" ? call.special.agent : "?";
      if (childDepth > maxDelegationDepth) {
        refused.set(
          call.toolCall.id,
          `agent ${target} was not asked: runs of agents used as tools may nest ${maxDelegationDepth} deep (spec.limits.maxDelegationDepth of agent ${agent.name}), and this one would be ${childDepth} deep; answer without it`,
        );
        continue;
      }
      if (started >= maxChildRuns) {
        refused.set(
          call.toolCall.id,
          `agent ${target} was not asked: this run started its ${maxChildRuns} child runs already (spec.limits.maxChildRuns of agent ${agent.name}); answer with what you have`,
        );
        continue;
      }
      try {
        await quotas?.startRuns(agent.namespace);
        started += 1;
      } catch (error) {
        if (!(error instanceof FreeholdError && error.code === runsExceededCode)) throw error;
        refused.set(
          call.toolCall.id,
          `agent ${call.special?.kind === "delegate" ? call.special.agent : "?"} was not asked: ${error.message}`,
        );
      }
    }
    const asked = delegations.filter((call) => !refused.has(call.toolCall.id));
    await commit((current) => {
      const effects: RedisEffect[] = [];
      const events: RunEvent[] = [];
      const childRunIds: string[] = [];
      let pendingToolCalls = current.pendingToolCalls.map((call) =>
        call.special?.kind === "delegate" && call.status === "pending" ? { ...call, startedAt: time } : call,
      );
      let next: RunState = { ...current, pendingToolCalls };
      for (const [toolCallId, content] of refused) {
        const answered = applyToolResult(
          next,
          toolCallId,
          { content, isError: true },
          {
            now: now(),
            startedAt: new Date(time),
          },
        );
        next = answered.state;
        events.push(...answered.events);
      }
      pendingToolCalls = next.pendingToolCalls;
      if (asked.length === 0) return { state: next, events };
      for (const call of asked) {
        if (call.special?.kind !== "delegate") continue;
        const input = parseArguments(call.toolCall.arguments).input;
        const child = newRun({
          id: call.special.childRunId,
          namespace: agent.namespace,
          agent: call.special.agent,
          input: typeof input === "string" ? input : "",
          parent: { runId: current.id, toolCallId: call.toolCall.id, agent: agent.name, depth: childDepth },
          ...(current.traceparent === undefined ? {} : { traceparent: current.traceparent }),
          now: new Date(time),
        });
        childRunIds.push(child.id);
        effects.push(
          ...newRunEffects(child, [
            { type: "run-start", runId: child.id, time, agent: child.agent, input: child.input },
          ]),
          { op: "zadd", key: dispatchKey(agent.namespace, child.id), score: Date.now(), member: child.id },
        );
        events.push({
          type: "delegation-start",
          runId: current.id,
          time,
          agent: child.agent,
          childRunId: child.id,
          toolCallId: call.toolCall.id,
        });
      }
      return {
        state: {
          ...next,
          pendingToolCalls,
          childRuns: (current.childRuns ?? 0) + childRunIds.length,
          status: "waiting_for_agent",
          waiting: { kind: "agent", childRunIds },
        },
        events,
        effects,
      };
    });
    return asked.length === 0 ? undefined : "suspended";
  }

  async function callModel(runContext: Context): Promise<void> {
    const toolset: Toolset = createToolset(
      await agent.broker.listTools(),
      agent.spec.tools ?? [],
      agent.specials,
    );
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
          const generated = await agent.model.generate({
            messages: modelMessages(agent.spec, state),
            tools: toolset.definitions,
            signal: AbortSignal.timeout(Math.max(1, remainingMs)),
          });
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
        return;
      }
      const failure =
        error instanceof FreeholdError
          ? { code: error.code, message: `model ${modelName} failed: ${error.message}` }
          : { code: "model.provider", message: `model ${modelName} failed: ${String(error)}` };
      await commit((current) =>
        finish({ ...current, activeMs: current.activeMs + durationMs }, "failed", now(), { error: failure }),
      );
      return;
    }
    // Redis failing from here on (down, full: store.full, the run taken over) is not the model's
    // failure: it propagates, and the job is retried from the last checkpoint.
    const durationMs = now().getTime() - started.getTime();
    const tokens = await quotas?.addTokens(
      agent.namespace,
      result.usage.inputTokens + result.usage.outputTokens,
    );
    await commit((current) => {
      const advanced = applyModelResult(current, result, toolset, { now: now(), durationMs });
      // This call used up the tenant's tokens: the run ends here, unless it just answered.
      if (tokens?.exceeded !== true || isTerminal(advanced.state.status)) {
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
        return {
          ...advanced,
          state: withStarted(advanced.state, markedNotSent, now().toISOString()),
        };
      }
      const ended = finish(advanced.state, "limit_exceeded", now(), { limit: "tokensPerDay" });
      return { state: ended.state, events: [...advanced.events, ...ended.events] };
    });
  }

  async function callTool(toolCallId: string, runContext: Context): Promise<void> {
    const record = state.pendingToolCalls.find((call) => call.toolCall.id === toolCallId);
    if (record?.server === undefined || record.tool === undefined) return;
    const { server, tool, idempotencyKey } = record;
    const grant = agent.spec.tools?.find((candidate) => candidate.mcpServer === server);
    const startedAt = record.startedAt === undefined ? now() : new Date(record.startedAt);
    const outcome = await inSpan(
      tracer,
      `execute_tool ${tool}`,
      runContext,
      {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": tool,
        "gen_ai.tool.call.id": toolCallId,
        "freehold.mcp.server": server,
      },
      async (span): Promise<ToolOutcome> => {
        try {
          const args = JSON.parse(
            record.toolCall.arguments === "" ? "{}" : record.toolCall.arguments,
          ) as Record<string, unknown>;
          const result = (await agent.broker.callTool(server, tool, args, {
            idempotencyKey,
            ...(grant?.timeoutSeconds === undefined ? {} : { timeoutMs: grant.timeoutSeconds * 1000 }),
          })) as ToolResultLike;
          if (result.isError === true) span.setAttribute("error.type", "tool_error");
          return { content: toolResultText(result), isError: result.isError === true, result };
        } catch (error) {
          if (error instanceof FreeholdError && !error.retryable) {
            span.setAttribute("error.type", error.code);
            return { content: error.message, isError: true };
          }
          throw error;
        }
      },
      SpanKind.INTERNAL,
    );
    await commit((current) => applyToolResult(current, toolCallId, outcome, { now: now(), startedAt }));
  }
}

/** What a person deciding on an interrupted call reads in its approval item. */
function interruptedReason(call: ToolCallRecord): string {
  return (
    `This call was running when its worker stopped (${call.interruptions ?? 1} time(s)): it may or may ` +
    `not have reached ${call.tool ?? call.toolCall.name}. Approve to run it again; reject to tell the ` +
    `model it was not run again.`
  );
}

/**
 * The calls of `state` that were started and have no result: a worker stopped while they ran (the
 * loop records a call as started before it leaves the worker, and its result in the next write).
 * Each follows its `onInterrupt` policy: `retry` runs again under the same idempotency key, `fail`
 * gets an error result saying the outcome is unknown, `ask` waits for a person's approval.
 */
export function recoverInterrupted(state: RunState, now: Date): Transition {
  const interrupted = state.pendingToolCalls.filter(
    (call) =>
      call.status === "pending" &&
      call.special === undefined &&
      call.approval !== "required" &&
      call.startedAt !== undefined,
  );
  if (interrupted.length === 0) return { state, events: [] };
  const time = now.toISOString();
  let next = state;
  const events: RunEvent[] = [];
  for (const call of interrupted) {
    const policy = call.onInterrupt ?? "fail";
    const name = call.tool ?? call.toolCall.name;
    events.push({
      type: "tool-call-interrupted",
      runId: state.id,
      time,
      toolCallId: call.toolCall.id,
      name,
      idempotencyKey: call.idempotencyKey,
      policy,
    });
    const interruptions = (call.interruptions ?? 0) + 1;
    if (policy === "fail") {
      const failed = applyToolResult(
        next,
        call.toolCall.id,
        {
          content:
            `The outcome of this call of ${name} is unknown: the worker running it stopped before its ` +
            `result was saved, and it is not run again (onInterrupt: fail). Check whether it took effect ` +
            `before calling it again.`,
          isError: true,
        },
        // The time since the worker stopped is not the run's: the call counts as taking none.
        { now, startedAt: now },
      );
      next = failed.state;
      events.push(...failed.events);
      continue;
    }
    next = {
      ...next,
      pendingToolCalls: next.pendingToolCalls.map((record) => {
        if (record.toolCall.id !== call.toolCall.id) return record;
        const { startedAt: _startedAt, ...rest } = record;
        return policy === "ask"
          ? { ...rest, interruptions, approval: "required" as const }
          : { ...rest, interruptions };
      }),
    };
  }
  return { state: next, events };
}
