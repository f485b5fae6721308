/**
 * Human queues' inboxes. An agent's handoff creates an item (in the same atomic step as the run's
 * checkpoint, see `inboxItemEffects`); people list, claim (a lease), release, answer the user, or
 * hand the conversation back to an agent. Every action is an event on the run's stream (who, with
 * their groups when the caller knows them, when, what), and every change to a queue's items an event
 * in the queue's feed (inbox-events.ts), each in the same atomic write as the change. `sweep` returns abandoned claims to the queue and escalates items not claimed within the
 * queue's SLA.
 *
 * @module
 */
import {
  FreeholdError,
  InboxItem,
  isTerminal,
  recordedActor,
  type Actor,
  type AnswerRequest,
  type HandBackRequest,
  type HumanQueueSpec,
  type Priority,
  type RunEvent,
  type RunState,
} from "@freehold/api";
import type { RedisClient } from "./redis-client.ts";
import { createAgentRegistry } from "./agent-registry.ts";
import type { AgentQueues } from "./agent-queues.ts";
import { createDispatcher } from "./dispatcher.ts";
import { inboxEventEffect, type InboxChange } from "./inbox-events.ts";
import { inboxItemKey, inboxQueueKey, inboxQueueKeys, runEventsKey } from "./keys.ts";
import { compareAndWrite, type RedisEffect } from "./redis-effects.ts";
import { priorityBandWidth, sortedAcrossShards } from "./shard-reads.ts";
import type { RunStore } from "./run-store.ts";
import { applyToolResult, finish } from "./run-transitions.ts";

const priorityRank: Record<Priority, number> = { urgent: 0, high: 1, normal: 2, low: 3 };

/** The waiting set's score: priority first, then age. */
function waitingScore(item: InboxItem): number {
  return priorityRank[item.priority] * priorityBandWidth + Date.parse(item.queuedAt);
}

/** The writes that put a new item in its queue, with its `added` event in the queue's feed. */
export function inboxItemEffects(item: InboxItem): RedisEffect[] {
  return [
    { op: "set", key: inboxItemKey(item.namespace, item.id), value: JSON.stringify(InboxItem.parse(item)) },
    {
      op: "zadd",
      key: inboxQueueKey(item.namespace, item.queue, "waiting", item.id),
      score: waitingScore(item),
      member: item.id,
    },
    inboxEventEffect(item, { type: "added", priority: item.priority }),
  ];
}

/** The writes that take an item out of its queue, with `change` (why) in the queue's feed. */
function removalEffects(
  item: InboxItem,
  change: Extract<InboxChange, { type: "removed" | "escalated" }>,
): RedisEffect[] {
  return [
    { op: "del", key: inboxItemKey(item.namespace, item.id) },
    { op: "zrem", key: inboxQueueKey(item.namespace, item.queue, "waiting", item.id), member: item.id },
    { op: "zrem", key: inboxQueueKey(item.namespace, item.queue, "claimed", item.id), member: item.id },
    inboxEventEffect(item, change),
  ];
}

function actionEvent(
  item: InboxItem,
  action: Extract<RunEvent, { type: "human-action" }>["action"],
  actor: string | Actor,
  extra: { message?: string; agent?: string; toQueue?: string } = {},
): RunEvent {
  const { user, groups } = recordedActor(actor);
  return {
    type: "human-action",
    runId: item.runId,
    time: new Date().toISOString(),
    action,
    actor: user,
    ...(groups === undefined ? {} : { actorGroups: groups }),
    queue: item.queue,
    itemId: item.id,
    ...extra,
  };
}

function eventEffect(item: InboxItem, event: RunEvent): RedisEffect {
  return {
    op: "xadd",
    key: runEventsKey(item.namespace, item.runId),
    field: "event",
    value: JSON.stringify(event),
  };
}

/**
 * The inbox of a namespace's human queues. `actor` is the person acting: a user name, or a user and
 * groups (the gateway's verified identity), recorded on the run's events and the claim.
 */
export interface Inbox {
  /** Waiting items (priority, then age), then claimed ones. */
  list(namespace: string, queue: string): Promise<InboxItem[]>;
  get(namespace: string, itemId: string): Promise<InboxItem>;
  claim(
    namespace: string,
    itemId: string,
    actor: string | Actor,
    options?: { leaseSeconds?: number },
  ): Promise<InboxItem>;
  release(namespace: string, itemId: string, actor: string | Actor): Promise<InboxItem>;
  /** Answers the user: the run ends with the answer, or (`end: false`) its agent continues. */
  answer(namespace: string, itemId: string, actor: string | Actor, request: AnswerRequest): Promise<RunState>;
  /** Hands the conversation back to an agent (by default the one that handed it over) with a note. */
  handBack(
    namespace: string,
    itemId: string,
    actor: string | Actor,
    request: HandBackRequest,
  ): Promise<RunState>;
  /** Returns expired claims to their queues and escalates items past their queue's SLA; returns how many moved. */
  sweep(
    namespace: string,
    queues: readonly { readonly name: string; readonly spec: HumanQueueSpec }[],
  ): Promise<number>;
}

