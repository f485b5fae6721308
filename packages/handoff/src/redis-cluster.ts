/**
 * Starts a real Redis Cluster of three primaries (no replicas) on free loopback ports: for tests
 * that must pass against a cluster as well as against one Redis. Each primary is a
 * {@link startRedisServer} child with `cluster-enabled yes`, its own cluster configuration file
 * in its own folder and a free port of its own for the cluster bus; the slots are split in three (`0-5460`, `5461-10922`, `10923-16383`) and the
 * nodes meet; it is ready when every node says `cluster_state:ok` and knows the other two.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { FreeholdError } from "@freehold/api";
import { Redis } from "ioredis";
import { freePort, isAddressInUse, startRedisServer, type RedisServer } from "./redis-server.ts";

/** An ACL user made on every node before the cluster is handed out. */
export interface RedisClusterUser {
  readonly name: string;
  readonly password: string;
  /** ACL rules after `on >password`, e.g. `["~app:*", "+@all"]`. */
  readonly rules: readonly string[];
}

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** The default user's password on every node (`--requirepass`); `url` carries it. Default: none. */
  readonly password?: string;
  /** ACL users to make on every node. Default: none. */
  readonly users?: readonly RedisClusterUser[];
  /** The binary. Default: `redis-server` on the PATH. */
  readonly binary?: string;
  /** How long to wait for `cluster_state:ok` on every node. Default: 20 s (inside a test's 30 s). */
  readonly readyTimeoutMs?: number;
}

/** A node of the cluster. */
export interface RedisClusterNode {
  readonly host: string;
  readonly port: number;
}

/** A running Redis Cluster. */
export interface RedisCluster extends AsyncDisposable {
  /**
   * `redis+cluster://127.0.0.1:<port>,127.0.0.1:<port>,127.0.0.1:<port>`, with the default user's
   * password when one is set; {@link connectRedis} takes it.
   */
  readonly url: string;
  /** The three primaries, in slot order. */
  readonly nodes: readonly RedisClusterNode[];
  /** Stops every node and removes their folders. */
  stop(): Promise<void>;
}

/** The slot ranges of the three primaries. */
const slotRanges: readonly (readonly [number, number])[] = [
  [0, 5460],
  [5461, 10922],
  [10923, 16383],
];

const host = "127.0.0.1";

/** The fields of a `CLUSTER INFO` reply. */
function parseClusterInfo(reply: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of reply.split(/\r?\n/)) {
    const separator = line.indexOf(":");
    if (separator > 0) fields.set(line.slice(0, separator), line.slice(separator + 1).trim());
  }
  return fields;
}

/**
 * Starts three `redis-server` primaries as one cluster and waits until every node serves it.
 *
 * @example
 * ```ts
 * await using cluster = await startRedisCluster({ password: "admin-secret" });
 * const redis = connectRedis(cluster.url);
 * await redis.set("greeting", "hello");
 * ```
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const folder = mkdtempSync(join(tmpdir(), "freehold-redis-cluster-"));
  const servers: RedisServer[] = [];
  const busPorts: number[] = [];
  const connections: Redis[] = [];
  const stop = async (): Promise<void> => {
    for (const connection of connections.splice(0)) connection.disconnect();
    await Promise.all(servers.splice(0).map((server) => server.stop()));
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    for (let index = 0; index < slotRanges.length; index += 1) {
      const dataDirectory = join(folder, `node-${index}`);
      // The bus port is the node's port + 10000 by default: past 65535 for a high free port. A bus
      // port taken between the check and the bind is chosen again.
      for (let attempt = 1; ; attempt += 1) {
        const busPort = await freePort();
        try {
          servers.push(
            await startRedisServer({
              dataDirectory,
              ...(options.binary === undefined ? {} : { binary: options.binary }),
              ...(options.password === undefined ? {} : { password: options.password }),
              extraArguments: [
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                join(dataDirectory, "nodes.conf"),
                "--cluster-port",
                String(busPort),
              ],
            }),
          );
          busPorts.push(busPort);
          break;
        } catch (error) {
          if (attempt >= 5 || !isAddressInUse(error)) throw error;
          rmSync(join(dataDirectory, "nodes.conf"), { force: true });
        }
      }
    }
    for (const server of servers) {
      const connection = new Redis({
        host,
        port: server.port,
        maxRetriesPerRequest: null,
        ...(options.password === undefined ? {} : { password: options.password }),
      });
      connection.on("error", () => undefined);
      connections.push(connection);
    }
    for (const [index, connection] of connections.entries()) {
      const [first, last] = slotRanges[index] ?? [0, -1];
      await connection.call("CLUSTER", "ADDSLOTSRANGE", String(first), String(last));
      for (const user of options.users ?? []) {
        await connection.call("ACL", "SETUSER", user.name, "reset", "on", `>${user.password}`, ...user.rules);
      }
    }
    const firstPort = servers[0]?.port ?? 0;
    const firstBusPort = busPorts[0] ?? 0;
    for (const connection of connections.slice(1)) {
      await connection.call("CLUSTER", "MEET", host, String(firstPort), String(firstBusPort));
    }
    await waitUntilReady(connections, options.readyTimeoutMs ?? 20_000);
  } catch (error) {
    await stop();
    throw error;
  }
  for (const connection of connections.splice(0)) connection.disconnect();
  const addresses = servers.map((server) => `${host}:${server.port}`).join(",");
  return {
    url:
      options.password === undefined
        ? `redis+cluster://${addresses}`
        : `redis+cluster://:${encodeURIComponent(options.password)}@${addresses}`,
    nodes: servers.map((server) => ({ host, port: server.port })),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Polls `CLUSTER INFO` on every node until each is `ok` and knows every node. */
async function waitUntilReady(connections: readonly Redis[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let states: string[];
  for (;;) {
    states = await Promise.all(
      connections.map(async (connection) => {
        const info = parseClusterInfo(String(await connection.call("CLUSTER", "INFO")));
        return `${info.get("cluster_state") ?? "?"}/${info.get("cluster_known_nodes") ?? "?"}`;
      }),
    );
    if (states.every((state) => state === `ok/${connections.length}`)) return;
    if (Date.now() > deadline) break;
    await sleep(50);
  }
  throw new FreeholdError(
    "redis.cluster-not-ready",
    `the Redis Cluster did not become ready in ${timeoutMs} ms (cluster_state/known nodes per node: ${states.join(", ")}); ` +
      "check the redis-server output, or give it longer with readyTimeoutMs",
  );
}
