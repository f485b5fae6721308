/**
 * worker-memory: resident memory of a `freehold worker` (started as the runtime image starts it,
 * with Node's compile cache warmed) idle, and with 100 runs waiting for a person: each run's model
 * hands the conversation to the human queue `support` at once, and the bench fails unless every run's
 * status in Redis is `waiting_for_human` before it measures. Baseline in the same run: an idle bare
 * Node process. RSS is read from /proc; each figure is the median of 10 readings 100 ms apart,
 * taken after 10 s of quiet (V8's memory reducer collects after a few idle seconds: the steady state
 * of a worker whose runs wait for hours, not the garbage of their last steps).
 * Goals: idle <= 80 MiB, <= 50 KiB per waiting run. Prints one JSON line.
 */
import { spawn } from "node:child_process";
import { createAgentQueues, createRunStore, startRedisServer, startRun } from "@freehold/handoff";
import { startScriptedModelServer } from "@freehold/models";
import { Redis } from "ioredis";
import { startCounterServer } from "../test/fixtures/mcp/counter-server.ts";
import {
  compileCacheDirectory,
  ensureBundle,
  median,
  residentMb,
  round1,
  startWorker,
  writeConfig,
  type CompileCache,
} from "./worker-process.ts";

const concurrent = 100;
const goalIdleMb = 80;
const goalPerRunKb = 50;
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const model = await startScriptedModelServer({
  script: {
    turns: [
      {
        toolCalls: [
          {
            name: "transfer_to_human_support",
            arguments: { summary: "needs a person", reason: "bench", priority: "normal" },
          },
        ],
      },
    ],
    loop: true,
  },
});
const counter = await startCounterServer({ transport: "http" });
const redis = await startRedisServer();
const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
const store = createRunStore(connection);
const queues = createAgentQueues(connection);
await ensureBundle();
const config = writeConfig(model.baseUrl, counter.url);

/** Median RSS of 10 readings, 100 ms apart. */
async function steadyMb(pid: number): Promise<number> {
  const readings: number[] = [];
  for (let sample = 0; sample < 10; sample += 1) {
    readings.push(residentMb(pid));
    await settle(100);
  }
  return median(readings);
}

// The image's compile cache: warmed by one start, as the image build does.
const compileCache: CompileCache = { directory: compileCacheDirectory() };
const warmUp = startWorker(config, redis.url, concurrent, compileCache);
await warmUp.ready;
const warmUpExit = new Promise((resolve) => warmUp.child.once("exit", resolve));
warmUp.child.kill("SIGTERM");
await warmUpExit;

const baseline = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"]);
const { child, ready } = startWorker(config, redis.url, concurrent, compileCache);
await ready;
await settle(10_000);
const pid = child.pid ?? 0;
const idleMb = await steadyMb(pid);
const baselineMb = residentMb(baseline.pid ?? 0);
log(
  `worker-memory: idle worker ${round1(idleMb)} MiB, bare node ${round1(baselineMb)} MiB; starting ${concurrent} runs`,
);

const ids: string[] = [];
for (let index = 0; index < concurrent; index += 1) {
  const run = await startRun(
    { redis: connection, store, queues },
    { namespace: "bench", agent: "adder", input: `run ${index}` },
  );
  ids.push(run.id);
}
const statuses = async (): Promise<Map<string, number>> => {
  const counts = new Map<string, number>();
  for (const id of ids) {
    const { status } = await store.require("bench", id);
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  return counts;
};
const deadline = Date.now() + 60_000;
let counts = await statuses();
while (counts.get("waiting_for_human") !== concurrent && Date.now() < deadline) {
  await settle(50);
  counts = await statuses();
}
if (counts.get("waiting_for_human") !== concurrent) {
  throw new Error(
    `expected ${concurrent} runs waiting_for_human, got ${JSON.stringify(Object.fromEntries(counts))}`,
  );
}
await settle(10_000);
const waitingMb = await steadyMb(pid);
const perRunKb = ((waitingMb - idleMb) * 1024) / concurrent;
log(
  `  ${concurrent} runs waiting_for_human (checked in Redis): ${round1(waitingMb)} MiB, ${Math.round(perRunKb)} KiB per run`,
);

child.kill("SIGKILL");
baseline.kill("SIGKILL");
await queues.close();
connection.disconnect();
await redis.stop();
await counter.close();
await model.close();

console.log(
  JSON.stringify({
    bench: "worker-memory",
    idleMb: round1(idleMb),
    waitingRuns: concurrent,
    waitingMb: round1(waitingMb),
    perRunKb: Math.round(perRunKb),
    bareNodeMb: round1(baselineMb),
    idleRatio: round1(idleMb / baselineMb),
    goalIdleMb,
    goalPerRunKb,
    goalMet: idleMb <= goalIdleMb && perRunKb <= goalPerRunKb,
  }),
);
