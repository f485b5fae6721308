/**
 * handoff-throughput: agent-to-agent handoffs per second with N runtime workers in this process
 * (N = 1, 2, 4; each with its own Redis connection, serving both agents, concurrency 100 per agent).
 * 200 runs ping-pong between two agents (ping, pong) until `limits.maxHandoffs` (20) stops them; the
 * model answers instantly in-process, so the figure is Freehold's own cost: checkpoints, dispatch,
 * BullMQ, the run store. Handoffs = the runs' `agent-transfer` events, counted after the clock stops;
 * the clock runs from starting the first run to the last run ending, as the workers log it (each
 * worker logs as `freehold worker` does, to a sink that counts the runs' ends: nothing on this thread
 * polls Redis while the clock runs, as nothing does for bare BullMQ's in-memory count).
 *
 * Baseline in the same run, with the same N and concurrency: bare BullMQ with no-op processors in
 * the same shape, 200 chains of 20 hops between two queues (each processor adds the next job to the
 * other queue, then returns). Its figure is those chained jobs per second.
 *
 * Node runs all N workers on one thread here: N adds Redis connections and BullMQ consumers, not
 * CPU. Each N is measured `BENCH_REPEATS` (3) times, Freehold and bare interleaved, and the medians
 * are kept: the machines are shared. Besides the rates, it prints the CPU time per handoff (or job)
 * in this process and in Redis (INFO cpu), steadier than the rates on a busy machine.
 *
 * BENCH_COMMANDS=1 prints each phase's Redis commands per handoff (or job) too, each with its time in
 * Redis per handoff (INFO commandstats' usec: a script's includes the commands it calls, counted again
 * under their own names). BENCH_PROFILE=<path prefix> writes a CPU profile of each measured Freehold
 * phase's timed part (the workers and the caller, this thread) to `<prefix>-<phase>.cpuprofile`, for
 * Chrome DevTools or any `.cpuprofile` reader; the profiler slows the phase, so its rates are not
 * comparable with a run without it.
 *
 * Prints progress, then one JSON line with both figures per N and their ratio: the ratio of the
 * medians (`ratio`, the goal's), and each repeat's own ratio (`ratioPaired`: its Freehold phase over
 * the bare phase run right after it, so both saw the machine as it was then), as median and range.
 * Goals: 5,000 handoffs/s (`goalMet`, with any N), and with one worker at least 0.6x bare BullMQ's
 * jobs/s (`goalRatioMet`, on `ratio`).
 */
// First, as the `freehold worker` process: zod reads it as it builds the schemas other modules build.
import "@freehold/api/interpreted-parsing";
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { AgentSpec } from "@freehold/api";
import {
  batchWrites,
  connectRedis,
  createAgentQueues,
  createRunStore,
  startRedisServer,
  startRun,
} from "@freehold/handoff";
import { createMcpPool, createToolBroker } from "@freehold/mcp";
import { createRuntimeWorker, specialTools, type ResolvedAgent, type RuntimeWorker } from "@freehold/runtime";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { instantModel } from "./instant-model.ts";
import { median } from "./stats.ts";
// Not exported by @freehold/runtime (yet); createRuntime makes an agent's transfer tools with it.

const workerCounts = (process.env.BENCH_WORKERS ?? "1,2,4").split(",").map(Number);
const runCount = Number(process.env.BENCH_RUNS ?? 200);
const hopsPerRun = 20;
const concurrency = 100;
/** Each N is measured this many times (Freehold and bare interleaved); the medians are printed. */
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const goal = 5000;
/** And against the baseline: one worker's handoffs per second at least this share of bare BullMQ's jobs. */
const goalRatio = 0.6;
/** BENCH_COMMANDS=1: print each phase's Redis commands per handoff (INFO commandstats). */
const showCommands = process.env.BENCH_COMMANDS === "1";
/** BENCH_PROFILE=<path prefix>: write a CPU profile of each measured Freehold phase. */
const profilePrefix = process.env.BENCH_PROFILE;
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Runs ended, as the workers log them (`run <id>: <status> after <n> steps`). */
const ends = { count: 0 };
const endLine = /^run \S+: \w+ after \d+ steps$/;

const redis = await startRedisServer();
const caller = connectRedis(redis.url, { maxRetriesPerRequest: null });
const callerStore = createRunStore(caller);
const callerQueues = createAgentQueues(caller);
const pool = createMcpPool({});
/** A model that answers at once with a transfer to the other agent, always: `maxHandoffs` ends a run. */
const model = instantModel();
const names = ["ping", "pong"] as const;

