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
 * headline <= 150 ms and <= 2x the bare Node process. Also measured, beside each sample, the part
 * of a start that is V8 deserializing the heap it starts from (`--profile-deserialization`): the
 * worker's startup snapshot against bare Node's built-in one. Prints one JSON line.
 */
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { createAgentQueues, createRunStore, startRedisServer, startRun } from "@freehold/handoff";
import { startScriptedModelServer } from "@freehold/models";
import { Redis } from "ioredis";
import { cliBundleDirectory } from "../packages/cli/scripts/build.ts";
import { imageEnvironment } from "../test/fixtures/image-environment.ts";
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

/**
 * Milliseconds V8 takes to deserialize the heap a process starts from (`--profile-deserialization`:
 * its read-only space, isolate and context, and the few code caches read as it starts, summed): the
 * worker's startup snapshot (`worker --help`: the heap is read before any command runs; with the
 * image's environment, as the worker starts) or bare Node's own (`-e 0`, in this process's
 * environment, as the baseline starts).
 */
function deserializationMs(from: "snapshot" | "bare"): number {
  const { NODE_OPTIONS: _options, ...withoutOptions } = process.env;
  const args =
    from === "snapshot"
      ? ["--snapshot-blob", join(cliBundleDirectory, "worker.blob"), "worker", "--help"]
      : ["-e", "0"];
  const started = spawnSync(process.execPath, ["--profile-deserialization", ...args], {
    encoding: "utf8",
    // As startWorker and bare() start them: the image's settings in place of this process's options.
    env: from === "snapshot" ? { ...withoutOptions, ...imageEnvironment() } : process.env,
  });
  const times = [...started.stdout.matchAll(/^\[Deserializing .* took ([0-9.]+) ms\]$/gm)].map(([, ms]) =>
    Number(ms),
  );
  if (started.status !== 0 || times.length === 0) {
    throw new Error(
      `node --profile-deserialization ${args.join(" ")} exited with ${String(started.status)} and printed no deserialization times:\n${started.stderr}`,
    );
  }
  return times.reduce((sum, ms) => sum + ms, 0);
}

log(`cold-start: warming the compile cache (one unmeasured start), then ${samples} of each, interleaved`);
await worker(warmed, "bundle");
const imageMs: number[] = [];
const bundleMs: number[] = [];
const uncachedMs: number[] = [];
const bareMs: number[] = [];
const snapshotDeserializationMs: number[] = [];
const bareDeserializationMs: number[] = [];
for (let index = 0; index < samples; index += 1) {
  imageMs.push(await worker(warmed, "image"));
  bundleMs.push(await worker(warmed, "bundle"));
  uncachedMs.push(await worker("none", "bundle"));
  bareMs.push(await bare());
  snapshotDeserializationMs.push(deserializationMs("snapshot"));
  bareDeserializationMs.push(deserializationMs("bare"));
  log(
    `  worker ${Math.round(imageMs.at(-1) ?? 0)} ms (from the bundle: ${Math.round(bundleMs.at(-1) ?? 0)} ms, compile cache off ${Math.round(uncachedMs.at(-1) ?? 0)} ms), bare node ${Math.round(bareMs.at(-1) ?? 0)} ms; ` +
      `deserializing the startup snapshot ${round1(snapshotDeserializationMs.at(-1) ?? 0)} ms, bare node's ${round1(bareDeserializationMs.at(-1) ?? 0)} ms`,
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
const snapshotDeserialization50 = median(snapshotDeserializationMs);
const bareDeserialization50 = median(bareDeserializationMs);
log(
  `worker to first model call ${round1(worker50)} ms (goal <= ${goalMs} ms), bare node ${round1(bare50)} ms, ratio ${(worker50 / bare50).toFixed(2)} (goal <= ${goalRatio}); from the bundle ${round1(bundle50)} ms, compile cache off ${round1(uncached50)} ms; ` +
    `V8 deserializing the startup snapshot ${round1(snapshotDeserialization50)} ms, bare node's own ${round1(bareDeserialization50)} ms`,
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
    snapshotDeserializationMs: round1(snapshotDeserialization50),
    bareNodeDeserializationMs: round1(bareDeserialization50),
  }),
);
