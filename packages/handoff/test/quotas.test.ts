/**
 * Tenants' quotas and a full Redis, on real redis-servers: runs per minute checked and counted in
 * one script (also under concurrency, and with the tenant's own credential), tokens per day, the
 * tenancy records, and `store.full` when Redis refuses writes past its maxmemory, with nothing of
 * the refused run left behind. Quotas use a pinned clock, so no test depends on when it runs.
 */
import { FreeholdError } from "@freehold/api";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createAgentQueues,
  createQuotas,
  createRunStore,
  dispatchKey,
  finish,
  newRun,
  readTenantUsage,
  releaseNamespaces,
  removeTenancy,
  runEventsKey,
  runKey,
  runPickupsKey,
  runsUsageKey,
  startRedisServer,
  startRun,
  tenancyKey,
  writeTenancy,
  type AgentQueues,
  type RedisServer,
  type RunStore,
} from "../src/index.ts";
import { startTenantRedis, type TenantRedis } from "./tenant-fixture.ts";

const at = new Date();
const now = (): Date => at;
let redis: TenantRedis;
let admin: Redis;
let tenant: Redis;
let store: RunStore;
let queues: AgentQueues;

/** A tenant of its own per test (names are unique), with its namespaces and limits. */
async function tenantWith(limits: { runsPerMinute?: number; tokensPerDay?: number }) {
  const name = `t${Math.random().toString(36).slice(2, 10)}`;
  const namespaces = [name, `${name}-dev`];
  await writeTenancy(admin, { tenant: name, namespaces, limits });
  return { name, namespaces, namespace: name };
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

beforeAll(async () => {
  redis = await startTenantRedis();
  admin = redis.admin;
  store = createRunStore(admin);
  queues = createAgentQueues(admin);
  const acme = await redis.addTenant({ tenant: "acme", namespaces: ["acme", "acme-dev"] });
  tenant = new Redis(acme.url, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  await queues.close();
  tenant.disconnect();
  await redis.stop();
});

describe("runs per minute", () => {
  it("refuses the run past the limit with quota.runs_exceeded, before writing anything of it", async () => {
    const { name, namespace } = await tenantWith({ runsPerMinute: 2 });
    const quotas = createQuotas(admin, { now });
    const parts = { redis: admin, store, queues, quotas };
    await startRun(parts, { namespace, agent: "billing", input: "one" });
    await startRun(parts, { namespace: `${name}-dev`, agent: "billing", input: "two" });
    const error = await caught(
      startRun(parts, { namespace, agent: "billing", input: "three", runId: "refused-run" }),
    );
    const retryAfterSeconds = Math.ceil((60_000 - (at.getTime() % 60_000)) / 1000);
    expect(error).toBeInstanceOf(FreeholdError);
    expect(error).toMatchObject({
      code: "quota.runs_exceeded",
      retryable: true,
      details: { tenant: name, namespace, limit: 2, retryAfterSeconds },
      message: `tenant ${name} may start 2 runs per minute (spec.quotas.runsPerMinute) and started 2 this minute; retry in ${retryAfterSeconds} s, or ask its admins to raise the quota`,
    });
    expect(await admin.exists(runKey(namespace, "refused-run"), runEventsKey(namespace, "refused-run"))).toBe(
      0,
    );
    expect(await admin.zscore(dispatchKey(namespace, "refused-run"), "refused-run")).toBeNull();
    expect(await readTenantUsage(admin, name, at)).toEqual({ runsThisMinute: 2, tokensToday: 0 });
  });

  it("lets exactly the limit through when runs start at once", async () => {
    const { namespace } = await tenantWith({ runsPerMinute: 5 });
    const quotas = createQuotas(admin, { now });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => quotas.startRuns(namespace)));
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(5);
    expect(
      results.filter(
        (result) =>
          result.status === "rejected" && (result.reason as FreeholdError).code === "quota.runs_exceeded",
      ),
    ).toHaveLength(15);
  });

  it("starts several runs all or none, and never limits another tenant or a namespace without one", async () => {
    const full = await tenantWith({ runsPerMinute: 3 });
    const other = await tenantWith({ runsPerMinute: 3 });
    const quotas = createQuotas(admin, { now });
    await quotas.startRuns(full.namespace, 2);
    await expect(quotas.startRuns(full.namespace, 2)).rejects.toMatchObject({ code: "quota.runs_exceeded" });
    await quotas.startRuns(full.namespace, 1);
    await expect(quotas.startRuns(full.namespace)).rejects.toMatchObject({ code: "quota.runs_exceeded" });
    await quotas.startRuns(other.namespace, 3);
    for (let index = 0; index < 10; index += 1) await quotas.startRuns("no-tenant-here");
    expect(await admin.exists(tenancyKey("no-tenant-here"))).toBe(0);
    expect(await readTenantUsage(admin, full.name, at)).toEqual({ runsThisMinute: 3, tokensToday: 0 });
    expect(await readTenantUsage(admin, other.name, at)).toEqual({ runsThisMinute: 3, tokensToday: 0 });
  });

  it("counts in the current minute's counter, which expires", async () => {
    const { name, namespace } = await tenantWith({});
    await createQuotas(admin, { now }).startRuns(namespace);
    const ttl = await admin.ttl(runsUsageKey(name, at));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(120);
  });

  it("is counted with the tenant's own credential, which can read but not change its limits", async () => {
    await writeTenancy(admin, {
      tenant: "acme",
      namespaces: ["acme", "acme-dev"],
      limits: { runsPerMinute: 1 },
    });
    const quotas = createQuotas(tenant, { now });
    await quotas.startRuns("acme-dev");
    await expect(quotas.startRuns("acme")).rejects.toMatchObject({ code: "quota.runs_exceeded" });
    await expect(tenant.hset("freehold-limits:{acme}", "runsPerMinute", "100")).rejects.toThrow(/^NOPERM/);
    await removeTenancy(admin, { tenant: "acme", namespaces: ["acme", "acme-dev"] });
  });
});

