/**
 * Agents used as tools, shared by every loop driver: each delegation call of a turn starts a child
 * run of the agent it names, and the run waits for them all. `admitDelegations` decides which calls
 * may start a child (depth, the run's child runs, the tenant's runs per minute); `startChildRuns` is
 * the pure transition that records them: the refused calls' error results, the child runs (stored
 * and dispatched in the same checkpoint) and the wait.
 *
 * @module
 */
import { FreeholdError, type RunEvent, type RunState, type ToolCallRecord } from "@freehold/api";
import {
  applyToolResult,
  dispatchKey,
  newRun,
  newRunEffects,
  runsExceededCode,
  type Quotas,
  type RedisEffect,
} from "@freehold/handoff";
import type { EffectfulTransition } from "./handoff-transitions.ts";
import { parseArguments, type ResolvedAgent } from "./loop-driver.ts";

/** Which delegation calls start a child run, and why the others do not (by tool call id). */
export interface Admission {
  readonly asked: readonly ToolCallRecord[];
  readonly refused: ReadonlyMap<string, string>;
  /** The depth the child runs get. */
  readonly childDepth: number;
}

/**
 * Admits the turn's delegation calls (`calls` may hold others; they are ignored): refused past
 * `limits.maxDelegationDepth`, past `limits.maxChildRuns` of this run, or when the tenant has no run
 * left this minute (`quota.runs_exceeded`: each admitted call counts one run against the quota).
 */
export async function admitDelegations(
  state: RunState,
  calls: readonly ToolCallRecord[],
  agent: Pick<ResolvedAgent, "namespace" | "name" | "spec">,
  quotas: Quotas | undefined,
): Promise<Admission> {
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
      refused.set(call.toolCall.id, `agent ${target} was not asked: ${error.message}`);
    }
  }
  return { asked: delegations.filter((call) => !refused.has(call.toolCall.id)), refused, childDepth };
}

/**
 * Records an admission: refused calls get their error results; each admitted call's child run is
 * created (with its `run-start` event) and put on the dispatch set in the same checkpoint; the run
 * waits for its children. With nothing admitted, only the refusals are recorded.
 */
export function startChildRuns(
  current: RunState,
  admission: Admission,
  agent: Pick<ResolvedAgent, "namespace" | "name">,
  now: Date,
): EffectfulTransition {
  const time = now.toISOString();
  const effects: RedisEffect[] = [];
  const events: RunEvent[] = [];
  const childRunIds: string[] = [];
  const pendingToolCalls = current.pendingToolCalls.map((call) =>
    call.special?.kind === "delegate" && call.status === "pending" ? { ...call, startedAt: time } : call,
  );
  let next: RunState = { ...current, pendingToolCalls };
  for (const [toolCallId, content] of admission.refused) {
    const answered = applyToolResult(next, toolCallId, { content, isError: true }, { now, startedAt: now });
    next = answered.state;
    events.push(...answered.events);
  }
  if (admission.asked.length === 0) return { state: next, events };
  for (const call of admission.asked) {
    if (call.special?.kind !== "delegate") continue;
    const input = parseArguments(call.toolCall.arguments).input;
    const child = newRun({
      id: call.special.childRunId,
      namespace: agent.namespace,
      agent: call.special.agent,
      input: typeof input === "string" ? input : "",
      parent: {
        runId: current.id,
        toolCallId: call.toolCall.id,
        agent: agent.name,
        depth: admission.childDepth,
      },
      ...(current.traceparent === undefined ? {} : { traceparent: current.traceparent }),
      now,
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
      childRuns: (current.childRuns ?? 0) + childRunIds.length,
      status: "waiting_for_agent",
      waiting: { kind: "agent", childRunIds },
    },
    events,
    effects,
  };
}
