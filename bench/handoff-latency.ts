/**
 * handoff-latency: how long one agent-to-agent handoff takes, from the moment the source agent's
 * model returns `transfer_to_<target>` to the moment the target agent's model is called. Two agents
 * (ping, pong) hand one run back and forth on a loopback Redis, served by a real runtime worker in
 * this process; their model answers instantly in-process, so a sample is Freehold's own time: the
 * checkpoints, the dispatch (BullMQ add), the pickup by the target's queue consumer, the run's load
 * and its `running` checkpoint. One run at a time, so the figure is latency, not throughput.
 *
 * Baseline in the same run, on the same Redis: a bare BullMQ round trip, from the start of
 * `queue.add` to the start of a `Worker`'s processor, one job at a time. The two are interleaved
 * (a run of `maxHandoffs` handoffs, then as many bare round trips), after a warm-up.
 *
 * Prints progress, then one JSON line with p50/p99 of both and their ratios.
 */
// First, as the `freehold worker` process: zod reads it as it builds the schemas other modules build.
import "@freehold/api/interpreted-parsing";
import { AgentSpec } from "@freehold/api";
import {
  createAgentQueues,
  createRunStore,
  startRedisServer,
  startRun,
  connectRedis,
} from "@freehold/handoff";
import { createMcpPool, createToolBroker } from "@freehold/mcp";
import type { LanguageModel } from "@freehold/models";
import { createRuntimeWorker, specialTools, type ResolvedAgent } from "@freehold/runtime";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { instantModel } from "./instant-model.ts";

// Not exported by @freehold/runtime (yet); createRuntime makes an agent's transfer tools with it.

const wantedSamples = Number(process.env.BENCH_SAMPLES ?? 1000);
/** Handoffs per run: the most AgentLimits.maxHandoffs allows. */
const hopsPerRun = 100;
const warmUpRuns = 2;
const runs = Math.ceil(wantedSamples / hopsPerRun);
const namespace = "bench";
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Handoffs so far in a conversation: the transfer tools' results. */
/**
 * Freehold's side of the clock: `transferAt` is set just before a model returns a transfer, and the
 * next model call (the target's) takes a sample from it. Runs are sequential, so one slot is enough.
 */
const clock = {
  recording: false,
  transferAt: undefined as number | undefined,
  samples: [] as number[],
  /** The hop of each sample (1-based), to show how latency grows with the conversation. */
  hops: [] as number[],
  finished: undefined as (() => void) | undefined,
};

function clockedModel(): LanguageModel {
  return instantModel({
    maxTransfers: hopsPerRun,
    onCall: (hops) => {
      const calledAt = performance.now();
      if (clock.transferAt === undefined) return;
      if (clock.recording) {
        clock.samples.push(calledAt - clock.transferAt);
        clock.hops.push(hops);
      }
      clock.transferAt = undefined;
    },
    onTransfer: () => {
      clock.transferAt = performance.now();
    },
    onAnswer: () => {
      clock.finished?.();
    },
  });
}

const redis = await startRedisServer();
const connection = connectRedis(redis.url, { maxRetriesPerRequest: null });
const store = createRunStore(connection);
const queues = createAgentQueues(connection);
const pool = createMcpPool({});
const model = clockedModel();
const names = ["ping", "pong"] as const;
const specs = new Map(
  names.map((name) => {
    const other = name === "ping" ? "pong" : "ping";
    return [
      name,
      AgentSpec.parse({
        model: { ref: "instant" },
        instructions: `You are ${name}. Hand everything to ${other}.`,
        handoffs: [{ agent: other }],
        limits: { maxHandoffs: hopsPerRun, maxSteps: hopsPerRun * 2 },
      }),
    ] as const;
  }),
);
const directory = {
  agents: new Map(names.map((name) => [name, { description: `the ${name} agent` }])),
  humanQueues: new Map(),
};
const agents = [...specs].map(([name, spec]): ResolvedAgent => ({
  namespace,
  name,
  spec,
  model,
  broker: createToolBroker(pool, []),
  specials: specialTools(spec, directory),
  humanQueues: new Map(),
}));
const worker = createRuntimeWorker({ connection, store, agents });
await worker.ready();