/**
 * @example
 * ```ts
 * const inbox = createInbox({ redis, store, queues });
 * const [item] = await inbox.list("acme", "billing-desk");
 * await inbox.claim("acme", item.id, "ann");
 * await inbox.handBack("acme", item.id, "ann", { note: "Refund approved; tell the customer." });
 * ```
 */
export function createInbox(parts: {
  readonly redis: RedisClient;
  readonly store: RunStore;
  readonly queues: AgentQueues;
}): Inbox {
  const { redis, store } = parts;
  const dispatcher = createDispatcher(parts);
  const registry = createAgentRegistry(redis);

  const read = async (namespace: string, itemId: string): Promise<{ item: InboxItem; raw: string }> => {
    const raw = await redis.get(inboxItemKey(namespace, itemId));
    if (raw === null) {
      throw new FreeholdError(
        "inbox.item-not-found",
        `inbox item ${itemId} not found in namespace ${namespace}; it may have been answered already`,
        {
          details: { namespace, itemId },
        },
      );
    }
    return { item: InboxItem.parse(JSON.parse(raw)), raw };
  };

  /** Replaces an item if it did not change since it was read. */
  const replace = async (
    before: { item: InboxItem; raw: string },
    after: InboxItem,
    effects: RedisEffect[],
  ): Promise<boolean> =>
    compareAndWrite(
      redis,
      [{ key: inboxItemKey(after.namespace, after.id), equals: before.raw }],
      [
        {
          op: "set",
          key: inboxItemKey(after.namespace, after.id),
          value: JSON.stringify(InboxItem.parse(after)),
        },
        ...effects,
      ],
    );

  const requireClaimedBy = (item: InboxItem, actor: string | Actor): void => {
    const { user } = recordedActor(actor);
    const expired = item.leaseExpiresAt !== undefined && Date.parse(item.leaseExpiresAt) < Date.now();
    if (item.status !== "claimed" || item.claimedBy !== user || expired) {
      throw new FreeholdError(
        "inbox.not-claimed-by-you",
        item.status === "claimed" && !expired
          ? `item ${item.id} is claimed by ${item.claimedBy ?? "someone else"}; only they can act on it`
          : `claim item ${item.id} before acting on it`,
        { details: { itemId: item.id, claimedBy: item.claimedBy } },
      );
    }
  };

  /** Finishes a human handoff on the run: the item goes, the run moves on as `change` says. */
  const resolve = async (
    namespace: string,
    itemId: string,
    actor: string | Actor,
    reason: "answered" | "handed-back",
    change: (run: RunState, item: InboxItem) => { state: RunState; events: RunEvent[] },
  ): Promise<RunState> => {
    const { user } = recordedActor(actor);
    for (let attempt = 0; ; attempt += 1) {
      const current = await read(namespace, itemId);
      requireClaimedBy(current.item, actor);
      const run = await store.require(namespace, current.item.runId);
      if (isTerminal(run.status)) {
        await compareAndWrite(
          redis,
          [{ key: inboxItemKey(namespace, itemId), equals: current.raw }],
          removalEffects(current.item, { type: "removed", reason: "run-ended" }),
        );
        throw new FreeholdError(
          "run.finished",
          `run ${run.id} already ended with status ${run.status}; the item is removed`,
          {
            details: { runId: run.id, status: run.status },
          },
        );
      }
      if (run.waiting?.kind !== "human" || run.waiting.itemId !== itemId) {
        throw new FreeholdError(
          "inbox.stale-item",
          `run ${run.id} is not waiting for item ${itemId} any more`,
        );
      }
      const { state, events } = change(run, current.item);
      try {
        const saved = await store.checkpoint(run, state, events, {
          preconditions: [{ key: inboxItemKey(namespace, itemId), equals: current.raw }],
          effects: removalEffects(current.item, { type: "removed", reason, actor: user }),
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
  };

  /** The pending human handoff call of the run. */
  const handoffCall = (run: RunState, item: InboxItem) => {
    const record = run.pendingToolCalls.find(
      (call) =>
        call.status === "pending" && call.special?.kind === "human" && call.idempotencyKey === item.id,
    );
    if (record === undefined)
      throw new FreeholdError("inbox.stale-item", `run ${run.id} has no handoff call for item ${item.id}`);
    return record;
  };

  const resumeWith = (run: RunState, item: InboxItem, content: string, agent: string, event: RunEvent) => {
    const record = handoffCall(run, item);
    const done = applyToolResult(
      run,
      record.toolCall.id,
      { content, isError: false },
      { now: new Date(), startedAt: new Date(item.createdAt) },
    );
    const { waiting: _waiting, ...rest } = done.state;
    return { state: { ...rest, agent, status: "queued" as const }, events: [...done.events, event] };
  };

  const inbox: Inbox = {
    async list(namespace, queue) {
      const ids = [
        ...(await sortedAcrossShards(redis, inboxQueueKeys(namespace, queue, "waiting"))),
        ...(await sortedAcrossShards(redis, inboxQueueKeys(namespace, queue, "claimed"))),
      ];
      // One GET per item (sent together), not MGET: in Redis Cluster the items are in many slots.
      const raws = await Promise.all(ids.map((id) => redis.get(inboxItemKey(namespace, id))));
      return raws.flatMap((raw) => (raw === null ? [] : [InboxItem.parse(JSON.parse(raw))]));
    },

    async get(namespace, itemId) {
      return (await read(namespace, itemId)).item;
    },

    async claim(namespace, itemId, actor, options = {}) {
      const { user, groups } = recordedActor(actor);
      for (;;) {
        const current = await read(namespace, itemId);
        const { item } = current;
        const expired = item.leaseExpiresAt !== undefined && Date.parse(item.leaseExpiresAt) < Date.now();
        if (item.status === "claimed" && !expired && item.claimedBy !== user) {
          throw new FreeholdError(
            "inbox.already-claimed",
            `item ${itemId} is already claimed by ${item.claimedBy ?? "someone"}`,
            {
              details: { itemId, claimedBy: item.claimedBy },
            },
          );
        }
        const now = new Date();
        const leaseExpiresAt = new Date(now.getTime() + (options.leaseSeconds ?? item.leaseSeconds) * 1000);
        const { claimedByGroups: _groups, ...unclaimed } = item;
        const claimed: InboxItem = {
          ...unclaimed,
          status: "claimed",
          claimedBy: user,
          ...(groups === undefined ? {} : { claimedByGroups: groups }),
          claimedAt: now.toISOString(),
          leaseExpiresAt: leaseExpiresAt.toISOString(),
        };
        const written = await replace(current, claimed, [
          { op: "zrem", key: inboxQueueKey(namespace, item.queue, "waiting", itemId), member: itemId },
          {
            op: "zadd",
            key: inboxQueueKey(namespace, item.queue, "claimed", itemId),
            score: leaseExpiresAt.getTime(),
            member: itemId,
          },
          eventEffect(item, actionEvent(item, "claim", actor)),
          inboxEventEffect(item, {
            type: "claimed",
            actor: user,
            leaseExpiresAt: leaseExpiresAt.toISOString(),
          }),
        ]);
        if (written) return claimed;
      }
    },

    async release(namespace, itemId, actor) {
      for (;;) {
        const current = await read(namespace, itemId);
        requireClaimedBy(current.item, actor);
        const {
          claimedBy: _by,
          claimedByGroups: _groups,
          claimedAt: _at,
          leaseExpiresAt: _lease,
          ...rest
        } = current.item;
        const released: InboxItem = { ...rest, status: "waiting" };
        const written = await replace(current, released, [
          { op: "zrem", key: inboxQueueKey(namespace, released.queue, "claimed", itemId), member: itemId },
          {
            op: "zadd",
            key: inboxQueueKey(namespace, released.queue, "waiting", itemId),
            score: waitingScore(released),
            member: itemId,
          },
          eventEffect(released, actionEvent(released, "release", actor)),
          inboxEventEffect(released, { type: "released", actor: recordedActor(actor).user }),
        ]);
        if (written) return released;
      }
    },

    async answer(namespace, itemId, actor, request) {
      return resolve(namespace, itemId, actor, "answered", (run, item) => {
        const event = actionEvent(item, "answer", actor, { message: request.message });
        if (request.end) {
          const record = handoffCall(run, item);
          const done = applyToolResult(
            run,
            record.toolCall.id,
            { content: `A person (${recordedActor(actor).user}) answered the user.`, isError: false },
            {
              now: new Date(),
              startedAt: new Date(item.createdAt),
            },
          );
          const { waiting: _waiting, ...rest } = done.state;
          const answered = {
            ...rest,
            messages: [...rest.messages, { role: "assistant" as const, content: request.message }],
          };
          const finished = finish(answered, "completed", new Date(), { output: request.message });
          return { state: finished.state, events: [...done.events, event, ...finished.events] };
        }
        return resumeWith(
          run,
          item,
          `A person (${recordedActor(actor).user}) answered the user: "${request.message}". Continue the conversation from there.`,
          run.agent,
          event,
        );
      });
    },

    async handBack(namespace, itemId, actor, request) {
      const { item } = await read(namespace, itemId);
      const agent = request.agent ?? item.agent;
      await registry.require(namespace, agent);
      return resolve(namespace, itemId, actor, "handed-back", (run, current) =>
        resumeWith(
          run,
          current,
          `A person (${recordedActor(actor).user}) handed the conversation back: ${request.note}`,
          agent,
          actionEvent(current, "hand-back", actor, { message: request.note, agent }),
        ),
      );
    },

    async sweep(namespace, queues) {
      let moved = 0;
      const now = Date.now();
      for (const { name, spec } of queues) {
        // Claims whose holder went away return to the queue.
        const expired = await Promise.all(
          inboxQueueKeys(namespace, name, "claimed").map((key) => redis.zrangebyscore(key, 0, now)),
        );
        for (const itemId of expired.flat()) {
          const current = await read(namespace, itemId).catch(() => undefined);
          if (current === undefined) {
            await redis.zrem(inboxQueueKey(namespace, name, "claimed", itemId), itemId);
            continue;
          }
          const {
            claimedBy: _by,
            claimedByGroups: _groups,
            claimedAt: _at,
            leaseExpiresAt: _lease,
            ...rest
          } = current.item;
          const waiting: InboxItem = { ...rest, status: "waiting" };
          if (
            await replace(current, waiting, [
              { op: "zrem", key: inboxQueueKey(namespace, name, "claimed", itemId), member: itemId },
              {
                op: "zadd",
                key: inboxQueueKey(namespace, name, "waiting", itemId),
                score: waitingScore(waiting),
                member: itemId,
              },
              eventEffect(waiting, actionEvent(waiting, "claim-expire", current.item.claimedBy ?? "lease")),
              inboxEventEffect(waiting, { type: "lease-expired", actor: current.item.claimedBy ?? "lease" }),
            ])
          ) {
            moved += 1;
          }
        }
        // Items nobody claimed within the SLA escalate.
        const claimWithinMs = (spec.sla?.claimWithinSeconds ?? Infinity) * 1000;
        const target = spec.escalateTo;
        if (target === undefined || !Number.isFinite(claimWithinMs)) continue;
        for (const itemId of await sortedAcrossShards(redis, inboxQueueKeys(namespace, name, "waiting"))) {
          const current = await read(namespace, itemId).catch(() => undefined);
          if (current === undefined || Date.parse(current.item.queuedAt) + claimWithinMs > now) continue;
          const { item } = current;
          if (target.humanQueue !== undefined) {
            const escalated: InboxItem = {
              ...item,
              queue: target.humanQueue,
              queuedAt: new Date(now).toISOString(),
              escalations: item.escalations + 1,
            };
            if (
              await replace(current, escalated, [
                { op: "zrem", key: inboxQueueKey(namespace, name, "waiting", itemId), member: itemId },
                {
                  op: "zadd",
                  key: inboxQueueKey(namespace, escalated.queue, "waiting", itemId),
                  score: waitingScore(escalated),
                  member: itemId,
                },
                eventEffect(item, actionEvent(item, "escalate", "sla", { toQueue: target.humanQueue })),
                // Both feeds, in the item's shard: it leaves one queue and enters the other.
                inboxEventEffect(item, { type: "escalated", actor: "sla", toQueue: escalated.queue }),
                inboxEventEffect(escalated, {
                  type: "added",
                  priority: escalated.priority,
                  escalatedFrom: name,
                }),
              ])
            ) {
              moved += 1;
            }
          } else if (target.agent !== undefined) {
            const agent = target.agent;
            const run = await store.get(namespace, item.runId);
            if (run?.status !== "waiting_for_human") continue;
            try {
              const { state, events } = resumeWith(
                run,
                item,
                `No one in ${name} took the conversation within ${spec.sla?.claimWithinSeconds ?? 0} s; agent ${agent} takes it over.`,
                agent,
                actionEvent(item, "escalate", "sla", { agent }),
              );
              await store.checkpoint(run, state, events, {
                preconditions: [{ key: inboxItemKey(namespace, itemId), equals: current.raw }],
                effects: removalEffects(item, { type: "escalated", actor: "sla", toAgent: agent }),
              });
              await dispatcher.dispatch(namespace, run.id);
              moved += 1;
            } catch (error) {
              if (!(
                error instanceof FreeholdError &&
                (error.code === "run.conflict" || error.code === "run.precondition-failed")
              ))
                throw error;
            }
          }
        }
      }
      return moved;
    },
  };
  return inbox;
}
