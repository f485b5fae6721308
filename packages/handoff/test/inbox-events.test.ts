/**
 * Human queues' feeds on a real redis-server: each change to a queue's items (added, claimed,
 * released, lease expired, escalated, cancelled) writes its event in the same atomic write as the
 * change, so a change that loses its compare-and-set writes no event; an escalation shows in both
 * queues' feeds; the streams stay bounded (`MAXLEN ~`); and the fan-out follows a queue over all its
 * shards, from now (with a `reset`) or from a position, with a `reset` when the position was trimmed.
 */
import { randomUUID } from "node:crypto";
import {
  FreeholdError,
  InboxEvent,
  type InboxItem,
  type RunState,
  type StoredInboxEvent,
} from "@freehold/api";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cancelRun,
  compareAndWrite,
  connectRedis,
  createAgentQueues,
  createEventFanout,
  createInbox,
  createRunStore,
  decodeInboxCursor,
  encodeInboxCursor,
  inboxEventEffect,
  inboxEventsKey,
  inboxEventsKeys,
  inboxItemEffects,
  inboxItemKey,
  inboxQueueKey,
  maxInboxEvents,
  newRun,
  shardOf,
  shardsPerNamespace,
  startRedisCluster,
  startRedisServer,
  type AgentQueues,
  type RedisServer,
  type RunStore,
} from "../src/index.ts";

let server: RedisServer;
let redis: Redis;
let store: RunStore;
let queues: AgentQueues;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  store = createRunStore(redis);
  queues = createAgentQueues(redis);
});

afterAll(async () => {
  await queues.close();
  redis.disconnect();
  await server.stop();
});

/** A namespace of its own per test: its streams start empty. */
const freshNamespace = (): string => `f${randomUUID().slice(0, 8)}`;

/** A run that handed its conversation to `queue`: the item is written with the run's checkpoint. */
async function handedOver(namespace: string, queue: string): Promise<{ run: RunState; item: InboxItem }> {
  const state = newRun({ id: randomUUID(), namespace, agent: "billing", input: "Refund INV-7" });
  await store.create(state, []);
  const running = await store.checkpoint(state, { ...state, status: "running" }, []);
  const time = new Date().toISOString();
  const item: InboxItem = {
    schemaVersion: 1,
    id: `${running.id}-1-0`,
    namespace,
    queue,
    runId: running.id,
    agent: "billing",
    summary: "A refund",
    reason: "Needs a person",
    priority: "high",
    conversation: running.messages,
    status: "waiting",
    createdAt: time,
    queuedAt: time,
    escalations: 0,
    leaseSeconds: 900,
  };
  const run = await store.checkpoint(
    running,
    { ...running, status: "waiting_for_human", waiting: { kind: "human", queue, itemId: item.id } },
    [],
    { effects: inboxItemEffects(item) },
  );
  return { run, item };
}

/** The events of a queue's feed in every shard, each shard's in order. */
async function feed(namespace: string, queue: string): Promise<InboxEvent[]> {
  const entries = await Promise.all(
    inboxEventsKeys(namespace, queue).map((key) => redis.xrange(key, "-", "+")),
  );
  return entries.flat().map(([, fields]) => InboxEvent.parse(JSON.parse(fields[1] ?? "null")));
}

async function next(iterator: AsyncIterator<StoredInboxEvent>): Promise<StoredInboxEvent> {
  const result = await iterator.next();
  if (result.done === true) throw new Error("the feed ended");
  return result.value;
}