/** The two agents of a namespace, ready to run. */
function agentsOf(namespace: string): ResolvedAgent[] {
  const directory = {
    agents: new Map(names.map((name) => [name, { description: `the ${name} agent` }])),
    humanQueues: new Map(),
  };
  return names.map((name): ResolvedAgent => {
    const spec = AgentSpec.parse({
      model: { ref: "instant" },
      instructions: `You are ${name}. Hand everything to ${name === "ping" ? "pong" : "ping"}.`,
      handoffs: [{ agent: name === "ping" ? "pong" : "ping" }],
      limits: { maxHandoffs: hopsPerRun, maxSteps: hopsPerRun * 2 },
    });
    return {
      namespace,
      name,
      spec,
      model,
      broker: createToolBroker(pool, []),
      specials: specialTools(spec, directory),
      humanQueues: new Map(),
    };
  });
}

/** Waits for the condition; fails after a minute (a run that failed never reaches its last call). */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`gave up waiting for ${what} after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Redis's CPU time so far (user + system), in microseconds. */
async function redisCpuMicros(): Promise<number> {
  const info = await caller.info("cpu");
  const seconds = (field: string): number => Number(new RegExp(`${field}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return (seconds("used_cpu_user") + seconds("used_cpu_sys")) * 1e6;
}

/** A phase's rate, and the CPU time it took per handoff (or job) in this process and in Redis. */
interface Phase {
  readonly perSecond: number;
  readonly nodeCpuMicros: number;
  readonly redisCpuMicros: number;
}

/** Times `work` and the CPU it takes; `count()` (after) says how many handoffs or jobs it did. */
async function measure(work: () => Promise<void>, count: () => Promise<number>): Promise<Phase> {
  if (showCommands) await caller.config("RESETSTAT");
  const redisBefore = await redisCpuMicros();
  const nodeBefore = process.cpuUsage();
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  const node = process.cpuUsage(nodeBefore);
  const redisAfter = await redisCpuMicros();
  const done = await count();
  if (showCommands) {
    const stats = [
      ...(await caller.info("commandstats")).matchAll(/cmdstat_([a-z|]+):calls=(\d+),usec=(\d+)/g),
    ]
      .map(([, name, calls, usec]) => ({ name, perOne: Number(calls) / done, usec: Number(usec) / done }))
      .filter(({ perOne }) => perOne >= 0.05)
      .sort((a, b) => b.perOne - a.perOne);
    log(
      `    Redis commands per handoff (or job), and their time in Redis (us): ${stats.map(({ name, perOne, usec }) => `${name} ${perOne.toFixed(2)} (${usec.toFixed(1)})`).join(", ")}`,
    );
  }
  return {
    perSecond: done / seconds,
    nodeCpuMicros: (node.user + node.system) / done,
    redisCpuMicros: (redisAfter - redisBefore) / done,
  };
}

/** Runs `work` under the CPU profiler (sampling every 100 us); writes the profile to `<file>.cpuprofile`. */
async function profiled(work: () => Promise<void>, file: string): Promise<void> {
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 100 });
    await session.post("Profiler.start");
    await work();
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(`${file}.cpuprofile`, JSON.stringify(profile));
    log(`    CPU profile: ${file}.cpuprofile`);
  } finally {
    session.disconnect();
  }
}

