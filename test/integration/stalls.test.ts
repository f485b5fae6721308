/**
 * A run that kills its workers: real `freehold worker` processes, each SIGKILLed as soon as it picks
 * the run up (while its model is still answering, so the run never makes progress). After
 * `--max-stalls` (3) such deaths the next worker fails the run with `runtime.stalled` instead of
 * dying on it again. (The crash suites, whose runs make progress between kills, run their workers
 * with a high `--max-stalls`: see worker-fleet.ts.)
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunState } from "@freehold/api";
import {
  createAgentQueues,
  createRunStore,
  runPickupsKey,
  startRedisServer,
  startRun,
  type AgentQueues,
  type RedisServer,
  type RunStore,
} from "@freehold/handoff";
import { startScriptedModelServer, type ScriptedModelServer } from "@freehold/models";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeScriptedConfig } from "../fixtures/scripted-config.ts";
import { createWorkerFleet, type WorkerFleet } from "./worker-fleet.ts";

const namespace = "stalls";
let redis: RedisServer;
let connection: Redis;
let store: RunStore;
let queues: AgentQueues;
let model: ScriptedModelServer;
let fleet: WorkerFleet;

beforeAll(async () => {
  redis = await startRedisServer();
  connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  store = createRunStore(connection);
  queues = createAgentQueues(connection);
  // The model takes a minute to answer: a worker killed while waiting for it made no progress.
  model = await startScriptedModelServer({ script: [{ text: "Too late.", delayMs: 60_000 }] });
  const directory = mkdtempSync(join(tmpdir(), "freehold-stalls-"));
  const configFile = writeScriptedConfig(join(directory, "config.json"), {
    namespace,
    modelBaseUrl: model.baseUrl,
    agents: { crasher: { instructions: "Answer." } },
  });
  fleet = createWorkerFleet({
    configFile,
    redisUrl: redis.url,
    concurrency: 1,
    lockDurationSeconds: 1,
    maxStalls: 3,
  });
  fleet.start();
});

afterAll(async () => {
  fleet.killAll();
  await queues.close();
  await model.close();
  connection.disconnect();
  await redis.stop();
});

describe("stalls", () => {
  it("fails a run whose worker dies every time it picks it up, after --max-stalls deaths", async () => {
    const run = await startRun(
      { redis: connection, store, queues },
      { namespace, agent: "crasher", input: "Hi" },
    );
    let kills = 0;
    let state: RunState | undefined;
    const deadline = Date.now() + 90_000;
    for (;;) {
      state = await store.require(namespace, run.id);
      if (state.status === "failed" || Date.now() > deadline) break;
      // The fleet kills a worker once it logged that it started or resumed the run.
      if (fleet.killOne()) kills += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(state.status, fleet.log()).toBe("failed");
    expect(state.error?.code).toBe("runtime.stalled");
    expect(state.error?.message).toContain("died 3 times");
    expect(state.error?.message).toContain("a tool or model that crashes the worker");
    expect(kills).toBe(3);
    expect(await connection.exists(runPickupsKey(namespace, run.id))).toBe(0);
    expect(fleet.log()).toContain(`run ${run.id}: its worker died 3 times without progress; failing it`);
  });
});