describe("a human queue's feed", () => {
  it("records every change of an item with the change itself, in order, in the item's shard", async () => {
    const namespace = freshNamespace();
    const inbox = createInbox({ redis, store, queues });
    const { run, item } = await handedOver(namespace, "desk");
    // The stream shares the item's hash tag, so the script that writes both is one slot.
    expect(inboxEventsKey(namespace, "desk", item.id)).toBe(
      inboxEventsKeys(namespace, "desk")[shardOf(item.id)],
    );
    await inbox.claim(namespace, item.id, { user: "ann", groups: ["billing"] });
    await inbox.release(namespace, item.id, "ann");
    await inbox.claim(namespace, item.id, "bob", { leaseSeconds: 60 });
    await cancelRun(store, namespace, run.id);

    const events = await feed(namespace, "desk");
    expect(events.map((event) => event.type)).toEqual(["added", "claimed", "released", "claimed", "removed"]);
    expect(events[0]).toMatchObject({ queue: "desk", itemId: item.id, runId: run.id, priority: "high" });
    expect(events[1]).toMatchObject({ actor: "ann" });
    expect(events[2]).toMatchObject({ type: "released", actor: "ann" });
    const claimed = events[3];
    if (claimed?.type !== "claimed") throw new Error("no second claim");
    expect(claimed.actor).toBe("bob");
    expect(Date.parse(claimed.leaseExpiresAt) - Date.parse(claimed.at)).toBeGreaterThan(55_000);
    expect(events[4]).toMatchObject({ type: "removed", reason: "cancelled" });
    // The item and its waiting entry went in the same step as the event.
    expect(await redis.exists(inboxItemKey(namespace, item.id))).toBe(0);
  });

  it("writes no event for a change that lost its compare-and-set", async () => {
    const namespace = freshNamespace();
    const inbox = createInbox({ redis, store, queues });
    const { item } = await handedOver(namespace, "desk");
    // Two people claim at once: one wins, the other is told who has it; one event.
    const claims = await Promise.allSettled([
      inbox.claim(namespace, item.id, "ann"),
      inbox.claim(namespace, item.id, "bob"),
    ]);
    expect(claims.filter((claim) => claim.status === "fulfilled")).toHaveLength(1);
    const events = await feed(namespace, "desk");
    expect(events.map((event) => event.type)).toEqual(["added", "claimed"]);
    // A write whose precondition fails writes none of its effects, the event included.
    const written = await compareAndWrite(
      redis,
      [{ key: inboxItemKey(namespace, item.id), equals: "not what is stored" }],
      [inboxEventEffect(item, { type: "released", actor: "mallory" })],
    );
    expect(written).toBe(false);
    expect(await feed(namespace, "desk")).toHaveLength(2);
  });

  it("shows an expired claim and an escalation, in both queues' feeds", async () => {
    const namespace = freshNamespace();
    const inbox = createInbox({ redis, store, queues });
    const { item } = await handedOver(namespace, "first-line");
    await inbox.claim(namespace, item.id, "ann", { leaseSeconds: 0.05 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const lines = [
      {
        name: "first-line",
        spec: {
          description: "First line.",
          leaseSeconds: 900,
          sla: { claimWithinSeconds: 1 },
          escalateTo: { humanQueue: "second-line" },
        },
      },
    ];
    // The sweep returns the claim now, and escalates once the item waited past its SLA.
    expect(await inbox.sweep(namespace, lines)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await inbox.sweep(namespace, lines)).toBe(1);

    expect(await feed(namespace, "first-line")).toMatchObject([
      { type: "added", itemId: item.id },
      { type: "claimed", actor: "ann" },
      { type: "lease-expired", actor: "ann" },
      { type: "escalated", actor: "sla", toQueue: "second-line" },
    ]);
    expect(await feed(namespace, "second-line")).toMatchObject([
      { type: "added", queue: "second-line", itemId: item.id, escalatedFrom: "first-line", priority: "high" },
    ]);
  });

  it("a cancelled run's escalated item is removed from the queue it is in now", async () => {
    const namespace = freshNamespace();
    const inbox = createInbox({ redis, store, queues });
    const { run, item } = await handedOver(namespace, "first-line");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await inbox.sweep(namespace, [
      {
        name: "first-line",
        spec: {
          description: "First line.",
          leaseSeconds: 900,
          sla: { claimWithinSeconds: 1 },
          escalateTo: { humanQueue: "second-line" },
        },
      },
    ]);
    await cancelRun(store, namespace, run.id);
    expect((await feed(namespace, "second-line")).map((event) => event.type)).toEqual(["added", "removed"]);
    expect(await inbox.list(namespace, "second-line")).toEqual([]);
    // The escalated item's entry in the queue it is in now went too (not only its first queue's).
    expect(
      await redis.zscore(inboxQueueKey(namespace, "second-line", "waiting", item.id), item.id),
    ).toBeNull();
  });

  it("keeps each stream bounded", async () => {
    const namespace = freshNamespace();
    const item = { namespace, queue: "busy", id: "r1-1-0", runId: "r1" };
    const total = maxInboxEvents + 2_000;
    for (let start = 0; start < total; start += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, total - start) }, () =>
          compareAndWrite(redis, [], [inboxEventEffect(item, { type: "released", actor: "ann" })]),
        ),
      );
    }
    const length = await redis.xlen(inboxEventsKey(namespace, "busy", item.id));
    // `MAXLEN ~` trims whole nodes of the stream: at least the bound is kept, little more.
    expect(length).toBeGreaterThanOrEqual(maxInboxEvents);
    expect(length).toBeLessThan(maxInboxEvents + 200);
  });
});