/** `runs` runs on `workers` runtime workers. */
async function freehold(namespace: string, workers: number, runs: number): Promise<Phase> {
  const agents = agentsOf(namespace);
  // As `freehold worker` connects.
  const connections = Array.from({ length: workers }, () =>
    connectRedis(redis.url, { maxRetriesPerRequest: null }),
  );
  const running: RuntimeWorker[] = connections.map((connection) =>
    createRuntimeWorker({
      connection,
      store: createRunStore(connection),
      agents,
      concurrency,
      log: (line) => {
        if (endLine.test(line)) ends.count += 1;
      },
    }),
  );
  await Promise.all(running.map((worker) => worker.ready()));
  ends.count = 0;
  let ids: string[] = [];
  const work = async (): Promise<void> => {
    ids = await Promise.all(
      Array.from({ length: runs }, async () => {
        const run = await startRun(
          { redis: caller, store: callerStore, queues: callerQueues },
          { namespace, agent: "ping", input: "hi" },
        );
        return run.id;
      }),
    );
    await until(() => ends.count >= runs, `${runs} runs to end`);
  };
  /** The runs' agent-transfer events (and a warning if the runs did not end as expected). */
  const count = async (): Promise<number> => {
    let handoffs = 0;
    const statuses = new Map<string, number>();
    for (const id of ids) {
      const events = await callerStore.readEvents(namespace, id);
      handoffs += events.filter(({ event }) => event.type === "agent-transfer").length;
      const { status } = await callerStore.require(namespace, id);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    if (handoffs !== runs * hopsPerRun || statuses.get("limit_exceeded") !== runs) {
      log(
        `  warning: expected ${runs * hopsPerRun} handoffs and every run limit_exceeded; got ${handoffs} and ${JSON.stringify(Object.fromEntries(statuses))}`,
      );
    }
    return handoffs;
  };
  const phase = await measure(
    profilePrefix === undefined || namespace === "warmup"
      ? work
      : () => profiled(work, `${profilePrefix}-${namespace}`),
    count,
  );
  await Promise.all(running.map((worker) => worker.close()));
  for (const connection of connections) connection.disconnect();
  return phase;
}

/**
 * The same shape on bare BullMQ: `runs` chains of `hopsPerRun` hops; counts the chained jobs. On
 * ioredis's own connections, or (`batched`) with their writes batched per tick as Freehold's are.
 */
async function bare(prefix: string, workers: number, runs: number, batched = false): Promise<Phase> {
  const connections = Array.from({ length: workers }, () => {
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    return batched ? batchWrites(connection) : connection;
  });
  const jobOptions = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } };
  let hops = 0;
  let ends = 0;
  const consumers = connections.flatMap((connection) => {
    const queues = new Map(names.map((name) => [name, new Queue(name, { connection, prefix })]));
    const consumers = names.map(
      (name) =>
        new Worker(
          name,
          async (job) => {
            const hop = (job.data as { hop: number }).hop;
            if (hop > 0) hops += 1;
            if (hop >= hopsPerRun) {
              ends += 1;
              return;
            }
            await queues.get(name === "ping" ? "pong" : "ping")?.add("hop", { hop: hop + 1 }, jobOptions);
          },
          { connection, prefix, concurrency },
        ),
    );
    return consumers.map((consumer) => ({ consumer, queues }));
  });
  await Promise.all(consumers.map(({ consumer }) => consumer.waitUntilReady()));
  const starter = new Queue("ping", { connection: caller, prefix });
  const phase = await measure(
    async () => {
      await Promise.all(Array.from({ length: runs }, () => starter.add("hop", { hop: 0 }, jobOptions)));
      await until(() => ends >= runs, `${runs} bare chains to end`);
    },
    () => Promise.resolve(hops),
  );
  await Promise.all(consumers.map(({ consumer }) => consumer.close()));
  await Promise.all(consumers.flatMap(({ queues }) => [...queues.values()].map((queue) => queue.close())));
  await starter.close();
  for (const connection of connections) connection.disconnect();
  return phase;
}

log(
  `handoff-throughput: ${runCount} runs x ${hopsPerRun} handoffs (ping <-> pong), workers ${workerCounts.join(", ")}, concurrency ${concurrency} per agent; warming up`,
);
await freehold("warmup", 1, 20);
await bare("warmup", 1, 20);

const round = (value: number): number => Math.round(value);
const freeholdPerSecond: Record<string, number> = {};
const bullmqPerSecond: Record<string, number> = {};
const bullmqBatchedPerSecond: Record<string, number> = {};
const ratio: Record<string, number> = {};
const ratioToBatched: Record<string, number> = {};
/** Per N: each repeat's own ratio (its Freehold phase over the bare phase right after it), as median and range. */
const ratioPaired: Record<string, { median: number; min: number; max: number }> = {};
const cpu: Record<string, Record<string, number>> = {};
/** The phase of median rate, field by field. */
function medianPhase(phases: readonly Phase[]): Phase {
  return {
    perSecond: median(phases.map((phase) => phase.perSecond)),
    nodeCpuMicros: median(phases.map((phase) => phase.nodeCpuMicros)),
    redisCpuMicros: median(phases.map((phase) => phase.redisCpuMicros)),
  };
}

