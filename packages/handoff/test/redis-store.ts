/**
 * The suites' Redis: a real redis-server started before a file's tests, a connection to it and a run
 * store on it, all stopped after them.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { createRunStore, startRedisServer, type RedisServer, type RunStore } from "../src/index.ts";

export interface RedisStore {
  readonly server: RedisServer;
  readonly redis: Redis;
  readonly store: RunStore;
}

/**
 * Starts the server before the file's tests and stops it after; read the fields inside tests.
 *
 * @example
 * const local = useRedisStore();
 * it("stores", async () => { await local.store.create(run, []); });
 */
export function useRedisStore(): RedisStore {
  let current: RedisStore | undefined;
  beforeAll(async () => {
    const server = await startRedisServer();
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    current = { server, redis, store: createRunStore(redis) };
  });
  afterAll(async () => {
    current?.redis.disconnect();
    await current?.server.stop();
  });
  const started = (): RedisStore => {
    if (current === undefined) throw new Error("useRedisStore: read its fields inside a test");
    return current;
  };
  return {
    get server() {
      return started().server;
    },
    get redis() {
      return started().redis;
    },
    get store() {
      return started().store;
    },
  };
}
