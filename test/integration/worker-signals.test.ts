/**
 * A `freehold worker` process told to stop (SIGTERM, as Kubernetes stops a pod) after running agents of
 * every framework: it stops as the worker command does (closes its queues, its runtime, its Redis
 * connection, then logs `worker stopped`) and exits 0. A framework library that ends the process from
 * its own signal handler (the OpenAI Agents SDK's tracing does, once it has run) must not cut that
 * short; a second signal ends the process at once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import {
  createAgentQueues,
  createRunStore,
  startRedisServer,
  startRun,
  type AgentQueues,
  type RedisServer,
  type RunStore,
} from "@freehold/handoff";
import { startScriptedModelServer, type ScriptedModelServer } from "@freehold/models";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCounterServer, type CounterServer } from "../fixtures/mcp/counter-server.ts";
import { writeScriptedConfig } from "../fixtures/scripted-config.ts";
import { createWorkerFleet, type WorkerFleet } from "./worker-fleet.ts";

const namespace = "signals";
const frameworks = ["freehold", "vercel-ai", "openai-agents", "langgraph", "mastra"] as const;
let redis: RedisServer;
let connection: Redis;
let store: RunStore;
let queues: AgentQueues;
let model: ScriptedModelServer;
let counter: CounterServer;
let fleet: WorkerFleet;
let directory: string;

beforeAll(async () => {
  redis = await startRedisServer();
  connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  store = createRunStore(connection);
  queues = createAgentQueues(connection);
  // "Wait" asks for a tool call that takes a minute (a graceful stop waits for calls in flight).
  model = await startScriptedModelServer({
    script: [
      {
        match: { role: "user", contains: "Wait" },
        toolCalls: [{ name: "slow", arguments: { steps: 1, delayMs: 60_000 } }],
      },
      { match: { role: "tool" }, text: "Waited." },
      { match: { role: "user" }, text: "Done." },
    ],
  });
  counter = await startCounterServer({ transport: "http" });
  directory = mkdtempSync(join(tmpdir(), "freehold-signals-"));
  const configFile = writeScriptedConfig(join(directory, "config.json"), {
    namespace,
    modelBaseUrl: model.baseUrl,
    agents: {
      ...Object.fromEntries(frameworks.map((framework) => [framework, { framework }])),
      waiter: { tools: [{ mcpServer: "counter", allow: ["slow"] }] },
    },
    mcpServers: { counter: counter.url },
  });
  fleet = createWorkerFleet({ configFile, redisUrl: redis.url, concurrency: 2, lockDurationSeconds: 30 });
});

afterAll(async () => {
  fleet.killAll();
  await queues.close();
  await model.close();
  await counter.close();
  connection.disconnect();
  await redis.stop();
  rmSync(directory, { recursive: true, force: true });
});

/** Starts a worker, runs one answer on each framework's agent through it, and returns the worker. */
async function workerThatRanEveryFramework(): Promise<ChildProcess> {
  fleet.clearLog();
  const worker = fleet.start();
  await expect.poll(() => fleet.log(), { timeout: 30_000 }).toContain("worker ready");
  const runs = await Promise.all(
    frameworks.map((agent) =>
      startRun({ redis: connection, store, queues }, { namespace, agent, input: "Hi" }),
    ),
  );
  await expect
    .poll(
      async () =>
        (await Promise.all(runs.map((run) => store.require(namespace, run.id)))).map((state) => state.status),
      { timeout: 30_000 },
    )
    .toEqual(frameworks.map(() => "completed"));
  return worker;
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    child.once("close", (code, signal) => {
      resolve({ code, signal });
    });
  });
}

describe("freehold worker on SIGTERM", () => {
  it(
    "stops as the worker command does after running every framework, and exits 0",
    { timeout: 90_000 },
    async () => {
      const worker = await workerThatRanEveryFramework();
      const exited = exitOf(worker);
      worker.kill("SIGTERM");
      expect(await exited).toEqual({ code: 0, signal: null });
      const log = fleet.log();
      expect(log).toContain("stopping: runs in progress stop at their next step");
      expect(log.trimEnd().split("\n").at(-1)).toBe("worker stopped");
    },
  );

  it(
    "exits at once on a second signal while the first waits for a call in flight",
    { timeout: 90_000 },
    async () => {
      const worker = await workerThatRanEveryFramework();
      await startRun({ redis: connection, store, queues }, { namespace, agent: "waiter", input: "Wait" });
      await expect
        .poll(() => counter.calls().some((call) => call.tool === "slow"), { timeout: 30_000 })
        .toBe(true);
      const exited = exitOf(worker);
      worker.kill("SIGTERM");
      await expect.poll(() => fleet.log(), { timeout: 10_000 }).toContain("stopping:");
      worker.kill("SIGTERM");
      expect(await exited).toEqual({ code: 143, signal: null });
      expect(fleet.log()).not.toContain("worker stopped");
    },
  );
});
