/**
 * cold-start: from spawning a `freehold worker` process (a run already waiting on its queue) to its
 * first model call, against a baseline in the same run: a bare Node process that only sends the
 * same request. Interleaved, `BENCH_SAMPLES` (7) of each; medians.
 *
 * The headline starts the worker as the runtime image does: its `freehold` script, which starts it
 * from the worker's startup snapshot (its modules loaded and ready: packages/cli/src/worker-snapshot.ts).
 * Measured too: the same worker from the bundle's modules, with Node's compile cache warmed (what
 * the image ran before it had a snapshot; here one unmeasured start warms a fresh folder), and with
 * the compile cache off (NODE_DISABLE_COMPILE_CACHE=1: every module compiled at start). Goal: the
 * headline <= 150 ms and <= 2x the bare Node process. Prints one JSON line.
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
  round1,
  startWorker,
  writeConfig,
  type CompileCache,
  type WorkerStart,
} from "./worker-process.ts";

const samples = Number(process.env.BENCH_SAMPLES ?? 7);
const goalMs = 150;
const goalRatio = 2;
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const model = await startScriptedModelServer({ script: { turns: [{ text: "hello" }], loop: true } });
const counter = await startCounterServer({ transport: "http" });
const redis = await startRedisServer();
const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
const store = createRunStore(connection);
const queues = createAgentQueues(connection);
await ensureBundle();
const config = writeConfig(model.baseUrl, counter.url);
const warmed: CompileCache = { directory: compileCacheDirectory() };

async function untilRequests(count: number): Promise<void> {
  while (model.requests.length < count) await new Promise((resolve) => setTimeout(resolve, 1));
}

async function worker(compileCache: CompileCache, from: WorkerStart): Promise<number> {
  await startRun({ redis: connection, store, queues }, { namespace: "bench", agent: "adder", input: "hi" });
  const before = model.requests.length;
  const started = performance.now();
  const { child } = startWorker(config, redis.url, 1, compileCache, from);
  await untilRequests(before + 1);
  const elapsed = performance.now() - started;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  // SIGTERM: the worker exits cleanly, writing what it compiled to the cache (the warm-up start).
  child.kill("SIGTERM");
  await exited;
  return elapsed;
}

async function bare(): Promise<number> {
  const before = model.requests.length;
  const started = performance.now();
  const body = JSON.stringify({ model: "scripted-model", messages: [{ role: "user", content: "hi" }] });
  const child = spawn(process.execPath, [
    "-e",
    `fetch(${JSON.stringify(`${model.baseUrl}/chat/completions`)}, { method: "POST", headers: { "content-type": "application/json" }, body: ${JSON.stringify(body)} })`,
  ]);
  await untilRequests(before + 1);
  const elapsed = performance.now() - started;
  child.kill("SIGKILL");
  return elapsed;
}

log(`cold-start: warming the compile cache (one unmeasured start), then ${samples} of each, interleaved`);
await worker(warmed, "bundle");
const imageMs: number[] = [];
const bundleMs: number[] = [];
const uncachedMs: number[] = [];
const bareMs: number[] = [];
for (let index = 0; index < samples; index += 1) {
  imageMs.push(await worker(warmed, "image"));
  bundleMs.push(await worker(warmed, "bundle"));
  uncachedMs.push(await worker("none", "bundle"));
  bareMs.push(await bare());
  log(
    `  worker ${Math.round(imageMs.at(-1) ?? 0)} ms (from the bundle: ${Math.round(bundleMs.at(-1) ?? 0)} ms, compile cache off ${Math.round(uncachedMs.at(-1) ?? 0)} ms), bare node ${Math.round(bareMs.at(-1) ?? 0)} ms`,
  );
}
await queues.close();
connection.disconnect();
await redis.stop();
await counter.close();
await model.close();

const worker50 = median(imageMs);
const bundle50 = median(bundleMs);
const uncached50 = median(uncachedMs);
const bare50 = median(bareMs);
log(
  `worker to first model call ${round1(worker50)} ms (goal <= ${goalMs} ms), bare node ${round1(bare50)} ms, ratio ${(worker50 / bare50).toFixed(2)} (goal <= ${goalRatio}); from the bundle ${round1(bundle50)} ms, compile cache off ${round1(uncached50)} ms`,
);
console.log(
  JSON.stringify({
    bench: "cold-start",
    samples,
    workerToFirstModelCallMs: round1(worker50),
    bareNodeToFirstRequestMs: round1(bare50),
    ratio: Math.round((worker50 / bare50) * 100) / 100,
    goalMs,
    goalRatio,
    goalMet: worker50 <= goalMs && worker50 / bare50 <= goalRatio,
    fromBundleMs: round1(bundle50),
    fromBundleRatio: round1(bundle50 / bare50),
    compileCacheOffMs: round1(uncached50),
    compileCacheOffRatio: round1(uncached50 / bare50),
  }),
);
