/**
 * The gateway and tenants' limits over real HTTP and real redis-servers: a run past the tenant's
 * runsPerMinute is a 429 with `Retry-After` (and a JSON-RPC error over A2A), other tenants and
 * namespaces without one go on; a Redis full to its maxmemory answers a new run with a retryable
 * 503 `store.full` with `Retry-After`, and nothing of the run is written. Quotas use a pinned clock.
 */
import { createQuotas, writeTenancy } from "@freehold/handoff";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { idleAgent, request, startHarness, world, type Harness } from "./harness.ts";

const at = new Date();
const retryAfterSeconds = Math.ceil((60_000 - (at.getTime() % 60_000)) / 1000);

describe("runs per minute", () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ quotas: (connection) => createQuotas(connection, { now: () => at }) });
  });

  afterEach(async () => {
    await harness.cleanup();
  });

  afterAll(async () => {
    await harness.close();
  });

  const start = (namespace: string, agent = "idle") =>
    request(harness, "POST", `/v1/namespaces/${namespace}/agents/${agent}/runs`, {
      body: { input: "Hello" },
    });

  it("answers the run past the limit with 429 and Retry-After; other tenants and untenanted namespaces go on", async () => {
    const acme = await idleAgent(harness);
    const acmeDev = await idleAgent(harness);
    const globex = await idleAgent(harness);
    const loose = await idleAgent(harness);
    await writeTenancy(harness.connection, {
      tenant: "acme",
      namespaces: [acme, acmeDev],
      limits: { runsPerMinute: 2 },
    });
    await writeTenancy(harness.connection, {
      tenant: "globex",
      namespaces: [globex],
      limits: { runsPerMinute: 2 },
    });

    expect((await start(acme)).status).toBe(201);
    expect((await start(acmeDev)).status).toBe(201);
    const refused = await start(acme);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe(String(retryAfterSeconds));
    expect(refused.body).toEqual({
      code: "quota.runs_exceeded",
      message: `tenant acme may start 2 runs per minute (spec.quotas.runsPerMinute) and started 2 this minute; retry in ${retryAfterSeconds} s, or ask its admins to raise the quota`,
      details: { tenant: "acme", namespace: acme, limit: 2, retryAfterSeconds },
    });
    // Only the two runs that started exist.
    const stored = await harness.connection.keys(`freehold:${acme}:run:*`);
    expect(stored.filter((key) => /^freehold:[^:]+:run:[^:]+$/.test(key))).toHaveLength(1);

    expect((await start(globex)).status).toBe(201);
    for (let index = 0; index < 5; index += 1) expect((await start(loose)).status).toBe(201);
  });

  it("refuses an A2A message past the limit with the quota's code in the JSON-RPC error", async () => {
    const namespace = await idleAgent(harness);
    await writeTenancy(harness.connection, {
      tenant: "initech",
      namespaces: [namespace],
      limits: { runsPerMinute: 0 },
    });
    const sent = await request(harness, "POST", `/a2a/${namespace}/idle`, {
      body: {
        jsonrpc: "2.0",
        id: 1,
        method: "message/send",
        params: {
          message: { kind: "message", role: "user", messageId: "m-1", parts: [{ kind: "text", text: "Hi" }] },
          configuration: { blocking: false },
        },
      },
    });
    expect(sent.body).toMatchObject({
      id: 1,
      error: { data: { code: "quota.runs_exceeded", details: { tenant: "initech", limit: 0 } } },
    });
  });

  it("still runs what starts: a worker completes a run of a tenant under its limit", async () => {
    const namespace = await world(harness, [{ match: { role: "user" }, text: "Hi there." }], { front: {} });
    await writeTenancy(harness.connection, {
      tenant: "hooli",
      namespaces: [namespace],
      limits: { runsPerMinute: 1 },
    });
    const started = await start(namespace, "front");
    expect(started.status).toBe(201);
    const { id } = started.body as { id: string };
    await expect
      .poll(async () => (await harness.store.require(namespace, id)).status, { timeout: 20_000 })
      .toBe("completed");
    expect((await start(namespace, "front")).status).toBe(429);
  });
});

describe("a full Redis", () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ redis: { maxMemory: "2mb" } });
  });

  afterAll(async () => {
    await harness.close();
  });

  it("answers a new run with 503 store.full and Retry-After, and writes nothing of it", async () => {
    const namespace = await idleAgent(harness);
    const value = "x".repeat(1024);
    for (let index = 0; ; index += 1) {
      try {
        await harness.connection.set(`filler:${index}`, value);
      } catch (error) {
        expect((error as Error).message).toMatch(/^OOM command not allowed/);
        break;
      }
    }
    const before = (await harness.connection.keys("*")).sort();
    const response = await request(harness, "POST", `/v1/namespaces/${namespace}/agents/idle/runs`, {
      body: { input: "Hello", runId: "r-full" },
    });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("30");
    expect(response.body).toMatchObject({
      code: "store.full",
      details: { retryAfterSeconds: 30 },
      message: expect.stringMatching(/^failed to store run .*\/r-full: Redis is full/) as unknown,
    });
    expect((await harness.connection.keys("*")).sort()).toEqual(before);
    expect((await request(harness, "GET", `/v1/namespaces/${namespace}/runs/r-full`)).status).toBe(404);
    // The operators learn that Redis is full from the gateway's log.
    expect(harness.logged).toEqual([expect.stringContaining("failed (store.full)")]);
  });
});