/** One run from start to end, ping-ponging `hopsPerRun` times. */
async function freeholdRun(): Promise<void> {
  const finished = new Promise<void>((resolve) => (clock.finished = resolve));
  const run = await startRun({ redis: connection, store, queues }, { namespace, agent: "ping", input: "hi" });
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    finished.then(() => "finished" as const),
    new Promise<"stuck">((resolve) => {
      timer = setTimeout(() => {
        resolve("stuck");
      }, 60_000);
    }),
  ]);
  clearTimeout(timer);
  if (outcome === "stuck") {
    const state = await store.require(namespace, run.id);
    throw new Error(
      `run ${run.id} did not finish within 60 s: it is ${state.status} after ${state.hops} handoffs`,
    );
  }
  for (;;) {
    const state = await store.require(namespace, run.id);
    if (state.status === "completed") return;
    // Taken up without a write, a run shows queued until its worker's first write (worker.ts).
    if (state.status !== "running" && state.status !== "queued") {
      throw new Error(`run ${run.id} ended ${state.status}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const bareConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
const bareQueue = new Queue("bare", { connection: bareConnection, prefix: "bare" });
let addStartedAt = 0;
let onProcessed: ((elapsedMs: number) => void) | undefined;
const bareWorker = new Worker(
  "bare",
  () => {
    onProcessed?.(performance.now() - addStartedAt);
    return Promise.resolve();
  },
  { connection: bareConnection, prefix: "bare", concurrency: 10 },
);
await bareWorker.waitUntilReady();
let onCompleted: (() => void) | undefined;
bareWorker.on("completed", () => onCompleted?.());

/** `count` bare round trips, one at a time: add, processor starts, job completes. */
async function bareRoundTrips(count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const processed = new Promise<number>((resolve) => (onProcessed = resolve));
    const completed = new Promise<void>((resolve) => (onCompleted = resolve));
    addStartedAt = performance.now();
    await bareQueue.add(
      "job",
      { index },
      { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } },
    );
    samples.push(await processed);
    await completed;
  }
  return samples;
}

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? 0;
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000;

log(
  `handoff-latency: ${runs} runs of ${hopsPerRun} handoffs (ping <-> pong), interleaved with as many bare BullMQ round trips; warming up`,
);
for (let index = 0; index < warmUpRuns; index += 1) {
  await freeholdRun();
  await bareRoundTrips(hopsPerRun);
}
clock.recording = true;
const bareSamples: number[] = [];
for (let index = 0; index < runs; index += 1) {
  await freeholdRun();
  bareSamples.push(...(await bareRoundTrips(hopsPerRun)));
  const recent = clock.samples.slice(-hopsPerRun);
  log(
    `  run ${index + 1}/${runs}: handoff p50 ${round3(percentile(recent, 0.5))} ms, bare BullMQ p50 ${round3(percentile(bareSamples.slice(-hopsPerRun), 0.5))} ms`,
  );
}
clock.recording = false;

// How a handoff's time grows with the conversation it carries (the state is re-read and re-written).
const byHop = (low: number, high: number): number[] =>
  clock.samples.filter((_, index) => (clock.hops[index] ?? 0) >= low && (clock.hops[index] ?? 0) <= high);
log(
  `  handoff p50 by hop: 1-10 ${round3(percentile(byHop(1, 10), 0.5))} ms, 45-55 ${round3(percentile(byHop(45, 55), 0.5))} ms, 91-100 ${round3(percentile(byHop(91, 100), 0.5))} ms`,
);

await worker.close();
await bareWorker.close();
await bareQueue.close();
await queues.close();
await pool.close();
bareConnection.disconnect();
connection.disconnect();
await redis.stop();

const freeholdP50 = percentile(clock.samples, 0.5);
const freeholdP99 = percentile(clock.samples, 0.99);
const bullmqP50 = percentile(bareSamples, 0.5);
const bullmqP99 = percentile(bareSamples, 0.99);
log(
  `handoff p50 ${round3(freeholdP50)} ms, p99 ${round3(freeholdP99)} ms (goal: p50 <= 2 ms, p99 <= 10 ms); bare BullMQ p50 ${round3(bullmqP50)} ms, p99 ${round3(bullmqP99)} ms`,
);
console.log(
  JSON.stringify({
    bench: "handoff-latency",
    samples: clock.samples.length,
    freeholdP50Ms: round3(freeholdP50),
    freeholdP99Ms: round3(freeholdP99),
    bullmqP50Ms: round3(bullmqP50),
    bullmqP99Ms: round3(bullmqP99),
    p50Ratio: round3(freeholdP50 / bullmqP50),
    p99Ratio: round3(freeholdP99 / bullmqP99),
    goalP50Ms: 2,
    goalP99Ms: 10,
    goalMet: freeholdP50 <= 2 && freeholdP99 <= 10,
  }),
);
