/**
 * The event fan-out on a real redis-server: followers of several runs from several cursors get
 * every event exactly once and in order over one blocking connection; a follower that stops
 * reading is dropped at its bound, with an error that says how to resume, and resuming from its
 * last event id loses nothing; a follower of an ended run ends at once.
 */
import { FreeholdError, type RunEvent } from "@freehold/api";
import { describe, expect, it } from "vitest";
import {
  connectRedis,
  createEventFanout,
  createRunStore,
  followerDroppedCode,
  newRun,
  runEventsKey,
  runKey,
  shardOf,
  startRedisCluster,
  type StoredEvent,
} from "../src/index.ts";
import { useRedisStore } from "./redis-store.ts";

const local = useRedisStore();

const namespace = "fanout";

function runStart(runId: string, index: number): RunEvent {
  return { runId, time: new Date().toISOString(), type: "run-start", agent: "a", input: `event ${index}` };
}

function runEnd(runId: string): RunEvent {
  return {
    runId,
    time: new Date().toISOString(),
    type: "run-end",
    status: "completed",
    output: "done",
    usage: { inputTokens: 0, outputTokens: 0 },
    steps: 1,
  };
}

async function newStream(): Promise<string> {
  const runId = `r${Math.random().toString(36).slice(2, 10)}`;
  await local.store.create(newRun({ id: runId, namespace, agent: "a", input: "hi" }), []);
  return runId;
}

async function append(runId: string, event: RunEvent): Promise<string> {
  return (await local.redis.xadd(
    runEventsKey(namespace, runId),
    "*",
    "event",
    JSON.stringify(event),
  )) as string;
}

async function collect(events: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const seen: StoredEvent[] = [];
  for await (const stored of events) seen.push(stored);
  return seen;
}

async function readerClients(): Promise<number> {
  const list = String(await local.redis.call("CLIENT", "LIST"));
  return list.split("\n").filter((line) => line.includes("cmd=xread")).length;
}

