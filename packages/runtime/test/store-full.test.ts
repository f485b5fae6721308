/**
 * A Redis that fills up under a running worker (real redis-server, its maxmemory lowered below what
 * it holds while the model thinks): the step's checkpoint is refused (`store.full`, retryable), the
 * run is not failed, and once Redis has room again the job is retried and the run completes from its
 * last checkpoint.
 */
import type { RunState } from "@freehold/api";
import {
  createAgentQueues,
  createRunStore,
  startRedisServer,
  startRun,
  type RedisServer,
} from "@freehold/handoff";
import { startScriptedModelServer, type ScriptedModelServer } from "@freehold/models";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scriptedConfig } from "../../../test/fixtures/scripted-config.ts";
import { createRuntime, createRuntimeWorker, type Runtime, type RuntimeWorker } from "../src/index.ts";

const namespace = "full";
let server: RedisServer;
let connection: Redis;
let model: ScriptedModelServer;
let runtime: Runtime;
let worker: RuntimeWorker;
const logged: string[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  connection = new Redis(server.url, { maxRetriesPerRequest: null });
  model = await startScriptedModelServer({
    script: [{ match: { role: "user" }, text: "Done.", delayMs: 1500 }],
  });
  runtime = await createRuntime(
    scriptedConfig({
      namespace,
      modelBaseUrl: model.baseUrl,
      model: { maxRetries: 0 },
      agents: { front: { instructions: "Answer." } },
    }),
    { resolveSecret: () => Promise.reject(new Error("no secrets")) },
  );
  worker = createRuntimeWorker({
    connection,
    store: createRunStore(connection),
    agents: runtime.agents,
    lockDurationMs: 1000,
    log: (line) => logged.push(line),
  });
  await worker.ready();
});

afterAll(async () => {
  await worker.close();
  await runtime.close();
  await model.close();
  connection.disconnect();
  await server.stop();
});

describe("a Redis that fills up under a worker", () => {
  it("retries the refused step once Redis has room, and the run completes", async () => {
    const store = createRunStore(connection);
    const queues = createAgentQueues(connection);
    const run = await startRun(
      { redis: connection, store, queues },
      { namespace, agent: "front", input: "Hi" },
    );
    // While the model thinks (marked running meanwhile, see markRunningAfterMs), Redis gets full:
    // the step's checkpoint will be refused.
    await expect.poll(() => model.requests.length, { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(async () => (await store.require(namespace, run.id)).status).toBe("running");
    expect(model.requests).toHaveLength(1);
    await connection.config("SET", "maxmemory", "1");
    await expect
      .poll(() => logged.some((line) => line.includes("Redis is full")), { timeout: 10_000 })
      .toBe(true);
    expect((await store.require(namespace, run.id)).status).toBe("running");
    await connection.config("SET", "maxmemory", "0");

    let state: RunState | undefined;
    await expect
      .poll(async () => (state = await store.require(namespace, run.id)).status, { timeout: 30_000 })
      .toBe("completed");
    expect(state).toMatchObject({ output: "Done.", steps: 1 });
    const ends = (await store.readEvents(namespace, run.id)).filter(({ event }) => event.type === "run-end");
    expect(ends).toHaveLength(1);
    await queues.close();
  });
});