describe("feed positions", () => {
  it("round-trip, leaving out empty shards, and refuse what is not one", () => {
    const cursor = Array.from({ length: shardsPerNamespace }, (_, shard) =>
      shard === 3 ? "1733350000000-0" : shard === 11 ? "1733350000123-2" : "0-0",
    );
    const text = encodeInboxCursor(cursor);
    expect(text).toBe("3:1733350000000-0,11:1733350000123-2");
    expect(decodeInboxCursor(text)).toEqual(cursor);
    expect(decodeInboxCursor("")).toEqual(Array.from({ length: shardsPerNamespace }, () => "0-0"));
    for (const bad of ["1733350000000-0", "16:1-0", "3:1-0,3:2-0", "a:1-0", "3:1-0:2", "3:1"]) {
      expect(() => decodeInboxCursor(bad), bad).toThrow(FreeholdError);
    }
  });
});

describe("following a queue", () => {
  it("starts now with a reset, merges every shard, and resumes from a position without loss", async () => {
    const namespace = freshNamespace();
    const inbox = createInbox({ redis, store, queues });
    await using fanout = createEventFanout({ redis, store, blockMs: 200 });
    const before = await handedOver(namespace, "desk");
    const stop = new AbortController();
    const following = fanout.followInbox(namespace, "desk", { signal: stop.signal })[Symbol.asyncIterator]();
    const start = await next(following);
    expect(start.event).toMatchObject({ type: "reset", reason: "start", queue: "desk" });
    // Runs spread over shards: several items, each in its run's shard.
    const handed = [];
    for (let index = 0; index < 6; index += 1) handed.push(await handedOver(namespace, "desk"));
    expect(new Set(handed.map(({ item }) => shardOf(item.id))).size).toBeGreaterThan(1);
    const seen: StoredInboxEvent[] = [];
    for (let index = 0; index < 6; index += 1) seen.push(await next(following));
    // What was there before the start is in the listing, not the feed.
    expect(seen.map(({ event }) => event.type === "added" && event.itemId).sort()).toEqual(
      handed.map(({ item }) => item.id).sort(),
    );
    expect(seen.map(({ event }) => event.type === "added" && event.itemId)).not.toContain(before.item.id);

    // Stop after the third; claim every item meanwhile; resume from the third's id.
    stop.abort();
    await following.return?.();
    const resumeAt = seen[2]?.id ?? "";
    for (const { item } of handed) await inbox.claim(namespace, item.id, "ann");
    const again = new AbortController();
    const resumed = fanout.followInbox(namespace, "desk", { after: resumeAt, signal: again.signal });
    const rest: StoredInboxEvent[] = [];
    for await (const stored of resumed) {
      rest.push(stored);
      if (rest.length === 9) again.abort();
    }
    expect(
      rest
        .filter(({ event }) => event.type === "added")
        .map(({ event }) => event.type === "added" && event.itemId)
        .sort(),
    ).toEqual(
      seen
        .slice(3)
        .map(({ event }) => event.type === "added" && event.itemId)
        .sort(),
    );
    expect(rest.filter(({ event }) => event.type === "claimed")).toHaveLength(6);
    // Per item, in order: added before claimed.
    for (const { item } of handed.filter(({ item }) =>
      rest.some(({ event }) => event.type === "added" && event.itemId === item.id),
    )) {
      const types = rest
        .filter(({ event }) => event.type !== "reset" && event.itemId === item.id)
        .map(({ event }) => event.type);
      expect(types).toEqual(["added", "claimed"]);
    }
    expect(fanout.followers()).toBe(0);
  });

  it("starts with a reset when the position is older than the stream keeps", async () => {
    const namespace = freshNamespace();
    await using fanout = createEventFanout({ redis, store, blockMs: 200 });
    const item = { namespace, queue: "busy", id: "r1-1-0", runId: "r1" };
    await compareAndWrite(redis, [], [inboxEventEffect(item, { type: "released", actor: "ann" })]);
    const key = inboxEventsKey(namespace, "busy", item.id);
    const firstId = (await redis.xrange(key, "-", "+"))[0]?.[0] ?? "";
    const position = encodeInboxCursor(
      Array.from({ length: shardsPerNamespace }, (_, shard) =>
        shard === shardOf(item.id) ? firstId : "0-0",
      ),
    );
    // Nothing trimmed yet: no reset, the next event comes.
    const stop = new AbortController();
    const live = fanout
      .followInbox(namespace, "busy", { after: position, signal: stop.signal })
      [Symbol.asyncIterator]();
    const pending = next(live);
    await compareAndWrite(redis, [], [inboxEventEffect(item, { type: "released", actor: "bob" })]);
    expect((await pending).event).toMatchObject({ type: "released", actor: "bob" });
    stop.abort();
    await live.return?.();
    // Trim the first event away (as `MAXLEN ~` does once the stream is past its bound).
    await redis.xtrim(key, "MAXLEN", 1);
    const again = new AbortController();
    const missed = fanout
      .followInbox(namespace, "busy", { after: position, signal: again.signal })
      [Symbol.asyncIterator]();
    const reset = await next(missed);
    expect(reset.event).toMatchObject({ type: "reset", reason: "missed" });
    // The reset's position is now: what comes next is new.
    const after = next(missed);
    await compareAndWrite(redis, [], [inboxEventEffect(item, { type: "released", actor: "carol" })]);
    expect((await after).event).toMatchObject({ type: "released", actor: "carol" });
    again.abort();
    await missed.return?.();
  });
});

