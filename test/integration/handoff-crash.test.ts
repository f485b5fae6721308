/**
 * Multi-agent runs survive crashes: 200 runs go triage → billing (transfer) → researcher (a child
 * run) → a tool call → the billing desk (people), and back to billing, while worker processes are
 * SIGKILLed at random and Redis (append-only) is restarted in the middle of the batch. A "person"
 * in this process claims and hands back every inbox item. Afterwards: every run completed once, with
 * exactly one transfer, one delegation, one human handoff and one hand-back; every child run
 * completed once; no inbox item left or lost; every tool call executed exactly once.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FreeholdError, isTerminal, RuntimeConfig, type RunEvent } from "@freehold/api";
import {
  createAgentQueues,
  createInbox,
  createRunStore,
  startRedisServer,
  startRun,
  type RedisServer,
} from "@freehold/handoff";
import { startScriptedModelServer, type ScriptedModelServer } from "@freehold/models";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCounterServer, type CounterServer } from "../fixtures/mcp/counter-server.ts";
import { readLedger } from "../fixtures/mcp/ledger.ts";
import { createWorkerFleet, type WorkerFleet } from "./worker-fleet.ts";

const runs = 200;
const namespace = "handoffs";

let redis: RedisServer;
let connection: Redis;
let model: ScriptedModelServer;
let counter: CounterServer;
let ledger: string;
let configFile: string;
let fleet: WorkerFleet;

const resource = (kind: string, name: string, spec: unknown) => ({
  apiVersion: "freehold.dev/v1alpha1",
  kind,
  metadata: { name, namespace },
  spec,
});

beforeAll(async () => {
  const directory = mkdtempSync(join(tmpdir(), "freehold-handoff-crash-"));
  redis = await startRedisServer({ dataDirectory: join(directory, "redis"), appendOnly: true });
  connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  ledger = join(directory, "ledger.jsonl");
  counter = await startCounterServer({ transport: "http", ledger });
  model = await startScriptedModelServer({
    script: [
      {
        match: { contains: "order" },
        toolCalls: [{ name: "transfer_to_billing", arguments: { note: "A billing question." } }],
        delayMs: 200,
      },
      {
        match: { contains: "Transferred to billing" },
        toolCalls: [{ name: "ask_researcher", arguments: { input: "history please" } }],
        delayMs: 200,
      },
      {
        match: { toolName: "ask_researcher" },
        toolCalls: [{ name: "record", arguments: { value: "checked" } }],
        delayMs: 200,
      },
      {
        match: { toolName: "record" },
        toolCalls: [
          { name: "transfer_to_human_desk", arguments: { summary: "Needs a person.", reason: "Policy." } },
        ],
        delayMs: 200,
      },
      { match: { contains: "handed the conversation back" }, text: "All done.", delayMs: 200 },
      { match: { contains: "history please" }, text: "A long-time customer.", delayMs: 200 },
    ],
  });
  configFile = join(directory, "config.json");
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
  fleet = createWorkerFleet({ configFile, redisUrl: redis.url, concurrency: 10, lockDurationSeconds: 2 });
});

afterAll(async () => {
  fleet.killAll();
  await model.close();
  await counter.close();
  connection.disconnect();
  await redis.stop();
});

/** Retries an action through a Redis restart. */
async function retrying<T>(action: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await action();
    } catch (error) {
      if (error instanceof FreeholdError || attempt > 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

describe("multi-agent runs through crashes and a Redis restart", () => {
  it(`lose nothing over ${runs} runs`, { timeout: 300_000 }, async () => {
    for (let index = 0; index < 3; index += 1) fleet.start();
    const store = createRunStore(connection);
    const queues = createAgentQueues(connection);
    const inbox = createInbox({ redis: connection, store, queues });
    const ids: string[] = [];
    for (let index = 0; index < runs; index += 1) {
      ids.push(
        (
          await startRun(
            { redis: connection, store, queues },
            { namespace, agent: "triage", input: `order ${index}` },
          )
        ).id,
      );
    }

    let kills = 0;
    let restarted = false;
    let handedBack = 0;
    const started = Date.now();
    for (;;) {
      const states = await retrying(() => Promise.all(ids.map((id) => store.require(namespace, id))));
      const finished = states.filter((state) => isTerminal(state.status)).length;
      if (finished === runs) break;
      if (Date.now() - started > 240_000)
        throw new Error(`only ${finished} of ${runs} runs ended; worker log:\n${fleet.log()}`);
      // The person: claim and hand back whatever waits.
      for (const item of await retrying(() => inbox.list(namespace, "desk"))) {
        if (item.status !== "waiting") continue;
        try {
          await retrying(() => inbox.claim(namespace, item.id, "ann"));
          await retrying(() => inbox.handBack(namespace, item.id, "ann", { note: "Checked by a person." }));
          handedBack += 1;
        } catch (error) {
          if (!(error instanceof FreeholdError)) throw error;
        }
      }
      // Chaos: kill a worker that has been up a second, now and then; restart Redis once, mid-batch.
      if (Math.random() < 0.5 && kills < 30) {
        if (fleet.killOne(1000)) kills += 1;
      }
      if (!restarted && finished >= runs / 3) {
        restarted = true;
        await redis.restart();
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    await queues.close();

    const states = await Promise.all(ids.map((id) => store.require(namespace, id)));
    expect(
      states
        .filter((state) => state.status !== "completed")
        .map((state) => [state.id, state.status, state.error]),
    ).toEqual([]);
    let childRuns = 0;
    for (const state of states) {
      const events: RunEvent[] = (await store.readEvents(namespace, state.id)).map(({ event }) => event);
      const count = (type: RunEvent["type"]) => events.filter((event) => event.type === type).length;
      expect([
        state.id,
        count("agent-transfer"),
        count("delegation-start"),
        count("delegation-end"),
        count("human-handoff"),
        count("run-end"),
      ]).toEqual([state.id, 1, 1, 1, 1, 1]);
      const actions = events.flatMap((event) =>
        event.type === "human-action" && event.action !== "claim" ? [event.action] : [],
      );
      expect(actions).toEqual(["hand-back"]);
      const delegation = events.find((event) => event.type === "delegation-start");
      if (delegation?.type === "delegation-start") {
        const child = await store.require(namespace, delegation.childRunId);
        expect(child.status).toBe("completed");
        expect(
          (await store.readEvents(namespace, child.id)).filter(({ event }) => event.type === "run-end"),
        ).toHaveLength(1);
        childRuns += 1;
      }
    }
    expect(childRuns).toBe(runs);
    expect(await inbox.list(namespace, "desk")).toEqual([]);
    const entries = readLedger(ledger);
    expect(entries).toHaveLength(runs);
    expect(new Set(entries.map((entry) => entry.idempotencyKey)).size).toBe(runs);
    console.log(
      `handoff crash test: ${runs} runs (${runs} child runs, ${handedBack} hand-backs), ${kills} workers killed, ` +
        `Redis restarted ${restarted ? "once" : "never"}; ${entries.length} tool executions`,
    );
    expect(kills).toBeGreaterThan(0);
    expect(restarted).toBe(true);
  });
});
