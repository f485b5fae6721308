/**
 * worker-memory: resident memory of a `freehold worker` (started as the runtime image starts it:
 * from its startup snapshot) idle, then with 100 and with 1,100 runs waiting for a person: each
 * run's model hands the conversation to the human queue `support` at once, and the bench fails unless
 * every run's status in Redis is `waiting_for_human` before it measures. Per waiting run (headline):
 * what the next 1,000 add, on a worker that has worked; the first 100's figure over idle, which also
 * holds the worker's first work (code compiled, connections opened), is printed beside it. Baseline in the same run: an idle bare
 * Node process. RSS is read from /proc; each figure is the median of 10 readings 100 ms apart,
 * taken after 30 s of quiet: the steady state of a worker whose runs wait for hours, not the garbage
 * of its start or of their last steps. V8's memory reducer shrinks the heap (the young generation
 * grown to its 16 MiB semi-spaces, the old generation's free pages) 10-20 s after a worker goes
 * quiet; a reading before it is a transient up to 20 MiB higher.
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
/** The second batch: large, so that what each run adds stands above RSS's own movement (MiBs). */
const more = 1000;
const goalIdleMb = 80;
const goalPerRunKb = 50;
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** How long the worker is left quiet before each figure (see the module comment). */
const quietMs = 30_000;

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

// One unmeasured start first, as the image build starts a worker once (it warms the compile cache
// of the bundle, which a worker from the snapshot does not use, and the files' pages).
const compileCache: CompileCache = { directory: compileCacheDirectory() };
const warmUp = startWorker(config, redis.url, concurrent, compileCache);
await warmUp.ready;
const warmUpExit = new Promise((resolve) => warmUp.child.once("exit", resolve));
warmUp.child.kill("SIGTERM");
await warmUpExit;

const baseline = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"]);
const { child, ready } = startWorker(config, redis.url, concurrent, compileCache);
await ready;
await settle(quietMs);
const pid = child.pid ?? 0;
const idleMb = await steadyMb(pid);
const baselineMb = residentMb(baseline.pid ?? 0);
log(
  `worker-memory: idle worker ${round1(idleMb)} MiB, bare node ${round1(baselineMb)} MiB; starting ${concurrent} runs`,
);

const ids: string[] = [];
const statuses = async (): Promise<Map<string, number>> => {
  const counts = new Map<string, number>();
  for (const id of ids) {
    const { status } = await store.require("bench", id);
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  return counts;
};

/** Starts `count` more runs, waits until every run is waiting_for_human, then reads RSS. */
async function waitingBatch(batch: number, count: number): Promise<number> {
  for (let index = 0; index < count; index += 1) {
    const run = await startRun(
      { redis: connection, store, queues },
      { namespace: "bench", agent: "adder", input: `batch ${batch} run ${index}` },
    );
    ids.push(run.id);
  }
  const deadline = Date.now() + 60_000;
  let counts = await statuses();
  while (counts.get("waiting_for_human") !== ids.length && Date.now() < deadline) {
    await settle(50);
    counts = await statuses();
  }
  if (counts.get("waiting_for_human") !== ids.length) {
    throw new Error(
      `expected ${ids.length} runs waiting_for_human, got ${JSON.stringify(Object.fromEntries(counts))}`,
    );
  }
  await settle(quietMs);
  return steadyMb(pid);
}

// The first batch also pays for the worker's first work (code compiled, connections opened to the
// model and MCP servers); the second batch, on a worker that has worked, is what each waiting run
// adds: the headline per-run figure.
const firstMb = await waitingBatch(1, concurrent);
const firstPerRunKb = ((firstMb - idleMb) * 1024) / concurrent;
log(
  `  ${ids.length} runs waiting_for_human (checked in Redis): ${round1(firstMb)} MiB, ${Math.round(firstPerRunKb)} KiB per run over idle (with the worker's first work)`,
);
const waitingMb = await waitingBatch(2, more);
const perRunKb = ((waitingMb - firstMb) * 1024) / more;
log(
  `  ${ids.length} runs waiting_for_human (checked in Redis): ${round1(waitingMb)} MiB, ${Math.round(perRunKb)} KiB per run for the next ${more}`,
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
    waitingRuns: ids.length,
    waitingMb: round1(waitingMb),
    perRunKb: Math.round(perRunKb),
    firstWaitingMb: round1(firstMb),
    firstPerRunKb: Math.round(firstPerRunKb),
    bareNodeMb: round1(baselineMb),
    idleRatio: round1(idleMb / baselineMb),
    goalIdleMb,
    goalPerRunKb,
    goalMet: idleMb <= goalIdleMb && perRunKb <= goalPerRunKb,
  }),
);
