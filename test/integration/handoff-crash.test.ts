/**
 * Multi-agent runs survive crashes: 200 runs go triage → billing (transfer) → researcher (a child
 * run) → a tool call → the billing desk (people), and back to billing, while worker processes are
 * SIGKILLed at random and Redis (append-only) is restarted in the middle of the batch. A "person"
 * in this process claims and hands back every inbox item. Afterwards: every run completed once, with
 * exactly one transfer, one delegation, one human handoff and one hand-back; every child run
 * completed once; no inbox item left or lost; every tool call executed exactly once.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FreeholdError, type RunEvent } from "@freehold/api";
import {
  createAgentQueues,
  createInbox,
  createRunStore,
  startRedisServer,
  type RedisServer,
} from "@freehold/handoff";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLedger } from "../fixtures/mcp/ledger.ts";
import { handBackWaiting, startHandoffWorld, type HandoffWorld } from "./handoff-world.ts";
import { createWorkerFleet, startRuns, waitForRunsToEnd, type WorkerFleet } from "./worker-fleet.ts";

const runs = 200;
const namespace = "handoffs";

let redis: RedisServer;
let connection: Redis;
let world: HandoffWorld;
let ledger: string;
let fleet: WorkerFleet;

beforeAll(async () => {
  const directory = mkdtempSync(join(tmpdir(), "freehold-handoff-crash-"));
  redis = await startRedisServer({ dataDirectory: join(directory, "redis"), appendOnly: true });
  connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  ledger = join(directory, "ledger.jsonl");
  world = await startHandoffWorld({ directory, namespace, delayMs: 200, ledger });
  fleet = createWorkerFleet({
    configFile: world.configFile,
    redisUrl: redis.url,
    concurrency: 10,
    lockDurationSeconds: 2,
  });
});

afterAll(async () => {
  fleet.killAll();
  await world.close();
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
    const ids = await startRuns(
      { redis: connection, store, queues },
      { namespace, agent: "triage", count: runs, input: (index) => `order ${index}` },
    );

    let kills = 0;
    // Set in `between`, which control-flow analysis does not follow.
    let restarted = false as boolean;
    let handedBack = 0;
    await waitForRunsToEnd({
      store,
      namespace,
      ids,
      fleet,
      timeoutMs: 240_000,
      attempt: retrying,
      async between(finished) {
        // The person: claim and hand back whatever waits.
        handedBack += await handBackWaiting(inbox, namespace, retrying);
        // Chaos: kill a worker that is working on a run, now and then; restart Redis once, mid-batch.
        if (Math.random() < 0.5 && kills < 30) {
          if (fleet.killOne()) kills += 1;
        }
        if (!restarted && finished >= runs / 3) {
          restarted = true;
          await redis.restart();
        }
        await new Promise((resolve) => setTimeout(resolve, 150));
      },
    });
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