describe("event fan-out", () => {
  it("gives followers of several runs, from several cursors, every event once and in order over one connection", async () => {
    await using fanout = createEventFanout({ redis: local.redis, store: local.store, blockMs: 5000 });
    const runs = [await newStream(), await newStream(), await newStream()];
    const early = new Map<string, string>();
    for (const runId of runs) {
      for (let index = 0; index < 5; index++) {
        const id = await append(runId, runStart(runId, index));
        if (index === 2) early.set(runId, id);
      }
    }
    const followers = runs.flatMap((runId) => [
      collect(fanout.follow(namespace, runId)),
      collect(fanout.follow(namespace, runId, { after: early.get(runId) ?? "0-0" })),
    ]);
    await expect.poll(() => fanout.followers()).toBe(6);
    for (const runId of runs) {
      for (let index = 5; index < 120; index++) await append(runId, runStart(runId, index));
      await append(runId, runEnd(runId));
    }
    const results = await Promise.all(followers);
    for (const [position, seen] of results.entries()) {
      const first = position % 2 === 0 ? 0 : 3;
      const inputs = seen.flatMap(({ event }) => (event.type === "run-start" ? [event.input] : []));
      expect(inputs).toEqual(Array.from({ length: 120 - first }, (_, index) => `event ${index + first}`));
      expect(seen.at(-1)?.event.type).toBe("run-end");
      expect(new Set(seen.map((stored) => stored.id)).size).toBe(seen.length);
    }
    expect(await readerClients()).toBeLessThanOrEqual(1);
    expect(fanout.followers()).toBe(0);
  });

  it("drops a follower that stops reading, and one that resumes from its last event id loses nothing", async () => {
    await using fanout = createEventFanout({ redis: local.redis, store: local.store, maxBufferedEvents: 10 });
    const runId = await newStream();
    const slow = fanout.follow(namespace, runId)[Symbol.asyncIterator]();
    await append(runId, runStart(runId, 0));
    const first = await slow.next();
    expect(first.done).toBe(false);
    const lastId = (first.value as StoredEvent).id;
    // It reads nothing more while 50 events arrive: past 10 waiting, it is dropped.
    for (let index = 1; index <= 50; index++) await append(runId, runStart(runId, index));
    await append(runId, runEnd(runId));
    await expect.poll(() => fanout.followers()).toBe(0);
    const dropped = await slow.next().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(dropped).toBeInstanceOf(FreeholdError);
    expect((dropped as FreeholdError).code).toBe(followerDroppedCode);
    expect((dropped as FreeholdError).message).toContain("Last-Event-ID");
    const resumed = await collect(fanout.follow(namespace, runId, { after: lastId }));
    expect(resumed.map(({ event }) => (event.type === "run-start" ? event.input : event.type))).toEqual([
      ...Array.from({ length: 50 }, (_, index) => `event ${index + 1}`),
      "run-end",
    ]);
  });

  it("ends at once a follower that starts after its run ended, and follows nothing for an unknown run", async () => {
    await using fanout = createEventFanout({ redis: local.redis, store: local.store, blockMs: 60_000 });
    const runId = await newStream();
    await append(runId, runStart(runId, 0));
    const end = await append(runId, runEnd(runId));
    await local.redis.hset(
      runKey(namespace, runId),
      "state",
      JSON.stringify({ ...(await local.store.require(namespace, runId)), status: "completed" }),
    );
    expect(await collect(fanout.follow(namespace, runId, { after: end }))).toEqual([]);
    expect(await collect(fanout.follow(namespace, "nobody"))).toEqual([]);
  });

  it("stops a follower when its signal aborts, and detaches it", async () => {
    await using fanout = createEventFanout({ redis: local.redis, store: local.store, blockMs: 60_000 });
    const runId = await newStream();
    const stop = new AbortController();
    const following = collect(fanout.follow(namespace, runId, { signal: stop.signal }));
    await expect.poll(() => fanout.followers()).toBe(1);
    stop.abort();
    expect(await following).toEqual([]);
    expect(fanout.followers()).toBe(0);
  });
});

describe("event fan-out on a Redis Cluster", () => {
  it("follows runs in every shard of a namespace (one reader per slot) and gives each follower its events in order", async () => {
    await using cluster = await startRedisCluster();
    const client = connectRedis(cluster.url, { maxRetriesPerRequest: null });
    const clusterStore = createRunStore(client);
    try {
      await using fanout = createEventFanout({ redis: client, store: clusterStore, blockMs: 5000 });
      const runs: string[] = [];
      for (let index = 0; index < 24; index++) {
        const runId = `c${index}-${Math.random().toString(36).slice(2, 10)}`;
        await clusterStore.create(newRun({ id: runId, namespace, agent: "a", input: "hi" }), []);
        runs.push(runId);
      }
      expect(new Set(runs.map((runId) => shardOf(runId))).size).toBeGreaterThan(4);
      const followers = runs.map((runId) => collect(fanout.follow(namespace, runId)));
      await expect.poll(() => fanout.followers()).toBe(runs.length);
      for (let index = 0; index < 10; index++) {
        for (const runId of runs) {
          await client.xadd(
            runEventsKey(namespace, runId),
            "*",
            "event",
            JSON.stringify(runStart(runId, index)),
          );
        }
      }
      for (const runId of runs) {
        await client.xadd(runEventsKey(namespace, runId), "*", "event", JSON.stringify(runEnd(runId)));
      }
      for (const [position, seen] of (await Promise.all(followers)).entries()) {
        const inputs = seen.flatMap(({ event }) => (event.type === "run-start" ? [event.input] : []));
        expect(inputs, runs[position]).toEqual(Array.from({ length: 10 }, (_, index) => `event ${index}`));
        expect(seen.at(-1)?.event.type).toBe("run-end");
      }
      expect(fanout.followers()).toBe(0);
    } finally {
      client.disconnect();
    }
  });
});
