/**
 * startRedisServer's crash controls on a real redis-server: `kill()` then `start()`, and `crash()`,
 * bring Redis back on the same port with its append-only data; `appendFsync` reaches the server.
 */
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { startRedisServer } from "../src/index.ts";

describe("startRedisServer", () => {
  it("with appendfsync always, keeps every acknowledged write through kill() and start()", async () => {
    await using redis = await startRedisServer({ appendOnly: true, appendFsync: "always" });
    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    client.on("error", () => undefined);
    try {
      expect(await client.config("GET", "appendfsync")).toEqual(["appendfsync", "always"]);
      for (let index = 0; index < 100; index += 1) await client.incr("writes");
      await redis.kill();
      // Down: a new connection is refused.
      const probe = new Redis(redis.port, { lazyConnect: true, retryStrategy: () => null });
      probe.on("error", () => undefined);
      await expect(probe.connect()).rejects.toThrow();
      probe.disconnect();
      await redis.start();
      await redis.start(); // already running: nothing to do
      expect(await client.get("writes")).toBe("100");
      await client.incr("writes");
      await redis.crash();
      expect(await client.get("writes")).toBe("101");
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    } finally {
      client.disconnect();
    }
  });

  it("fsyncs once a second by default", async () => {
    await using redis = await startRedisServer({ appendOnly: true });
    const client = new Redis(redis.url);
    try {
      expect(await client.config("GET", "appendfsync")).toEqual(["appendfsync", "everysec"]);
    } finally {
      client.disconnect();
    }
  });
});
