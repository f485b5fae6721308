/**
 * Tool approvals. A call to a tool in `requireApproval` creates an approval item in the same atomic
 * step as the run's checkpoint (`approvalItemEffects`) and the run waits; a person approves (the call
 * runs) or rejects (the model gets an error with the reason), and the run resumes on any worker.
 * Each decision and its decider is an event on the run's stream.
 *
 * @module
 */
import {
  ApprovalItem,
  FreeholdError,
  isTerminal,
  recordedActor,
  type Actor,
  type DecisionRequest,
  type RunEvent,
  type RunState,
} from "@freehold/api";
import type { RedisClient } from "./redis-client.ts";
import type { AgentQueues } from "./agent-queues.ts";
import { createDispatcher } from "./dispatcher.ts";
import { approvalItemKey, approvalsKey, approvalsKeys } from "./keys.ts";
import type { RedisEffect } from "./redis-effects.ts";
import { sortedAcrossShards } from "./shard-reads.ts";
import type { RunStore } from "./run-store.ts";
import { applyToolResult } from "./run-transitions.ts";

/** The writes that create an approval item. */
export function approvalItemEffects(item: ApprovalItem): RedisEffect[] {
  return [
    {
      op: "set",
      key: approvalItemKey(item.namespace, item.id),
      value: JSON.stringify(ApprovalItem.parse(item)),
    },
    {
      op: "zadd",
      key: approvalsKey(item.namespace, item.id),
      score: Date.parse(item.createdAt),
      member: item.id,
    },
  ];
}

export interface Approvals {
  /** Approval items, oldest first; optionally only one agent's. */
  list(namespace: string, options?: { readonly agent?: string }): Promise<ApprovalItem[]>;
  get(namespace: string, itemId: string): Promise<ApprovalItem>;
  /**
   * Approves or rejects as `actor` (a user name, or a user and groups: the gateway's verified
   * identity, recorded on the decision's event); the run resumes once none of its approvals is open.
   */
  decide(
    namespace: string,
    itemId: string,
    actor: string | Actor,
    decision: DecisionRequest,
  ): Promise<RunState>;
}

/**
 * @example
 * ```ts
 * const approvals = createApprovals({ redis, store, queues });
 * for (const item of await approvals.list("acme")) await approvals.decide("acme", item.id, "ann", { approve: true });
 * ```
 */
export function createApprovals(parts: {
  readonly redis: RedisClient;
  readonly store: RunStore;
  readonly queues: AgentQueues;
}): Approvals {
  const { redis, store } = parts;
  const dispatcher = createDispatcher(parts);

  const read = async (namespace: string, itemId: string): Promise<{ item: ApprovalItem; raw: string }> => {
    const raw = await redis.get(approvalItemKey(namespace, itemId));
    if (raw === null) {
      throw new FreeholdError(
        "approval.not-found",
        `approval ${itemId} not found in namespace ${namespace}; it may have been decided already`,
        {
          details: { namespace, itemId },
        },
      );
    }
    return { item: ApprovalItem.parse(JSON.parse(raw)), raw };
  };

  const removal = (item: ApprovalItem): RedisEffect[] => [
    { op: "del", key: approvalItemKey(item.namespace, item.id) },
    { op: "zrem", key: approvalsKey(item.namespace, item.id), member: item.id },
  ];

  const approvals: Approvals = {
    async list(namespace, options = {}) {
      const ids = await sortedAcrossShards(redis, approvalsKeys(namespace));
      // One GET per item (sent together), not MGET: in Redis Cluster the items are in many slots.
      const raws = await Promise.all(ids.map((id) => redis.get(approvalItemKey(namespace, id))));
      return raws
        .flatMap((raw) => (raw === null ? [] : [ApprovalItem.parse(JSON.parse(raw))]))
        .filter((item) => options.agent === undefined || item.agent === options.agent);
    },

    async get(namespace, itemId) {
      return (await read(namespace, itemId)).item;
    },

    async decide(namespace, itemId, actor, decision) {
      const { user, groups } = recordedActor(actor);
      for (let attempt = 0; ; attempt += 1) {
        const { item, raw } = await read(namespace, itemId);
        const run = await store.require(namespace, item.runId);
        const record = run.pendingToolCalls.find(
          (call) =>
            call.idempotencyKey === itemId && call.approval === "required" && call.status === "pending",
        );
        if (isTerminal(run.status) || record === undefined) {
          await redis.del(approvalItemKey(namespace, itemId));
          await redis.zrem(approvalsKey(namespace, itemId), itemId);
          throw new FreeholdError(
            "approval.stale",
            `run ${run.id} no longer waits for approval ${itemId} (status ${run.status}); the item is removed`,
          );
        }
        const now = new Date();
        const event: RunEvent = {
          type: "approval-decision",
          runId: run.id,
          time: now.toISOString(),
          itemId,
          toolCallId: record.toolCall.id,
          approved: decision.approve,
          actor: user,
          ...(groups === undefined ? {} : { actorGroups: groups }),
          ...(decision.reason === undefined ? {} : { reason: decision.reason }),
        };
        let next: RunState;
        const events: RunEvent[] = [event];
        if (decision.approve) {
          next = {
            ...run,
            pendingToolCalls: run.pendingToolCalls.map((call) =>
              call === record ? { ...call, approval: "approved" as const } : call,
            ),
          };
        } else {
          const rejected = applyToolResult(
            run,
            record.toolCall.id,
            {
              content: `${sentence(`A person (${user}) rejected this call${decision.reason === undefined ? "" : `: ${decision.reason.trim()}`}`)} Do not call it again unless the user asks.`,
              isError: true,
            },
            { now, startedAt: new Date(item.createdAt) },
          );
          next = rejected.state;
          events.push(...rejected.events);
        }
        const open =
          run.waiting?.kind === "approval" ? run.waiting.itemIds.filter((id) => id !== itemId) : [];
        const { waiting: _waiting, ...rest } = next;
        next =
          open.length === 0
            ? { ...rest, status: "queued" }
            : { ...next, waiting: { kind: "approval", itemIds: open } };
        try {
          const saved = await store.checkpoint(run, next, events, {
            preconditions: [{ key: approvalItemKey(namespace, itemId), equals: raw }],
            effects: removal(item),
          });
          if (saved.status === "queued") await dispatcher.dispatch(namespace, saved.id);
          return saved;
        } catch (error) {
          const retry =
            error instanceof FreeholdError &&
            (error.code === "run.conflict" || error.code === "run.precondition-failed");
          if (!retry || attempt >= 4) throw error;
        }
      }
    },
  };
  return approvals;
}

/** Text ending as a sentence does: a full stop added unless it ends with one (or ? or !) already. */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
