/**
 * `freehold worker` processes with only a tenant's Redis URL, SIGKILLed at random while 40 runs go
 * triage → billing (transfer) → researcher (a child run) → a tool call → people → billing. BullMQ's
 * recovery paths (stalled jobs of dead workers, lock renewals, delayed jobs), the dispatcher and the
 * inbox sweeper all run under the tenant's ACL user: every run completes once, and Redis's ACL log
 * shows no command refused to it.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAgentQueues, createApprovals, createInbox, createRunStore } from "@freehold/handoff";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTenantRedis, type TenantRedis } from "../../handoff/test/tenant-fixture.ts";
import {
  actAsPeople,
  startHandoffWorld,
  type HandoffWorld,
} from "../../../test/integration/handoff-world.ts";
import {
  createWorkerFleet,
  startRuns,
  waitForRunsToEnd,
  type WorkerFleet,
} from "../../../test/integration/worker-fleet.ts";

const runs = 40;
const namespace = "acme";

let redis: TenantRedis;
let admin: Redis;
let user: string;
let tenant: Redis;
let world: HandoffWorld;
let fleet: WorkerFleet;

beforeAll(async () => {
  const directory = mkdtempSync(join(tmpdir(), "freehold-tenant-crash-"));
  redis = await startTenantRedis();
  admin = redis.admin;
  const acme = await redis.addTenant({
    tenant: "acme",
    namespaces: [namespace],
    limits: { runsPerMinute: 1000 },
  });
  user = acme.user;
  tenant = new Redis(acme.url, { maxRetriesPerRequest: null });
  world = await startHandoffWorld({ directory, namespace, delayMs: 150 });
  fleet = createWorkerFleet({
    configFile: world.configFile,
    redisUrl: acme.url,
    concurrency: 10,
    lockDurationSeconds: 2,
  });
});

afterAll(async () => {
  fleet.killAll();
  await world.close();
  tenant.disconnect();
  await redis.stop();
});

describe("a tenant's workers killed at random", () => {
  it(`complete ${runs} multi-agent runs with no command refused`, { timeout: 180_000 }, async () => {
    await admin.call("ACL", "LOG", "RESET");
    for (let index = 0; index < 3; index += 1) fleet.start();
    const store = createRunStore(tenant);
    const queues = createAgentQueues(tenant);
    const inbox = createInbox({ redis: tenant, store, queues });
    const approvals = createApprovals({ redis: tenant, store, queues });
    const ids = await startRuns(
      { redis: tenant, store, queues },
      { namespace, agent: "triage", count: runs, input: (index) => `order ${index}` },
    );
    let kills = 0;
    await waitForRunsToEnd({
      store,
      namespace,
      ids,
      fleet,
      timeoutMs: 150_000,
      async between() {
        await actAsPeople({ inbox, approvals }, namespace);
        if (Math.random() < 0.5 && kills < 10 && fleet.killOne()) kills += 1;
        await new Promise((resolve) => setTimeout(resolve, 150));
      },
    });
    await queues.close();
    const states = await Promise.all(ids.map((id) => store.require(namespace, id)));
    expect(
      states.filter((state) => state.status !== "completed").map((state) => [state.id, state.status]),
    ).toEqual([]);
    for (const state of states) {
      const ends = (await store.readEvents(namespace, state.id)).filter(
        ({ event }) => event.type === "run-end",
      );
      expect(ends).toHaveLength(1);
    }
    expect(kills).toBeGreaterThan(0);
    expect(await redis.refusedTo(user)).toEqual([]);
    console.log(
      `tenant crash test: ${runs} runs, ${kills} workers killed, ${fleet.resumed()} resumed from a checkpoint`,
    );
  });
});
