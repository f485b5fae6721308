/**
 * startRedisCluster on real redis-servers: three primaries on loopback that connectRedis reaches
 * through a `redis+cluster://` URL, keys of every slot range written through the cluster client and
 * found on the primary that owns them, each node's writes batched per tick, a run's job never added
 * in its write; and the URLs connectRedis refuses.
 */
import { Cluster, Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import {
  agentQueueName,
  agentQueuePrefix,
  approvalItemKey,
  approvalsKey,
  connectRedis,
  createAgentQueues,
  defaultMaxBatchedCommands,
  dispatchKey,
  inboxItemKey,
  inboxQueueKey,
  createRunStore,
  newRun,
  runEventsKey,
  runIndexKey,
  runKey,
  shardsPerNamespace,
  startRedisCluster,
  type RedisEffect,
} from "../src/index.ts";
import { countSocketWrites } from "./socket-writes.ts";

/** A key in each slot range (0-5460, 5461-10922, 10923-16383), by asking a node for key slots. */
async function keyPerRange(redis: Redis | Cluster): Promise<string[]> {
  const keys: (string | undefined)[] = [undefined, undefined, undefined];
  for (let index = 0; keys.includes(undefined); index += 1) {
    const key = `cluster-test:${index}`;
    const slot = Number(await redis.call("CLUSTER", "KEYSLOT", key));
    const range = slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2;
    keys[range] ??= key;
  }
  return keys.filter((key) => key !== undefined);
}

describe("startRedisCluster", () => {
  it("starts three primaries that a redis+cluster:// URL reaches, each serving its slot range", async () => {
    await using cluster = await startRedisCluster({ password: "cluster-admin-0123456789" });
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.url).toBe(
      `redis+cluster://:cluster-admin-0123456789@${cluster.nodes.map((node) => `${node.host}:${node.port}`).join(",")}`,
    );
    const redis = connectRedis(cluster.url, { maxRetriesPerRequest: null });
    try {
      expect(redis).toBeInstanceOf(Cluster);
      const keys = await keyPerRange(redis);
      for (const key of keys) await redis.set(key, `value of ${key}`);
      for (const key of keys) expect(await redis.get(key)).toBe(`value of ${key}`);
      // Each key lives on the primary of its range: asked directly, that node answers it.
      for (const [index, node] of cluster.nodes.entries()) {
        const direct = new Redis({ host: node.host, port: node.port, password: "cluster-admin-0123456789" });
        try {
          const key = keys[index] ?? "";
          expect(await direct.get(key)).toBe(`value of ${key}`);
          const info = String(await direct.call("CLUSTER", "INFO"));
          expect(info).toContain("cluster_state:ok");
          expect(info).toContain("cluster_known_nodes:3");
          // The cluster client's writes to this node are batched per tick (batchWrites): 100
          // commands issued at once (to a key of its slot) leave in writes of 16 (7) of the client's
          // socket to it and reach it in as many reads at most (the observer's INFO is one more).
          const reads = async (): Promise<number> =>
            Number(/total_reads_processed:(\d+)/.exec(await direct.info("stats"))?.[1]);
          const before = await reads();
          const client = (redis as Cluster)
            .nodes("master")
            .find((candidate) => candidate.options.port === node.port);
          const { result: counts, writes } = await countSocketWrites(client?.stream, () =>
            Promise.all(Array.from({ length: 100 }, () => redis.incr(`{${key}}:count`))),
          );
          expect(counts.at(-1)).toBe(100);
          expect(writes).toBe(Math.ceil(100 / defaultMaxBatchedCommands));
          const taken = (await reads()) - before - 1;
          expect(taken).toBeGreaterThanOrEqual(1);
          expect(taken).toBeLessThanOrEqual(Math.ceil(100 / defaultMaxBatchedCommands));
        } finally {
          direct.disconnect();
        }
      }
    } finally {
      redis.disconnect();
    }
  });

  it("spreads one namespace's runs over every primary, and keeps a run's child runs and items on its slot", async () => {
    await using cluster = await startRedisCluster();
    const redis = connectRedis(cluster.url, { maxRetriesPerRequest: null });
    try {
      const slotOf = async (key: string): Promise<number> =>
        Number(await redis.call("CLUSTER", "KEYSLOT", key));
      const nodeOf = (slot: number): number => (slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2);
      const nodes = new Set<number>();
      const slots = new Set<number>();
      // 300 runs: the chance that one of the 16 shards gets none is about 16 × (15/16)^300, below 1e-7.
      for (let index = 0; index < 300; index += 1) {
        const runId = randomUUID();
        const slot = await slotOf(runKey("acme", runId));
        slots.add(slot);
        nodes.add(nodeOf(slot));
        // Everything one checkpoint of this run may write is on its slot.
        for (const key of [
          runEventsKey("acme", runId),
          dispatchKey("acme", runId),
          runKey("acme", `${runId}-3-0`),
          inboxItemKey("acme", `${runId}-2-1`),
          inboxQueueKey("acme", "desk", "waiting", `${runId}-2-1`),
          approvalItemKey("acme", `${runId}-4-0`),
          approvalsKey("acme", `${runId}-4-0`),
          runKey("acme", `${runId}-3-0-1-0`),
          runIndexKey("acme", runId),
          runIndexKey("acme", `${runId}-3-0`),
        ]) {
          expect(await slotOf(key), key).toBe(slot);
        }
      }
      expect(slots.size).toBe(shardsPerNamespace);
      expect([...nodes].sort()).toEqual([0, 1, 2]);
    } finally {
      redis.disconnect();
    }
  });

  it("stores runs and lists them across the primaries, newest first, a page at a time", async () => {
    await using cluster = await startRedisCluster();
    const redis = connectRedis(cluster.url, { maxRetriesPerRequest: null });
    try {
      const store = createRunStore(redis);
      const base = Date.now();
      const ids: string[] = [];
      for (let index = 0; index < 40; index += 1) {
        const state = newRun({
          id: randomUUID(),
          namespace: "acme",
          agent: "billing",
          input: "Hi",
          now: new Date(base + index),
        });
        await store.create(state, []);
        ids.unshift(state.id);
      }
      const listed: string[] = [];
      let page = await store.list("acme", { limit: 7 });
      listed.push(...page.runs.map((run) => run.id));
      while (page.next !== undefined) {
        page = await store.list("acme", { limit: 7, after: page.next });
        listed.push(...page.runs.map((run) => run.id));
      }
      expect(listed).toEqual(ids);

      // A run's job is not added in its write here (the queue's keys are in another slot): the worker
      // adds it after the write, and a write given one is refused before anything is written.
      const queues = createAgentQueues(redis);
      const [first] = ids;
      if (first === undefined) throw new Error("no run stored");
      expect(queues.enqueueEffect("acme", "support", first, { key: "r1" })).toBeUndefined();
      await queues.close();
      const run = await store.require("acme", first);
      const queue = `${agentQueuePrefix("acme")}:${agentQueueName("acme", "support")}`;
      const job: RedisEffect = {
        op: "enqueue",
        key: `${queue}:wait`,
        prefix: `${queue}:`,
        jobId: `${first}.r1`,
        name: "run",
        timestamp: Date.now(),
        data: "{}",
        opts: {},
      };
      await expect(
        store.checkpoint(run, { ...run, status: "queued", agent: "support" }, [], { effects: [job] }),
      ).rejects.toMatchObject({ code: "store.cross-slot" });
      expect(await store.require("acme", first)).toEqual(run);
    } finally {
      redis.disconnect();
    }
  });

  it("makes the given ACL users on every node", async () => {
    await using cluster = await startRedisCluster({
      users: [{ name: "app", password: "app-password-0123456789", rules: ["~app:*", "+@all"] }],
    });
    const addresses = cluster.nodes.map((node) => `${node.host}:${node.port}`).join(",");
    const redis = connectRedis(`redis+cluster://app:app-password-0123456789@${addresses}`, {
      maxRetriesPerRequest: null,
    });
    try {
      for (let index = 0; index < 30; index += 1) await redis.set(`app:${index}`, String(index));
      expect(await redis.get("app:29")).toBe("29");
      await expect(redis.set("other", "x")).rejects.toThrow(/NOPERM/);
    } finally {
      redis.disconnect();
    }
  });
});

describe("connectRedis", () => {
  it.each([
    "redis+cluster://",
    "redis+cluster://127.0.0.1",
    "redis+cluster://127.0.0.1:7000,",
    "redis+cluster://127.0.0.1:7000,127.0.0.1",
    "redis+cluster://127.0.0.1:99999",
    "redis+cluster://127.0.0.1:7000/1",
    "redis+cluster://user:secret@",
    "http://127.0.0.1:6379",
    "127.0.0.1:6379",
    "redis://",
    "redis://127.0.0.1:6379/queue",
  ])("refuses %s with config.invalid-redis-url", (url) => {
    expect(() => connectRedis(url, { lazyConnect: true })).toThrow(
      expect.objectContaining({ code: "config.invalid-redis-url" }),
    );
  });

  it("keeps credentials out of the error message", () => {
    expect(() => connectRedis("redis+cluster://user:secret@host", { lazyConnect: true })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining("secret") as unknown }),
    );
  });

  it("takes one Redis's URLs as before", () => {
    const redis = connectRedis("redis://user:secret@127.0.0.1:6379/2", { lazyConnect: true });
    expect(redis).toBeInstanceOf(Redis);
    redis.disconnect();
  });
});