describe("tokens per day", () => {
  it("adds each call's tokens and says when the day's limit is reached", async () => {
    const { name, namespace } = await tenantWith({ tokensPerDay: 1000 });
    const quotas = createQuotas(admin, { now });
    expect(await quotas.tokensExhausted(namespace)).toBe(false);
    expect(await quotas.addTokens(namespace, 600)).toEqual({ exceeded: false, used: 600, limit: 1000 });
    expect(await quotas.addTokens(`${name}-dev`, 400)).toEqual({ exceeded: true, used: 1000, limit: 1000 });
    expect(await quotas.tokensExhausted(namespace)).toBe(true);
    expect(await readTenantUsage(admin, name, at)).toEqual({ runsThisMinute: 0, tokensToday: 1000 });
  });

  it("counts without a limit, and not at all without a tenant", async () => {
    const { name, namespace } = await tenantWith({ runsPerMinute: 5 });
    const quotas = createQuotas(admin, { now });
    expect(await quotas.addTokens(namespace, 10_000)).toEqual({
      exceeded: false,
      used: 10_000,
      limit: undefined,
    });
    expect(await quotas.tokensExhausted(namespace)).toBe(false);
    expect(await quotas.addTokens("no-tenant-here", 10_000)).toEqual({
      exceeded: false,
      used: 0,
      limit: undefined,
    });
    expect(await readTenantUsage(admin, name, at)).toEqual({ runsThisMinute: 0, tokensToday: 10_000 });
  });

  it("answers the check before a model call from this process's last look while it is fresh", async () => {
    const { namespace } = await tenantWith({ tokensPerDay: 1000 });
    const remembering = createQuotas(admin, { now, tokensCheckMs: 60_000 });
    const elsewhere = createQuotas(admin, { now });
    expect(await remembering.tokensExhausted(namespace)).toBe(false);
    expect(await elsewhere.addTokens(namespace, 1000)).toMatchObject({ exceeded: true });
    // Another worker used the day up: this one's look, taken before, still answers.
    expect(await remembering.tokensExhausted(namespace)).toBe(false);
    // Its own count is exact, and is its new look.
    expect(await remembering.addTokens(namespace, 1)).toEqual({ exceeded: true, used: 1001, limit: 1000 });
    expect(await remembering.tokensExhausted(namespace)).toBe(true);
  });

  it("asks Redis again once its look is older than tokensCheckMs, and every time with 0", async () => {
    const { namespace } = await tenantWith({ tokensPerDay: 1000 });
    const briefly = createQuotas(admin, { now, tokensCheckMs: 1 });
    const never = createQuotas(admin, { now, tokensCheckMs: 0 });
    expect(await briefly.tokensExhausted(namespace)).toBe(false);
    expect(await never.tokensExhausted(namespace)).toBe(false);
    await createQuotas(admin, { now }).addTokens(namespace, 1000);
    expect(await never.tokensExhausted(namespace)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await briefly.tokensExhausted(namespace)).toBe(true);
  });

  it("is counted with the tenant's own credential", async () => {
    await writeTenancy(admin, { tenant: "acme", namespaces: ["acme"], limits: { tokensPerDay: 50 } });
    const quotas = createQuotas(tenant, { now });
    expect(await quotas.addTokens("acme", 60)).toMatchObject({ exceeded: true, limit: 50 });
    expect(await quotas.tokensExhausted("acme")).toBe(true);
    await removeTenancy(admin, { tenant: "acme", namespaces: ["acme"] });
  });
});

