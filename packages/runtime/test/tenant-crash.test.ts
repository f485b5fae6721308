/**
 * `freehold worker` processes with only a tenant's Redis URL, SIGKILLed at random while 40 runs go
 * triage → billing (transfer) → researcher (a child run) → a tool call → people → billing. BullMQ's
 * recovery paths (stalled jobs of dead workers, lock renewals, delayed jobs), the dispatcher and the
 * inbox sweeper all run under the tenant's ACL user: every run completes once, and Redis's ACL log
 * shows no command refused to it.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FreeholdError, isTerminal, RuntimeConfig } from "@freehold/api";
import {
  applyTenantUser,
  createAgentQueues,
  createInbox,
  createRunStore,
  startRedisServer,
  startRun,
  writeTenancy,
  type RedisServer,
} from "@freehold/handoff";
import { startScriptedModelServer, type ScriptedModelServer } from "@freehold/models";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCounterServer, type CounterServer } from "../../../test/fixtures/mcp/counter-server.ts";
import { createWorkerFleet, type WorkerFleet } from "../../../test/integration/worker-fleet.ts";

const runs = 40;
const namespace = "acme";
const user = "freehold-tenant-acme";
const password = "acme-password-0123456789abcdef";

let redis: RedisServer;
let admin: Redis;
let tenant: Redis;
let model: ScriptedModelServer;
let counter: CounterServer;
let fleet: WorkerFleet;

const resource = (kind: string, name: string, spec: unknown) => ({
  apiVersion: "freehold.dev/v1alpha1",
  kind,
  metadata: { name, namespace },
  spec,
});

beforeAll(async () => {
  const directory = mkdtempSync(join(tmpdir(), "freehold-tenant-crash-"));
  redis = await startRedisServer({ password: "admin-password-0123456789" });
  admin = new Redis(redis.url, { maxRetriesPerRequest: null });
  await applyTenantUser(admin, { tenant: "acme", namespaces: [namespace], password });
  await writeTenancy(admin, { tenant: "acme", namespaces: [namespace], limits: { runsPerMinute: 1000 } });
  const tenantUrl = `redis://${user}:${password}@127.0.0.1:${redis.port}`;
  tenant = new Redis(tenantUrl, { maxRetriesPerRequest: null });
  counter = await startCounterServer({ transport: "http" });
  model = await startScriptedModelServer({
    script: [
      {
        match: { contains: "order" },
        toolCalls: [{ name: "transfer_to_billing", arguments: { note: "A billing question." } }],
        delayMs: 150,
      },
      {
        match: { contains: "Transferred to billing" },
        toolCalls: [{ name: "ask_researcher", arguments: { input: "history please" } }],
        delayMs: 150,
      },
      {
        match: { toolName: "ask_researcher" },
        toolCalls: [{ name: "record", arguments: { value: "checked" } }],
        delayMs: 150,
      },
      {
        match: { toolName: "record" },
        toolCalls: [
          { name: "transfer_to_human_desk", arguments: { summary: "Needs a person.", reason: "Policy." } },
        ],
        delayMs: 150,
      },
      { match: { contains: "handed the conversation back" }, text: "All done.", delayMs: 150 },
      { match: { contains: "history please" }, text: "A long-time customer.", delayMs: 150 },
    ],
  });
  const configFile = join(directory, "config.json");
  writeFileSync(
    configFile,
    JSON.stringify(
      RuntimeConfig.parse({
        schemaVersion: 1,
        namespace,
        agents: [
          resource("Agent", "triage", {
            model: { ref: "scripted" },
            instructions: "Route.",
            handoffs: [{ agent: "billing" }],
          }),
          resource("Agent", "billing", {
            model: { ref: "scripted" },
            instructions: "Bill.",
            tools: [{ agent: "researcher" }, { mcpServer: "counter", allow: ["record"] }],
            handoffs: [{ humanQueue: "desk" }],
          }),
          resource("Agent", "researcher", { model: { ref: "scripted" }, instructions: "Research." }),
        ],
        models: [
          resource("Model", "scripted", {
            provider: "openai-compatible",
            model: "scripted-model",
            baseUrl: model.baseUrl,
          }),
        ],
        mcpServers: [resource("MCPServer", "counter", { http: { url: counter.url } })],
        humanQueues: [resource("HumanQueue", "desk", { description: "People.", leaseSeconds: 30 })],
      }),
    ),
  );
  fleet = createWorkerFleet({ configFile, redisUrl: tenantUrl, concurrency: 10, lockDurationSeconds: 2 });
});

afterAll(async () => {
  fleet.killAll();
  await model.close();
  await counter.close();
  tenant.disconnect();
  admin.disconnect();
  await redis.stop();
});

/** Commands Redis refused to the tenant's user, from its ACL log. */
async function refusedToTenant(): Promise<string[]> {
  const entries = (await admin.call("ACL", "LOG", "128")) as unknown[][];
  return entries.flatMap((entry) => {
    const fields = new Map<string, unknown>();
    for (let index = 0; index + 1 < entry.length; index += 2)
      fields.set(String(entry[index]), entry[index + 1]);
    return fields.get("username") === user
      ? [`${String(fields.get("reason"))} ${String(fields.get("object"))}`]
      : [];
  });
}

describe("a tenant's workers killed at random", () => {
  it(`complete ${runs} multi-agent runs with no command refused`, { timeout: 180_000 }, async () => {
    await admin.call("ACL", "LOG", "RESET");
    for (let index = 0; index < 3; index += 1) fleet.start();
    const store = createRunStore(tenant);
    const queues = createAgentQueues(tenant);
    const inbox = createInbox({ redis: tenant, store, queues });
    const ids: string[] = [];
    for (let index = 0; index < runs; index += 1) {
      ids.push(
        (
          await startRun(
            { redis: tenant, store, queues },
            { namespace, agent: "triage", input: `order ${index}` },
          )
        ).id,
      );
    }
    let kills = 0;
    const started = Date.now();
    for (;;) {
      const states = await Promise.all(ids.map((id) => store.require(namespace, id)));
      const finished = states.filter((state) => isTerminal(state.status)).length;
      if (finished === runs) break;
      if (Date.now() - started > 150_000)
        throw new Error(`only ${finished} of ${runs} runs ended; log:\n${fleet.log()}`);
      for (const item of await inbox.list(namespace, "desk")) {
        if (item.status !== "waiting") continue;
        try {
          await inbox.claim(namespace, item.id, "ann");
          await inbox.handBack(namespace, item.id, "ann", { note: "Checked by a person." });
        } catch (error) {
          if (!(error instanceof FreeholdError)) throw error;
        }
      }
      if (Math.random() < 0.5 && kills < 10 && fleet.killOne()) kills += 1;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
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
    expect(await refusedToTenant()).toEqual([]);
    console.log(
      `tenant crash test: ${runs} runs, ${kills} workers killed, ${fleet.resumed()} resumed from a checkpoint`,
    );
  });
});
