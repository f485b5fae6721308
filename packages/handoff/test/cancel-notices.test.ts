/**
 * Cancel notices on real redis-servers: a stored cancel is announced on its namespace's channel and a
 * watch subscribed to it hears it (one Redis, a tenant's ACL user confined to its own channels, and a
 * 3-primary Redis Cluster where the announcement and the watch are on different nodes); a watch is
 * live only once subscribed, forgets old notices, and never reports a run that was not cancelled.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import {
  cancelChannel,
  cancelNoticeMemoryMs,
  cancelRun,
  connectRedis,
  createRunStore,
  newRun,
  startRedisCluster,
  watchCancels,
  type CancelWatch,
  type RedisClient,
  type RunStore,
} from "../src/index.ts";
import { useRedisStore } from "./redis-store.ts";
import { startTenantRedis } from "./tenant-fixture.ts";

/** A running run stored in `namespace`. */
async function storedRun(store: RunStore, namespace: string): Promise<string> {
  const run = newRun({ id: randomUUID(), namespace, agent: "front", input: "Hello." });
  await store.create({ ...run, status: "running" }, []);
  return run.id;
}

async function liveWatch(redis: RedisClient, namespace: string): Promise<CancelWatch> {
  const watch = watchCancels(redis);
  await expect.poll(() => watch.live(namespace), { timeout: 5_000, interval: 10 }).toBe(true);
  return watch;
}

describe("cancel notices on one Redis", () => {
  const local = useRedisStore();

  it("is live only once subscribed, and hears a cancel of its namespace's runs, no other", async () => {
    const watch = watchCancels(local.redis);
    // The first question subscribes: not live until Redis confirms.
    expect(watch.live("north")).toBe(false);
    await expect.poll(() => watch.live("north"), { timeout: 5_000, interval: 10 }).toBe(true);
    const cancelled = await storedRun(local.store, "north");
    const running = await storedRun(local.store, "north");
    const elsewhere = await storedRun(local.store, "south");
    await cancelRun(local.store, "north", cancelled);
    await cancelRun(local.store, "south", elsewhere);
    await expect.poll(() => watch.cancelled("north", cancelled), { timeout: 5_000, interval: 10 }).toBe(true);
    expect(watch.cancelled("north", running)).toBe(false);
    // South is not watched: its cancel is not heard (and a run id of another namespace is not confused).
    expect(watch.cancelled("south", elsewhere)).toBe(false);
    expect(watch.cancelled("north", elsewhere)).toBe(false);
    await watch.close();
    expect(watch.live("north")).toBe(false);
  });

  it("takes a message on the channel as a notice for the run it names, and that run only", async () => {
    // Only a user who may write the namespace's keys anyway may publish there; a notice that was not
    // a cancel makes that run's loop write before its next call, and the write, accepted, lets it go on.
    const watch = await liveWatch(local.redis, "west");
    await local.redis.publish(cancelChannel("west"), "not-a-run");
    await expect
      .poll(() => watch.cancelled("west", "not-a-run"), { timeout: 5_000, interval: 10 })
      .toBe(true);
    expect(watch.cancelled("west", "another")).toBe(false);
    await watch.close();
  });

  it("forgets a notice after cancelNoticeMemoryMs", async () => {
    let now = 1_000_000;
    const watch = watchCancels(local.redis, { now: () => now });
    await expect.poll(() => watch.live("east"), { timeout: 5_000, interval: 10 }).toBe(true);
    const runId = await storedRun(local.store, "east");
    await cancelRun(local.store, "east", runId);
    await expect.poll(() => watch.cancelled("east", runId), { timeout: 5_000, interval: 10 }).toBe(true);
    now += cancelNoticeMemoryMs;
    expect(watch.cancelled("east", runId)).toBe(false);
    await watch.close();
  });

  it("is not live while its connection is down, and live again once it resubscribed", async () => {
    const watch = await liveWatch(local.redis, "up-down");
    // Drop the watch's connection (as a network cut would): ioredis reconnects and resubscribes.
    const clients = String(await local.redis.call("CLIENT", "LIST", "TYPE", "pubsub"));
    const id = /id=(\d+)/.exec(clients)?.[1];
    expect(id).toBeDefined();
    await local.redis.call("CLIENT", "KILL", "ID", String(id));
    await expect.poll(() => watch.live("up-down"), { timeout: 5_000, interval: 5 }).toBe(false);
    await expect.poll(() => watch.live("up-down"), { timeout: 10_000, interval: 20 }).toBe(true);
    const runId = await storedRun(local.store, "up-down");
    await cancelRun(local.store, "up-down", runId);
    await expect.poll(() => watch.cancelled("up-down", runId), { timeout: 5_000, interval: 10 }).toBe(true);
    await watch.close();
  });
});

describe("cancel notices under a tenant's ACL user", () => {
  it("announces and hears on the tenant's own channels; another namespace's channel is refused", async () => {
    const tenantRedis = await startTenantRedis();
    try {
      const acme = await tenantRedis.addTenant({ tenant: "acme", namespaces: ["acme"] });
      const redis = new Redis(acme.url, { maxRetriesPerRequest: null });
      const store = createRunStore(redis);
      const watch = await liveWatch(redis, "acme");
      const runId = await storedRun(store, "acme");
      await cancelRun(store, "acme", runId);
      await expect.poll(() => watch.cancelled("acme", runId), { timeout: 5_000, interval: 10 }).toBe(true);
      // Another tenant's namespace: never live (Redis refuses the subscription).
      const errors: Error[] = [];
      const other = watchCancels(redis, { onError: (error) => errors.push(error) });
      expect(other.live("globex")).toBe(false);
      await expect.poll(() => errors.length, { timeout: 5_000, interval: 10 }).toBeGreaterThan(0);
      expect(errors[0]?.message).toMatch(/NOPERM/);
      expect(other.live("globex")).toBe(false);
      await other.close();
      await watch.close();
      redis.disconnect();
      expect(await tenantRedis.refusedTo(acme.user)).toEqual([`channel ${cancelChannel("globex")}`]);
    } finally {
      await tenantRedis.stop();
    }
  });
});

describe("cancel notices on a Redis Cluster", () => {
  it("hears a cancel announced through any node", async () => {
    await using cluster = await startRedisCluster();
    const redis = connectRedis(cluster.url, { maxRetriesPerRequest: null });
    try {
      const store = createRunStore(redis);
      const watch = await liveWatch(redis, "spread");
      // Runs in every shard: their cancels are written on different primaries.
      const runIds = await Promise.all(Array.from({ length: 8 }, () => storedRun(store, "spread")));
      for (const runId of runIds) await cancelRun(store, "spread", runId);
      for (const runId of runIds) {
        await expect
          .poll(() => watch.cancelled("spread", runId), { timeout: 5_000, interval: 10 })
          .toBe(true);
      }
      await watch.close();
    } finally {
      redis.disconnect();
    }
  });
});