for (const workers of workerCounts) {
  const freeholdPhases: Phase[] = [];
  const barePhases: Phase[] = [];
  const batchedPhases: Phase[] = [];
  for (let repeat = 0; repeat < repeats; repeat += 1) {
    freeholdPhases.push(await freehold(`bench-${workers}-${repeat}`, workers, runCount));
    barePhases.push(await bare(`bare-${workers}-${repeat}`, workers, runCount));
    batchedPhases.push(await bare(`batched-${workers}-${repeat}`, workers, runCount, true));
    log(
      `  ${workers} worker(s), ${repeat + 1}/${repeats}: ${round(freeholdPhases.at(-1)?.perSecond ?? 0)} handoffs/s, bare BullMQ ${round(barePhases.at(-1)?.perSecond ?? 0)} jobs/s, ` +
        `bare BullMQ with batched writes ${round(batchedPhases.at(-1)?.perSecond ?? 0)} jobs/s`,
    );
  }
  const handoffs = medianPhase(freeholdPhases);
  const jobs = medianPhase(barePhases);
  const batchedJobs = medianPhase(batchedPhases);
  const toThousandths = (value: number): number => Math.round(value * 1000) / 1000;
  // Each repeat's Freehold and bare phases run back to back, on the machine as it was then: their ratio
  // leaves out most of the drift between repeats that the ratio of the medians keeps.
  const paired = freeholdPhases.map((phase, index) => phase.perSecond / (barePhases[index]?.perSecond ?? 0));
  const pairedRatio = {
    median: toThousandths(median(paired)),
    min: toThousandths(Math.min(...paired)),
    max: toThousandths(Math.max(...paired)),
  };
  ratioPaired[workers] = pairedRatio;
  freeholdPerSecond[workers] = round(handoffs.perSecond);
  bullmqPerSecond[workers] = round(jobs.perSecond);
  bullmqBatchedPerSecond[workers] = round(batchedJobs.perSecond);
  ratio[workers] = toThousandths(handoffs.perSecond / jobs.perSecond);
  ratioToBatched[workers] = toThousandths(handoffs.perSecond / batchedJobs.perSecond);
  cpu[workers] = {
    freeholdNode: round(handoffs.nodeCpuMicros),
    freeholdRedis: round(handoffs.redisCpuMicros),
    bullmqNode: round(jobs.nodeCpuMicros),
    bullmqRedis: round(jobs.redisCpuMicros),
    bullmqBatchedNode: round(batchedJobs.nodeCpuMicros),
    bullmqBatchedRedis: round(batchedJobs.redisCpuMicros),
  };
  log(
    `  ${workers} worker(s), median: ${round(handoffs.perSecond)} handoffs/s (CPU per handoff: ${round(handoffs.nodeCpuMicros)} us node, ${round(handoffs.redisCpuMicros)} us redis); ` +
      `bare BullMQ ${round(jobs.perSecond)} jobs/s (${round(jobs.nodeCpuMicros)} us node, ${round(jobs.redisCpuMicros)} us redis), ratio ${ratio[workers]} (repeat by repeat ${pairedRatio.min}-${pairedRatio.max}, median ${pairedRatio.median}); ` +
      `with batched writes ${round(batchedJobs.perSecond)} jobs/s (${round(batchedJobs.nodeCpuMicros)} us node, ${round(batchedJobs.redisCpuMicros)} us redis), ratio ${ratioToBatched[workers]}; ` +
      `goal >= ${goal} handoffs/s${workers === 1 ? `, ratio >= ${goalRatio}` : ""}`,
  );
}

await callerQueues.close();
await pool.close();
caller.disconnect();
await redis.stop();

console.log(
  JSON.stringify({
    bench: "handoff-throughput",
    runs: runCount,
    repeats,
    handoffsPerRun: hopsPerRun,
    concurrency,
    workers: workerCounts,
    freeholdHandoffsPerSecond: freeholdPerSecond,
    bullmqJobsPerSecond: bullmqPerSecond,
    bullmqBatchedJobsPerSecond: bullmqBatchedPerSecond,
    ratio,
    ratioPaired,
    ratioToBatched,
    cpuMicrosPerHandoff: cpu,
    goalHandoffsPerSecond: goal,
    goalMet: Object.values(freeholdPerSecond).some((value) => value >= goal),
    goalRatio,
    // Measured with one worker only (BENCH_WORKERS without 1: null).
    goalRatioMet: ratio[1] === undefined ? null : ratio[1] >= goalRatio,
  }),
);
