/**
 * The Sentinel harness on real redis-servers: a redis+sentinel:// client writes to the primary,
 * follows the Sentinel to the promoted replica when the primary is SIGKILLed, and finds there what
 * had replicated; malformed Sentinel URLs are refused with what to write.
 */
import { describe, expect, it } from "vitest";
import { connectRedis, parseSentinelUrl, startRedisSentinel } from "../src/index.ts";

describe("startRedisSentinel", () => {
  it("gives a URL whose client follows the primary through a failover", { timeout: 60_000 }, async () => {
    await using sentinel = await startRedisSentinel();
    const redis = connectRedis(sentinel.url, { maxRetriesPerRequest: null });
    redis.on("error", () => undefined);
    try {
      const before = sentinel.primary().port;
      await redis.set("before", "written");
      // WAIT: the write reached the replica, so the failover cannot lose it.
      expect(await redis.wait(1, 5000)).toBe(1);
      await sentinel.failover();
      expect(sentinel.primary().port).not.toBe(before);
      expect(await redis.get("before")).toBe("written");
      await redis.set("after", "written");
      expect(await redis.get("after")).toBe("written");
    } finally {
      redis.disconnect();
    }
  });
});

describe("parseSentinelUrl", () => {
  it("reads the Sentinels, the primary's name and the nodes' credentials", () => {
    expect(parseSentinelUrl("redis+sentinel://app:s%40cret@10.0.0.1:26379,10.0.0.2:26379/freehold")).toEqual({
      tls: false,
      username: "app",
      password: "s@cret",
      sentinels: [
        { host: "10.0.0.1", port: 26379 },
        { host: "10.0.0.2", port: 26379 },
      ],
      name: "freehold",
    });
  });

  it("refuses a URL without the primary's name or with a bad node, hiding credentials", () => {
    for (const url of [
      "redis+sentinel://10.0.0.1:26379",
      "redis+sentinel://10.0.0.1/freehold",
      "redis+sentinel://:hunter2@10.0.0.1:99999/freehold",
    ]) {
      expect(() => parseSentinelUrl(url)).toThrow(
        /redis\+sentinel:\/\/\[user:password@\]host:port,host:port\/<primary name>/,
      );
      expect(() => parseSentinelUrl(url)).not.toThrow(/hunter2/);
    }
  });
});
