/**
 * One Redis or a Redis Cluster, behind one type. Everything in Freehold that talks to Redis takes a
 * {@link RedisClient}; {@link connectRedis} makes one from a URL: `redis://` or `rediss://` for one
 * Redis, `redis+cluster://host:port,host:port` (or `rediss+cluster://`) for a cluster, given any of its
 * primaries (the rest are discovered), `redis+sentinel://host:port,host:port/<name>` for the primary
 * the Sentinels name (followed through a failover).
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import type { Socket } from "node:net";
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";

/** A connection to one Redis or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Whether a URL names a primary watched by Sentinels (`redis+sentinel://` or `rediss+sentinel://`). */
export function isSentinelUrl(url: string): boolean {
  return /^rediss?\+sentinel:\/\//.test(url);
}

/** What a `redis+sentinel://[user:password@]host:port,host:port/<name>` URL says. */
export interface RedisSentinelUrl {
  /** `rediss+sentinel://`: TLS to the Sentinels and the nodes. */
  readonly tls: boolean;
  /** The credentials of the Redis nodes (the Sentinels take none). */
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly sentinels: readonly { readonly host: string; readonly port: number }[];
  /** The name the Sentinels know the primary by. */
  readonly name: string;
}

/**
 * The parts of a `redis+sentinel://[user:password@]host:port,host:port/<name>` URL; a malformed one is
 * refused with `config.invalid-redis-url`, its credentials hidden.
 *
 * @example
 * ```ts
 * parseSentinelUrl("redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/freehold").name; // "freehold"
 * ```
 */
export function parseSentinelUrl(url: string): RedisSentinelUrl {
  const match = /^(rediss?)\+sentinel:\/\/([^/?#]+)\/([A-Za-z0-9._-]+)$/.exec(url);
  const nodes = match === null ? undefined : parseNodes(`${match[1] ?? "redis"}+cluster://${match[2] ?? ""}`);
  if (match === null || nodes === undefined) {
    throw new FreeholdError(
      "config.invalid-redis-url",
      `the Redis Sentinel URL ${JSON.stringify(redactUrl(url))} is not of the form redis+sentinel://[user:password@]host:port,host:port/<primary name>`,
    );
  }
  return {
    tls: nodes.tls,
    username: nodes.username,
    password: nodes.password,
    sentinels: nodes.nodes,
    name: match[3] ?? "",
  };
}

/** Whether a URL names a Redis Cluster (`redis+cluster://` or `rediss+cluster://`). */
export function isClusterUrl(url: string): boolean {
  return /^rediss?\+cluster:\/\//.test(url);
}

/** The URL with any credentials replaced by `***`, for error messages. */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}

/** Whether a URL names one Redis: `redis://` or `rediss://` with a host (and at most a port and a database). */
function isSingleRedisUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const parsed = new URL(url);
  return (
    (parsed.protocol === "redis:" || parsed.protocol === "rediss:") &&
    parsed.hostname !== "" &&
    /^\/?(\d+)?$/.test(parsed.pathname)
  );
}

/** What a `redis+cluster://` URL says. */
export interface RedisClusterUrl {
  /** `rediss+cluster://`: TLS to every node. */
  readonly tls: boolean;
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** The nodes it names (any of the primaries; the rest are discovered). */
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
}

/**
 * The parts of a `redis+cluster://[user:password@]host:port,host:port` URL (`rediss+cluster://`
 * with TLS); a malformed one is refused with `config.invalid-redis-url`, its credentials hidden.
 *
 * @example
 * ```ts
 * parseClusterUrl("redis+cluster://10.0.0.1:6379,10.0.0.2:6379").nodes; // [{ host: "10.0.0.1", port: 6379 }, ...]
 * ```
 */
export function parseClusterUrl(url: string): RedisClusterUrl {
  const parsed = parseNodes(url);
  if (parsed === undefined) {
    throw new FreeholdError(
      "config.invalid-redis-url",
      `the Redis Cluster URL ${JSON.stringify(redactUrl(url))} is not of the form redis+cluster://[user:password@]host:port,host:port`,
    );
  }
  return parsed;
}

/** A `redis+cluster://` URL's parts, or undefined when it is malformed. */
function parseNodes(url: string): RedisClusterUrl | undefined {
  const match = /^(rediss?)\+cluster:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#@]+)\/?$/.exec(url);
  const nodes = (match?.[4] ?? "").split(",").map((node) => {
    const hostPort = /^([^:,\s]+):(\d{1,5})$/.exec(node.trim());
    const port = Number(hostPort?.[2]);
    return hostPort === null || port < 1 || port > 65_535 ? undefined : { host: hostPort[1] ?? "", port };
  });
  if (match === null || nodes.some((node) => node === undefined)) return undefined;
  return {
    tls: match[1] === "rediss",
    username: match[2] === undefined || match[2] === "" ? undefined : decodeURIComponent(match[2]),
    password: match[3] === undefined ? undefined : decodeURIComponent(match[3]),
    nodes: nodes.filter((node) => node !== undefined),
  };
}

/** How many commands {@link batchWrites} puts in one socket write at most, by default. */
export const defaultMaxBatchedCommands = 16;

/** Options of {@link batchWrites}. */
export interface BatchWritesOptions {
  /**
   * Commands per socket write at most: the batch is sent when it holds this many, and the rest of
   * the tick's commands start the next one. Default {@link defaultMaxBatchedCommands}.
   */
  readonly maxCommands?: number;
}

/** A socket whose writes {@link batchWrites} already batches. */
const batchedSockets = new WeakSet<Socket>();

