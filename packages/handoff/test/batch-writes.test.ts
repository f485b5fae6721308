/**
 * batchWrites on a real redis-server: the commands a connection from connectRedis issues in one
 * tick leave in writes of at most 16 commands each (counted at the socket), reach Redis in at most
 * that many reads (Redis counts them: `total_reads_processed`), their replies come back in order,
 * and that holds on the socket a reconnect opens. Each node of a cluster is checked in
 * redis-cluster.test.ts.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  batchWrites,
  connectRedis,
  defaultMaxBatchedCommands,
  startRedisServer,
  type RedisServer,
} from "../src/index.ts";
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

/** Writes of at most 16 commands: 100 commands of one tick leave in 7. */
const batchesOf100 = Math.ceil(100 / defaultMaxBatchedCommands);

describe("batchWrites", () => {
  it("sends the commands of one tick in writes of 16, their replies in order", async () => {
    const redis = connectRedis(server.url) as Redis;
    try {
      await redis.ping();
      const { replies, writes, reads } = await incrementsInOneTick(redis, "batched");
      expect(replies).toEqual(Array.from({ length: 100 }, (_, index) => index + 1));
      expect(defaultMaxBatchedCommands).toBe(16);
      expect(writes).toBe(batchesOf100);
      // Writes of about 500 bytes: Redis takes each in one read, or several in one.
      expect(reads).toBeGreaterThanOrEqual(1);
      expect(reads).toBeLessThanOrEqual(batchesOf100);
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
      expect(writes).toBe(batchesOf100);
      expect(reads).toBeLessThanOrEqual(batchesOf100);
    } finally {
      redis.disconnect();
    }
  });

  it("holds as many commands per write as it is told, up to a whole tick's", async () => {
    for (const [maxCommands, expected] of [
      [1, 100],
      [30, 4],
      [1000, 1],
    ] as const) {
      const redis = batchWrites(new Redis(server.url), { maxCommands });
      try {
        await redis.ping();
        const { replies, writes } = await incrementsInOneTick(redis, `batched-by-${maxCommands}`);
        expect(replies).toEqual(Array.from({ length: 100 }, (_, index) => index + 1));
        expect(writes).toBe(expected);
        // The batch ends with its tick: a command alone is sent at once.
        expect(await redis.get(`batched-by-${maxCommands}`)).toBe("100");
      } finally {
        redis.disconnect();
      }
    }
  });

  it("refuses a batch size that is not a whole number of at least 1", () => {
    for (const maxCommands of [0, -1, 2.5, Number.NaN]) {
      const redis = new Redis(server.url, { lazyConnect: true });
      try {
        expect(() => batchWrites(redis, { maxCommands })).toThrow(
          expect.objectContaining({
            code: "config.invalid-batch-size",
            message: expect.stringContaining("must be a whole number of at least 1") as unknown,
          }),
        );
      } finally {
        redis.disconnect();
      }
    }
  });
});
