/**
 * batchWrites on a real redis-server: the commands a connection from connectRedis issues in one
 * tick leave in one write of its socket (counted at the socket), reach Redis in one or two reads
 * (Redis counts them: `total_reads_processed`), their replies come back in order, and that holds on
 * the socket a reconnect opens. Each node of a cluster is checked in redis-cluster.test.ts.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis, startRedisServer, type RedisServer } from "../src/index.ts";
import { countSocketWrites } from "./socket-writes.ts";

let server: RedisServer;
/** Looks at Redis's counters; its own INFO is one read. */
let observer: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  observer = new Redis(server.url);
});

afterAll(async () => {
  observer.disconnect();
  await server.stop();
});

/** The reads Redis has processed so far, from all its clients. */
async function readsProcessed(redis: Redis): Promise<number> {
  const info = await redis.info("stats");
  const reads = /total_reads_processed:(\d+)/.exec(info)?.[1];
  if (reads === undefined) throw new Error(`Redis's INFO stats has no total_reads_processed:\n${info}`);
  return Number(reads);
}

/**
 * 100 INCRs of `key` issued in one tick: their replies, the writes the socket made of them, and the
 * reads Redis took to get them.
 */
async function incrementsInOneTick(
  redis: Redis,
  key: string,
): Promise<{ replies: number[]; writes: number; reads: number }> {
  const before = await readsProcessed(observer);
  const { result: replies, writes } = await countSocketWrites(redis.stream, () =>
    Promise.all(Array.from({ length: 100 }, () => redis.incr(key))),
  );
  // The observer's own INFO is one read of those counted.
  const reads = (await readsProcessed(observer)) - before - 1;
  return { replies, writes, reads };
}

describe("batchWrites", () => {
  it("sends the commands of one tick in one write, their replies in order", async () => {
    const redis = connectRedis(server.url) as Redis;
    try {
      await redis.ping();
      const { replies, writes, reads } = await incrementsInOneTick(redis, "batched");
      expect(replies).toEqual(Array.from({ length: 100 }, (_, index) => index + 1));
      expect(writes).toBe(1);
      // 100 commands of about 30 bytes: one write, which Redis may take in two reads.
      expect(reads).toBeGreaterThanOrEqual(1);
      expect(reads).toBeLessThanOrEqual(2);
      // A command awaited alone is sent as well (the batch ends with its tick).
      expect(await redis.get("batched")).toBe("100");
    } finally {
      redis.disconnect();
    }
  });

  it("batches the writes of the socket a reconnect opens", async () => {
    const redis = connectRedis(server.url, { maxRetriesPerRequest: null }) as Redis;
    try {
      await redis.ping();
      const first = redis.stream;
      const ready = new Promise((resolve) => redis.once("ready", resolve));
      const id = await redis.client("ID");
      await observer.client("KILL", "ID", String(id));
      await ready;
      expect(redis.stream).not.toBe(first);
      const { replies, writes, reads } = await incrementsInOneTick(redis, "reconnected");
      expect(replies.at(-1)).toBe(100);
      expect(writes).toBe(1);
      expect(reads).toBeLessThanOrEqual(2);
    } finally {
      redis.disconnect();
    }
  });
});