/**
 * Makes a connection send the commands issued in one tick of the event loop in few socket writes
 * (`writev`), on its current socket and on every socket it reconnects with. ioredis writes each
 * command as it is issued, one system call each; a worker with many runs in progress issues many
 * commands at once when a batch of replies comes in (each reply's continuation sends the next
 * command), and those calls were about a sixth of its CPU time per handoff. The bytes, their order and
 * ioredis's reply bookkeeping are unchanged: the socket is corked at the first write of a tick
 * and uncorked once that tick's callbacks and promise reactions have run (`process.nextTick`,
 * Node's own pattern for `cork`), or sooner, as soon as it holds `maxCommands` commands (16): Redis
 * then starts on those while the worker goes on issuing the rest. Held for the whole tick, a burst
 * of a hundred commands left Redis idle while the worker issued them and the worker idle while Redis
 * ran them: BullMQ alone ran chained jobs a quarter to a third slower so than on ioredis's own
 * connections, and a worker's handoffs were about a tenth slower than with batches of 16
 * (`bench:handoff-throughput`). A command is sent at most one tick later than it would be.
 *
 * @example
 * ```ts
 * const redis = batchWrites(new Redis(url, { maxRetriesPerRequest: null }));
 * ```
 */
export function batchWrites(redis: Redis, options: BatchWritesOptions = {}): Redis {
  const maxCommands = options.maxCommands ?? defaultMaxBatchedCommands;
  if (!Number.isInteger(maxCommands) || maxCommands < 1) {
    throw new FreeholdError(
      "config.invalid-batch-size",
      `batchWrites: maxCommands must be a whole number of at least 1 (default ${defaultMaxBatchedCommands}), not ${String(maxCommands)}`,
    );
  }
  const batch = (): void => {
    const socket = (redis as unknown as { readonly stream?: Socket }).stream;
    if (socket === undefined || batchedSockets.has(socket)) return;
    batchedSockets.add(socket);
    const write = socket.write.bind(socket);
    let corked = false;
    /** Commands in the batch the socket holds. */
    let inBatch = 0;
    const uncork = (): void => {
      if (!corked) return;
      corked = false;
      socket.uncork();
    };
    socket.write = ((...args: Parameters<Socket["write"]>): boolean => {
      if (!corked) {
        corked = true;
        inBatch = 0;
        socket.cork();
        process.nextTick(uncork);
      }
      const belowHighWaterMark = write(...args);
      inBatch += 1;
      if (inBatch >= maxCommands) uncork();
      return belowHighWaterMark;
    }) as Socket["write"];
  };
  // Each new socket, once connected (ioredis says so a tick later: its handshake goes unbatched).
  redis.on("connect", batch);
  batch();
  return redis;
}

/**
 * Connects to the Redis or Redis Cluster a URL names, its writes batched per tick
 * ({@link batchWrites}; each node's, in a cluster). `options` apply to every connection (for a
 * cluster: to each node's; `lazyConnect` and `enableOfflineQueue` to the cluster client too). A
 * malformed URL is refused with `config.invalid-redis-url`.
 *
 * @example
 * ```ts
 * const redis = connectRedis("redis+cluster://127.0.0.1:7000,127.0.0.1:7001", { maxRetriesPerRequest: null });
 * ```
 */
export function connectRedis(
  url: string,
  options: RedisOptions = {},
  cluster: ClusterOptions = {},
): RedisClient {
  if (isSentinelUrl(url)) {
    const parsed = parseSentinelUrl(url);
    return batchWrites(
      new Redis({
        ...options,
        sentinels: [...parsed.sentinels],
        name: parsed.name,
        ...(parsed.username === undefined ? {} : { username: parsed.username }),
        ...(parsed.password === undefined ? {} : { password: parsed.password }),
        ...(parsed.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
      }),
    );
  }
  if (!isClusterUrl(url)) {
    if (!isSingleRedisUrl(url)) {
      throw new FreeholdError(
        "config.invalid-redis-url",
        `the Redis URL ${JSON.stringify(redactUrl(url))} is not of the form redis://[user:password@]host:port[/db] ` +
          "(rediss:// with TLS), redis+cluster://host:port,host:port for a Redis Cluster, or " +
          "redis+sentinel://host:port,host:port/<primary name> for a primary watched by Sentinels",
      );
    }
    return batchWrites(new Redis(url, options));
  }
  const parsed = parseClusterUrl(url);
  const client = new Cluster([...parsed.nodes], {
    // What decides when the cluster client itself connects, or queues commands, is its own option.
    ...(options.lazyConnect === undefined ? {} : { lazyConnect: options.lazyConnect }),
    ...(options.enableOfflineQueue === undefined ? {} : { enableOfflineQueue: options.enableOfflineQueue }),
    ...cluster,
    redisOptions: {
      ...options,
      ...(parsed.username === undefined ? {} : { username: parsed.username }),
      ...(parsed.password === undefined ? {} : { password: parsed.password }),
      ...(parsed.tls ? { tls: {} } : {}),
    },
  });
  client.on("+node", (node: Redis) => {
    batchWrites(node);
  });
  return client;
}

/** A second connection to the same Redis or cluster (for blocking reads that must not hold up writes). */
export function duplicateClient(redis: RedisClient): RedisClient {
  return redis instanceof Cluster ? redis.duplicate() : redis.duplicate();
}

/**
 * A connection to every node: the one Redis, or each node of a cluster (primaries and replicas), for
 * what each node keeps for itself (ACL users, client connections). A cluster client is connected first.
 *
 * @example
 * ```ts
 * for (const node of await everyNode(admin)) await node.call("ACL", "DELUSER", "old-user");
 * ```
 */
export async function everyNode(redis: RedisClient): Promise<Redis[]> {
  if (!(redis instanceof Cluster)) return [redis];
  if (redis.status !== "ready") await redis.ping();
  return redis.nodes("all");
}
