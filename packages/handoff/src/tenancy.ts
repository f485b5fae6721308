/**
 * A tenant in Redis: its ACL user, confined to the keys and channels of its namespaces and to the
 * commands the runtime uses; which tenant each namespace belongs to (`freehold-tenancy:<ns>`); the
 * tenant's limits (`freehold-limits:{<tenant>}`); and its usage counters. The operator writes all of
 * it with the admin credential; the tenant's workers may only read the tenancy and limits keys, and
 * count on the usage counters.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { FreeholdError } from "@freehold/api";
import type { Redis } from "ioredis";
import { everyNode, type RedisClient } from "./redis-client.ts";
import { limitsKey, namespacePrefix, runsUsageKey, tenancyKey, tokensUsageKey, usagePrefix } from "./keys.ts";
import { evalScript } from "./redis-effects.ts";

/**
 * The commands a tenant's workers need: every command BullMQ's Lua scripts call (Redis checks each
 * command a script runs against the user's rules), BullMQ's and Freehold's own calls on the worker's
 * paths (run store, dispatcher, inbox, approvals, registry, quotas), blocking reads, and what ioredis
 * and BullMQ send when they connect (`INFO` for ioredis's ready check and BullMQ's version check,
 * `CLIENT SETNAME`, `PING` for health checks), and what an ioredis cluster client sends (`CLUSTER
 * SLOTS`/`SHARDS` for the slot map, `CLUSTER INFO` for its ready check, `ASKING` while a slot moves,
 * `READONLY`/`READWRITE` when a node changes role). Checked by running real workers under the user with
 * the ACL log watched. Pub/sub is allowed on the tenant's own channels only. Nothing that lists or
 * reaches keys outside the user's patterns (`KEYS`, `SCAN`, `RANDOMKEY`, `DBSIZE`), changes the server
 * (`CONFIG`, `ACL`, `FLUSHALL`, `SCRIPT`, `FUNCTION`, `DEBUG`, `SHUTDOWN`), or sees other clients
 * (`MONITOR`, `CLIENT LIST`/`KILL`, `PUBSUB`); `SELECT` only of database 0.
 *
 * @example
 * ```ts
 * tenantCommands.includes("keys"); // false
 * ```
 */
export const tenantCommands: readonly string[] = [
  // Connection
  "ping",
  "quit",
  "info",
  "select|0",
  "client|setname",
  // Redis Cluster (what a cluster client needs to find and follow the slots)
  "cluster|slots",
  "cluster|shards",
  "cluster|info",
  "asking",
  "readonly",
  "readwrite",
  // Scripts (the commands they call are checked one by one)
  "eval",
  "evalsha",
  // Keys
  "exists",
  "type",
  "del",
  "unlink",
  "rename",
  "expire",
  "pexpire",
  "pexpireat",
  "persist",
  "pttl",
  // Strings
  "get",
  "mget",
  "set",
  "incr",
  "incrby",
  // Hashes
  "hget",
  "hmget",
  "hgetall",
  "hvals",
  "hexists",
  "hlen",
  "hset",
  "hmset",
  "hdel",
  "hincrby",
  // Lists
  "lpush",
  "rpush",
  "lpop",
  "rpop",
  "rpoplpush",
  "lrange",
  "lindex",
  "llen",
  "lpos",
  "lrem",
  "lset",
  "ltrim",
  // Sets
  "sadd",
  "srem",
  "smembers",
  "sismember",
  "scard",
  // Sorted sets
  "zadd",
  "zrem",
  "zscore",
  "zcard",
  "zcount",
  "zlexcount",
  "zrange",
  "zrangebyscore",
  "zrangebylex",
  "zrevrange",
  "zrevrangebyscore",
  "zremrangebyscore",
  "zremrangebyrank",
  "zpopmin",
  "bzpopmin",
  // Streams
  "xadd",
  "xdel",
  "xlen",
  "xrange",
  "xread",
  "xtrim",
  // Time (BullMQ's scripts)
  "time",
  // Pub/sub on its own channels
  "publish",
  "subscribe",
  "unsubscribe",
  "psubscribe",
  "punsubscribe",
];

const namePattern = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Refuses a name that could widen a key pattern (`*`, `?`, `[`): only Kubernetes names pass. */
function checkName(kind: "tenant" | "namespace", name: string): void {
  if (name.length > 253 || !namePattern.test(name)) {
    throw new FreeholdError(
      "tenancy.invalid-name",
      `${kind} name ${JSON.stringify(name)} is not a Kubernetes name (lower-case letters, digits, '-' and '.'); ` +
        "it cannot name Redis keys",
      { details: { kind, name } },
    );
  }
}