describe("tenancy records", () => {
  it("refuses a namespace another tenant holds, and releases only the tenant's own", async () => {
    const first = await tenantWith({ runsPerMinute: 1 });
    const second = `t${Math.random().toString(36).slice(2, 10)}`;
    await expect(
      writeTenancy(admin, { tenant: second, namespaces: [first.namespace], limits: {} }),
    ).rejects.toMatchObject({
      code: "tenancy.namespace-owned",
      details: { namespace: first.namespace, owner: first.name },
    });
    await releaseNamespaces(admin, { tenant: second, namespaces: [first.namespace] });
    expect(await admin.get(tenancyKey(first.namespace))).toBe(first.name);
    await releaseNamespaces(admin, { tenant: first.name, namespaces: [`${first.name}-dev`] });
    expect(await admin.get(tenancyKey(`${first.name}-dev`))).toBeNull();
    expect(await admin.hgetall(`freehold-limits:{${first.name}}`)).toEqual({ runsPerMinute: "1" });
    await removeTenancy(admin, { tenant: first.name, namespaces: [first.namespace] });
    expect(await admin.exists(tenancyKey(first.namespace), `freehold-limits:{${first.name}}`)).toBe(0);
  });

  it("replaces the limits: a limit left out is gone", async () => {
    const { name, namespaces } = await tenantWith({ runsPerMinute: 1, tokensPerDay: 5 });
    await writeTenancy(admin, { tenant: name, namespaces, limits: { tokensPerDay: 7 } });
    expect(await admin.hgetall(`freehold-limits:{${name}}`)).toEqual({ tokensPerDay: "7" });
  });
});

