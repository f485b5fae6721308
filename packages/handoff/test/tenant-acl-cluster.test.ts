/**
 * Tenants' Redis users on a real 3-primary Redis Cluster with a password on its default user:
 * applyTenantUser makes the user on every node, so a tenant connects as an ioredis cluster client
 * (which asks for the slot map and the cluster's state), works on its own namespaces' keys wherever
 * their slots live, and is refused another tenant's; removeTenantUser deletes it everywhere.
 */
import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  applyTenantUser,
  connectRedis,
  limitsKey,
  removeTenantUser,
  startRedisCluster,
  tenancyKey,
  tenantUserName,
  writeTenancy,
  type RedisClient,
  type RedisCluster,
} from "../src/index.ts";

const adminPassword = "cluster-admin-password-0123456789";
const acmePassword = "acme-cluster-password-0123456789";
const globexPassword = "globex-cluster-password-0123456789";

let cluster: RedisCluster;
let admin: RedisClient;
const open: RedisClient[] = [];

/** A cluster client as a tenant's user that gives up at once instead of retrying. */
function connectAs(user: string, password: string): RedisClient {
  const addresses = cluster.nodes.map((node) => `${node.host}:${node.port}`).join(",");
  const client = connectRedis(
    `redis+cluster://${user}:${encodeURIComponent(password)}@${addresses}`,
    { maxRetriesPerRequest: 0 },
    { clusterRetryStrategy: () => null },
  );
  client.on("error", () => undefined);
  open.push(client);
  return client;
}

/** A direct connection to each node, as the admin. */
async function onEachNode<T>(run: (node: Redis) => Promise<T>): Promise<T[]> {
  return Promise.all(
    cluster.nodes.map(async ({ host, port }) => {
      const node = new Redis({ host, port, password: adminPassword });
      try {
        return await run(node);
      } finally {
        node.disconnect();
      }
    }),
  );
}

beforeAll(async () => {
  cluster = await startRedisCluster({ password: adminPassword });
  admin = connectRedis(cluster.url, { maxRetriesPerRequest: null });
  expect(admin).toBeInstanceOf(Cluster);
  await applyTenantUser(admin, { tenant: "acme", namespaces: ["acme", "acme-dev"], password: acmePassword });
  await applyTenantUser(admin, { tenant: "globex", namespaces: ["globex"], password: globexPassword });
  await writeTenancy(admin, {
    tenant: "acme",
    namespaces: ["acme", "acme-dev"],
    limits: { runsPerMinute: 10 },
  });
  await admin.set("freehold:globex:secret", "globex's secret");
});

afterAll(async () => {
  for (const client of open) client.disconnect();
  admin.disconnect();
  await cluster.stop();
});

describe("a tenant's user on a Redis Cluster", () => {
  it("exists on every node", async () => {
    const users = await onEachNode(async (node) => (await node.call("ACL", "USERS")) as string[]);
    for (const names of users) expect(names).toEqual(expect.arrayContaining([tenantUserName("acme")]));
  });

  it("connects as a cluster client and works on its own keys on every node", async () => {
    const acme = connectAs(tenantUserName("acme"), acmePassword);
    const keys = Array.from({ length: 40 }, (_, index) => `freehold:acme:key-${index}`);
    for (const key of keys) await acme.set(key, key);
    for (const key of keys) expect(await acme.get(key)).toBe(key);
    // The keys landed on all three primaries.
    const counts = await onEachNode(async (node) => Number(await node.call("DBSIZE")));
    expect(counts.every((count) => count > 0)).toBe(true);
    expect(await acme.set("freehold:acme-dev:scratch", "1")).toBe("OK");
    expect(await acme.hget(limitsKey("acme"), "runsPerMinute")).toBe("10");
    expect(await acme.get(tenancyKey("acme-dev"))).toBe("acme");
  });

  it("is refused another namespace's keys and channels", async () => {
    const acme = connectAs(tenantUserName("acme"), acmePassword);
    await expect(acme.get("freehold:globex:secret")).rejects.toThrow(/NOPERM/);
    await expect(acme.set("freehold:globex:secret", "stolen")).rejects.toThrow(/NOPERM/);
    await expect(acme.set(tenancyKey("acme"), "nobody")).rejects.toThrow(/NOPERM/);
    await expect(acme.publish("freehold:globex:events", "x")).rejects.toThrow(/NOPERM/);
    await expect(acme.call("CLUSTER", "RESET")).rejects.toThrow(/NOPERM/);
    expect(await admin.get("freehold:globex:secret")).toBe("globex's secret");
  });

  it("changes its password on every node and closes the old connections", async () => {
    const fresh = "acme-cluster-rotated-0123456789";
    const before = connectAs(tenantUserName("acme"), acmePassword);
    await before.set("freehold:acme:rotate", "1");
    expect(
      await applyTenantUser(admin, { tenant: "acme", namespaces: ["acme", "acme-dev"], password: fresh }),
    ).toEqual({ created: false, passwordChanged: true });
    await expect(before.get("freehold:acme:rotate")).rejects.toThrow();
    const after = connectAs(tenantUserName("acme"), fresh);
    expect(await after.get("freehold:acme:rotate")).toBe("1");
  });

  it("is removed from every node", async () => {
    await applyTenantUser(admin, { tenant: "initech", namespaces: ["initech"], password: acmePassword });
    await removeTenantUser(admin, "initech");
    const users = await onEachNode(async (node) => (await node.call("ACL", "USERS")) as string[]);
    for (const names of users) expect(names).not.toContain(tenantUserName("initech"));
  });
});