/** What a tenant owns: its name and its namespaces. */
export interface TenantScope {
  readonly tenant: string;
  readonly namespaces: readonly string[];
}

/**
 * The Redis ACL user of a tenant.
 *
 * @example
 * ```ts
 * tenantUserName("acme"); // "freehold-tenant-acme"
 * ```
 */
export function tenantUserName(tenant: string): string {
  checkName("tenant", tenant);
  return `freehold-tenant-${tenant}`;
}

/**
 * The rules of a tenant's ACL user, without its password: read-write on the keys
 * (`freehold:<ns>:*`) and channels of its namespaces and on its usage counters, read-only on its
 * namespaces' tenancy keys and its limits, and {@link tenantCommands}. They follow a `reset`, so
 * nothing granted before survives.
 *
 * @example
 * ```ts
 * await admin.call("ACL", "SETUSER", tenantUserName("acme"), "reset", "on", `>${password}`,
 *   ...tenantAclRules({ tenant: "acme", namespaces: ["acme", "acme-dev"] }));
 * ```
 */
export function tenantAclRules(scope: TenantScope): string[] {
  checkName("tenant", scope.tenant);
  for (const namespace of scope.namespaces) checkName("namespace", namespace);
  const namespaces = [...new Set(scope.namespaces)].sort();
  return [
    "resetkeys",
    "resetchannels",
    ...namespaces.map((namespace) => `~${namespacePrefix(namespace)}:*`),
    ...namespaces.map((namespace) => `%R~${tenancyKey(namespace)}`),
    `%R~${limitsKey(scope.tenant)}`,
    `~${usagePrefix(scope.tenant)}:*`,
    ...namespaces.map((namespace) => `&${namespacePrefix(namespace)}:*`),
    "-@all",
    ...tenantCommands.map((command) => `+${command}`),
  ];
}

function passwordHash(password: string): string {
  return createHash("sha256").update(password).digest("hex");
}

/** The SHA-256 hashes of a user's passwords on one node, or undefined when the user does not exist there. */
async function passwordHashes(node: Redis, user: string): Promise<string[] | undefined> {
  const reply = (await node.call("ACL", "GETUSER", user)) as unknown[] | null;
  if (reply === null) return undefined;
  for (let index = 0; index + 1 < reply.length; index += 2) {
    if (reply[index] === "passwords") return (reply[index + 1] as string[] | null) ?? [];
  }
  return [];
}

/**
 * Creates or resets a tenant's ACL user in one `ACL SETUSER ... reset on >password <rules>`, so
 * earlier rules and passwords are gone at once; on a Redis Cluster, on every node (ACL users are not
 * shared between nodes). A changed password also closes the connections made with the old one
 * (re-applying the same password closes nothing). `created` tells whether the user did not exist
 * before on some node (e.g. Redis restarted without an ACL file).
 *
 * @example
 * ```ts
 * const { created } = await applyTenantUser(admin, { tenant: "acme", namespaces: ["acme", "acme-dev"], password });
 * ```
 */
export async function applyTenantUser(
  admin: RedisClient,
  options: TenantScope & { readonly password: string },
): Promise<{ created: boolean; passwordChanged: boolean }> {
  if (options.password.length < 16) {
    throw new FreeholdError(
      "tenancy.weak-password",
      `the Redis password of tenant ${options.tenant} has ${options.password.length} characters; use at least 16 random ones`,
      { details: { tenant: options.tenant } },
    );
  }
  const user = tenantUserName(options.tenant);
  const rules = tenantAclRules(options);
  let created = false;
  let passwordChanged = false;
  for (const node of await everyNode(admin)) {
    const before = await passwordHashes(node, user);
    await node.call("ACL", "SETUSER", user, "reset", "on", `>${options.password}`, ...rules);
    if (before === undefined) created = true;
    else if (!before.includes(passwordHash(options.password))) {
      passwordChanged = true;
      await node.call("CLIENT", "KILL", "USER", user);
    }
  }
  return { created, passwordChanged };
}

/**
 * Deletes a tenant's ACL user (on a Redis Cluster, on every node); Redis closes its connections.
 * Nothing happens where it does not exist.
 *
 * @example
 * ```ts
 * await removeTenantUser(admin, "acme");
 * ```
 */