describe("a full Redis", () => {
  let full: RedisServer;
  let connection: Redis;
  let fullStore: RunStore;
  let fullQueues: AgentQueues;

  beforeAll(async () => {
    full = await startRedisServer({ maxMemory: "2mb" });
    connection = new Redis(full.url, { maxRetriesPerRequest: null });
    fullStore = createRunStore(connection);
    fullQueues = createAgentQueues(connection);
  });

  afterAll(async () => {
    await fullQueues.close();
    connection.disconnect();
    await full.stop();
  });

  /** Writes until Redis refuses (OOM), then frees `free` filler keys. */
  async function fill(free: number): Promise<void> {
    const value = "x".repeat(1024);
    for (let index = 0; ; index += 1) {
      try {
        await connection.set(`filler:${index}`, value);
      } catch (error) {
        expect((error as Error).message).toMatch(/^OOM command not allowed/);
        for (let back = 1; back <= free; back += 1) await connection.del(`filler:${index - back}`);
        return;
      }
    }
  }

  async function leftOf(namespace: string, runId: string): Promise<number> {
    return (
      (await connection.exists(runKey(namespace, runId), runEventsKey(namespace, runId))) +
      (await connection.zcard(dispatchKey(namespace, runId))) +
      (await connection.exists(`freehold:${namespace}:agent:{${namespace}.billing}:id`))
    );
  }

  it("refuses a new run with store.full (retryable) and stores nothing of it", async () => {
    await fill(0);
    const error = await caught(
      startRun(
        { redis: connection, store: fullStore, queues: fullQueues },
        { namespace: "full", agent: "billing", input: "Hello", runId: "r-full" },
      ),
    );
    expect(error).toMatchObject({
      code: "store.full",
      retryable: true,
      details: { retryAfterSeconds: 30 },
      message: expect.stringContaining("Redis is full") as unknown,
    });
    expect(await leftOf("full", "r-full")).toBe(0);
  });

  it("takes a run back when it was stored but its job no longer fit on the queue", async () => {
    await connection.flushall();
    // Redis fills up between storing the run and queuing it: the queue's first write is refused.
    const squeezed: AgentQueues = {
      ...fullQueues,
      enqueue: async (...args) => {
        await connection.config("SET", "maxmemory", "1mb");
        return fullQueues.enqueue(...args);
      },
    };
    try {
      const error = await caught(
        startRun(
          { redis: connection, store: fullStore, queues: squeezed },
          { namespace: "spill", agent: "billing", input: "Hello", runId: "r-spill" },
        ),
      );
      expect(error).toMatchObject({ code: "store.full", retryable: true });
      expect((error as Error).message).toMatch(
        /^failed to put run spill\/r-spill on the queue of agent billing: Redis is full/,
      );
      expect(await leftOf("spill", "r-spill")).toBe(0);
    } finally {
      await connection.config("SET", "maxmemory", "2mb");
    }
  });

  it("refuses a checkpoint with store.full and leaves the stored run as it was", async () => {
    await connection.flushall();
    const run = newRun({ id: "r-checkpoint", namespace: "full", agent: "billing", input: "Hi" });
    await fullStore.create(run, []);
    await fill(0);
    const error = await caught(fullStore.checkpoint(run, { ...run, status: "running" }, []));
    expect(error).toMatchObject({ code: "store.full", retryable: true });
    expect(await fullStore.require("full", run.id)).toMatchObject({ status: "queued", revision: 0 });
    expect(await fullStore.readEvents("full", run.id)).toEqual([]);
  });

  it("refuses the checkpoint that ends a run as a whole: its pickups stay, as the run does", async () => {
    // The write that ends a run also clears its pickups; a script may not stop once it has
    // written, so nothing of it may run before Redis refuses it.
    await connection.flushall();
    const run = newRun({ id: "r-ending", namespace: "full", agent: "billing", input: "Hi" });
    await fullStore.create(run, []);
    const running = await fullStore.checkpoint(run, { ...run, status: "running" }, [], {
      pickup: { progress: "0", job: "r-ending.r0", jobStalls: 1, maxStalls: 3, ttlSeconds: 60 },
    });
    await fill(0);
    const { state, events } = finish(running, "completed", new Date(), { output: "Done." });
    const error = await caught(fullStore.checkpoint(running, state, events));
    expect(error).toMatchObject({ code: "store.full", retryable: true });
    expect(await fullStore.require("full", run.id)).toMatchObject({ status: "running", revision: 1 });
    expect(await connection.hget(runPickupsKey("full", run.id), "count")).toBe("1");
  });
});
