/**
 * Starts a Redis primary, a replica of it and a Sentinel watching them, all on loopback: for tests
 * of what a failover does to runs. `url` is `redis+sentinel://127.0.0.1:<sentinel>/<name>`, which
 * {@link connectRedis} follows to whichever node is the primary; `failover()` SIGKILLs the primary and
 * waits until the Sentinel has promoted the replica. Replication is asynchronous: what the primary
 * acknowledged and had not sent to the replica yet when it died is lost.
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FreeholdError } from "@freehold/api";
import { Redis } from "ioredis";
import { freePort, startRedisServer, type RedisServer } from "./redis-server.ts";

/** Options of {@link startRedisSentinel}. */
export interface RedisSentinelOptions {
  /** The name the Sentinel knows the primary by. Default `freehold`. */
  readonly name?: string;
  /** The binary. Default: `redis-server` on the PATH. */
  readonly binary?: string;
  /** How long to wait for the replica to sync and the Sentinel to see it, and for a failover. Default 20 s. */
  readonly readyTimeoutMs?: number;
}

/** A primary, its replica and a Sentinel. */
export interface RedisSentinel extends AsyncDisposable {
  /** `redis+sentinel://127.0.0.1:<port>/<name>`. */
  readonly url: string;
  /** The node that is the primary now. */
  primary(): RedisServer;
  /** SIGKILLs the primary and waits until the Sentinel names the replica as the new primary. */
  failover(): Promise<void>;
  stop(): Promise<void>;
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // Not up yet.
    }
    if (Date.now() > deadline) {
      throw new FreeholdError("redis.start-failed", `${what} did not happen within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * @example
 * ```ts
 * await using redis = await startRedisSentinel();
 * const connection = connectRedis(redis.url, { maxRetriesPerRequest: null });
 * await redis.failover();
 * ```
 */
export async function startRedisSentinel(options: RedisSentinelOptions = {}): Promise<RedisSentinel> {
  const name = options.name ?? "freehold";
  const binary = options.binary ?? "redis-server";
  const timeoutMs = options.readyTimeoutMs ?? 20_000;
  const folder = mkdtempSync(join(tmpdir(), "freehold-redis-sentinel-"));
  const nodes: RedisServer[] = [];
  let sentinelProcess: ChildProcess | undefined;
  const admin: Redis[] = [];
  const stop = async (): Promise<void> => {
    for (const connection of admin.splice(0)) connection.disconnect();
    sentinelProcess?.kill("SIGKILL");
    await Promise.all(nodes.map((node) => node.stop()));
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    const first = await startRedisServer({ binary, dataDirectory: join(folder, "a"), appendOnly: true });
    nodes.push(first);
    const second = await startRedisServer({
      binary,
      dataDirectory: join(folder, "b"),
      appendOnly: true,
      extraArguments: ["--replicaof", "127.0.0.1", String(first.port)],
    });
    nodes.push(second);
    const watch = (connection: Redis): Redis => {
      // Refused connections to a node that is down are expected here; the checks retry.
      connection.on("error", () => undefined);
      admin.push(connection);
      return connection;
    };
    const replica = watch(new Redis(second.url, { lazyConnect: true, maxRetriesPerRequest: 1 }));
    await until("the replica's first sync", timeoutMs, async () =>
      (await replica.info("replication")).includes("master_link_status:up"),
    );

    const port = await freePort();
    const config = join(folder, "sentinel.conf");
    writeFileSync(
      config,
      [
        `port ${port}`,
        "bind 127.0.0.1",
        `dir ${folder}`,
        `sentinel monitor ${name} 127.0.0.1 ${first.port} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 10000`,
        `sentinel parallel-syncs ${name} 1`,
        "",
      ].join("\n"),
    );
    sentinelProcess = spawn(binary, [config, "--sentinel"], { stdio: "ignore" });
    const sentinel = watch(
      new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 1 }),
    );
    await until("the Sentinel seeing the replica", timeoutMs, async () => {
      const replicas = (await sentinel.call("SENTINEL", "REPLICAS", name)) as unknown[];
      return replicas.length > 0;
    });
    const primaryPort = async (): Promise<number> => {
      const address = (await sentinel.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)) as string[] | null;
      return Number(address?.[1]);
    };
    let current = first;
    return {
      url: `redis+sentinel://127.0.0.1:${port}/${name}`,
      primary: () => current,
      async failover() {
        const dead = current;
        const next = dead === first ? second : first;
        await dead.kill();
        await until(
          "the Sentinel promoting the replica",
          timeoutMs,
          async () => (await primaryPort()) === next.port,
        );
        const promoted = watch(new Redis(next.url, { lazyConnect: true, maxRetriesPerRequest: 1 }));
        await until("the new primary taking writes", timeoutMs, async () =>
          (await promoted.info("replication")).includes("role:master"),
        );
        current = next;
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