describe("following a queue on a Redis Cluster", () => {
  it("reads every shard's stream in its own slot and gives each item's events in order", async () => {
    await using cluster = await startRedisCluster();
    const client = connectRedis(cluster.url, { maxRetriesPerRequest: null });
    try {
      const namespace = freshNamespace();
      await using fanout = createEventFanout({ redis: client, store: createRunStore(client), blockMs: 200 });
      const stop = new AbortController();
      const following = fanout
        .followInbox(namespace, "desk", { signal: stop.signal })
        [Symbol.asyncIterator]();
      expect((await next(following)).event).toMatchObject({ type: "reset", reason: "start" });
      const items = Array.from({ length: 24 }, (_, index) => {
        const runId = `c${index}-${randomUUID().slice(0, 8)}`;
        return { namespace, queue: "desk", id: `${runId}-1-0`, runId };
      });
      expect(new Set(items.map((item) => shardOf(item.id))).size).toBeGreaterThan(4);
      for (const item of items) {
        await compareAndWrite(client, [], [inboxEventEffect(item, { type: "added", priority: "normal" })]);
      }
      for (const item of items) {
        await compareAndWrite(
          client,
          [],
          [
            inboxEventEffect(item, {
              type: "claimed",
              actor: "ann",
              leaseExpiresAt: new Date().toISOString(),
            }),
          ],
        );
      }
      const seen: StoredInboxEvent[] = [];
      while (seen.length < items.length * 2) seen.push(await next(following));
      stop.abort();
      await following.return?.();
      for (const item of items) {
        const types = seen
          .filter(({ event }) => event.type !== "reset" && event.itemId === item.id)
          .map(({ event }) => event.type);
        expect(types, item.id).toEqual(["added", "claimed"]);
      }
      // The last position names every shard that had an event.
      const last = decodeInboxCursor(seen.at(-1)?.id ?? "");
      for (const item of items) expect(last[shardOf(item.id)], item.id).not.toBe("0-0");
      expect(fanout.followers()).toBe(0);
    } finally {
      client.disconnect();
    }
  });
});