export async function removeTenantUser(admin: RedisClient, tenant: string): Promise<void> {
  const user = tenantUserName(tenant);
  for (const node of await everyNode(admin)) await node.call("ACL", "DELUSER", user);
}

/** A tenant's limits; an absent one is no limit. */
export interface TenantLimits {
  readonly runsPerMinute?: number | undefined;
  readonly tokensPerDay?: number | undefined;
  /** How long finished runs of the tenant's namespaces are kept, in seconds (the Tenant's `spec.runRetention`). */
  readonly runRetentionSeconds?: number | undefined;
}

// Set only when free or already this tenant's; answer what was there.
const claimNamespaceScript = `
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return current end
if not current then redis.call('SET', KEYS[1], ARGV[1]) end
return ARGV[1]
`;

const releaseNamespaceScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Writes which tenant each namespace belongs to and the tenant's limits (replacing earlier ones).
 * The limits go first, so a namespace never belongs to a tenant without them. A namespace recorded
 * for another tenant is refused (`tenancy.namespace-owned`); release it from that tenant first.
 *
 * @example
 * ```ts
 * await writeTenancy(admin, { tenant: "acme", namespaces: ["acme", "acme-dev"], limits: { runsPerMinute: 60 } });
 * ```
 */
export async function writeTenancy(
  admin: RedisClient,
  options: TenantScope & { readonly limits: TenantLimits },
): Promise<void> {
  tenantAclRules(options); // checks the names
  const key = limitsKey(options.tenant);
  const fields = Object.entries(options.limits).filter(
    (entry): entry is [string, number] => typeof entry[1] === "number",
  );
  const transaction = admin.multi().del(key);
  if (fields.length > 0)
    transaction.hset(key, Object.fromEntries(fields.map(([name, value]) => [name, String(value)])));
  await transaction.exec();
  for (const namespace of options.namespaces) {
    const owner = (await evalScript(
      admin,
      claimNamespaceScript,
      1,
      tenancyKey(namespace),
      options.tenant,
    )) as string;
    if (owner !== options.tenant) {
      throw new FreeholdError(
        "tenancy.namespace-owned",
        `namespace ${namespace} belongs to tenant ${owner} in Redis; remove it from that tenant before giving it to ${options.tenant}`,
        { details: { namespace, tenant: options.tenant, owner } },
      );
    }
  }
}

/**
 * Takes namespaces away from a tenant that stays: their tenancy keys are deleted (only where they
 * still name this tenant), so they have no tenant and no quotas. The limits stay.
 *
 * @example
 * ```ts
 * await releaseNamespaces(admin, { tenant: "acme", namespaces: ["acme-dev"] });
 * ```
 */
export async function releaseNamespaces(admin: RedisClient, scope: TenantScope): Promise<void> {
  tenantAclRules(scope);
  for (const namespace of scope.namespaces) {
    await evalScript(admin, releaseNamespaceScript, 1, tenancyKey(namespace), scope.tenant);
  }
}

/**
 * Removes a tenant's records: its namespaces' tenancy keys (where they still name it) and its
 * limits. Usage counters expire by themselves. For a tenant that goes away; to take only some
 * namespaces from a tenant, use {@link releaseNamespaces}.
 *
 * @example
 * ```ts
 * await removeTenancy(admin, { tenant: "acme", namespaces: ["acme", "acme-dev"] });
 * ```
 */
export async function removeTenancy(admin: RedisClient, scope: TenantScope): Promise<void> {
  await releaseNamespaces(admin, scope);
  await admin.del(limitsKey(scope.tenant));
}

/** What a tenant used: runs started this minute, model tokens today (UTC). */
export interface TenantUsage {
  readonly runsThisMinute: number;
  readonly tokensToday: number;
}

/**
 * A tenant's usage now (or at `now`), for its status.
 *
 * @example
 * ```ts
 * const { runsThisMinute, tokensToday } = await readTenantUsage(admin, "acme");
 * ```
 */
export async function readTenantUsage(
  redis: RedisClient,
  tenant: string,
  now = new Date(),
): Promise<TenantUsage> {
  checkName("tenant", tenant);
  const [runs, tokens] = await redis.mget(runsUsageKey(tenant, now), tokensUsageKey(tenant, now));
  return { runsThisMinute: Number(runs ?? 0), tokensToday: Number(tokens ?? 0) };
}
