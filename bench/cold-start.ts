/**
 * cold-start: from spawning a `freehold worker` process (a run already waiting on its queue) to its
 * first model call, against a baseline in the same run: a bare Node process that only sends the
 * same request. Five of each, interleaved; prints the medians and the ratio as one JSON line.
 */
import { spawn } from "node:child_process";
import { createAgentQueues, createRunStore, startRedisServer, startRun } from "@freehold/handoff";
import { startScriptedModelServer } from "@freehold/models";
import { Redis } from "ioredis";
import { startCounterServer } from "../test/fixtures/mcp/counter-server.ts";
import { median, round1, startWorker, writeConfig } from "./worker-process.ts";

const samples = Number(process.env.BENCH_SAMPLES ?? 5);
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const model = await startScriptedModelServer({ script: { turns: [{ text: "hello" }], loop: true } });
const counter = await startCounterServer({ transport: "http" });
const redis = await startRedisServer();
const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
const store = createRunStore(connection);
const queues = createAgentQueues(connection);
const config = writeConfig(model.baseUrl, counter.url);

async function untilRequests(count: number): Promise<void> {
  while (model.requests.length < count) await new Promise((resolve) => setTimeout(resolve, 1));
}

async function worker(): Promise<number> {
  await startRun({ redis: connection, store, queues }, { namespace: "bench", agent: "adder", input: "hi" });
  const before = model.requests.length;
  const started = performance.now();
  const { child } = startWorker(config, redis.url, 1);
  await untilRequests(before + 1);
  const elapsed = performance.now() - started;
  child.kill("SIGKILL");
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

log(`cold-start: ${samples} worker starts and ${samples} bare Node starts, interleaved`);
const workerMs: number[] = [];
const bareMs: number[] = [];
for (let index = 0; index < samples; index += 1) {
  workerMs.push(await worker());
  bareMs.push(await bare());
  log(`  worker ${Math.round(workerMs.at(-1) ?? 0)} ms, bare node ${Math.round(bareMs.at(-1) ?? 0)} ms`);
}
await queues.close();
connection.disconnect();
await redis.stop();
await counter.close();
await model.close();

const worker50 = median(workerMs);
const bare50 = median(bareMs);
console.log(
  JSON.stringify({
    bench: "cold-start",
    samples,
    workerToFirstModelCallMs: round1(worker50),
    bareNodeToFirstRequestMs: round1(bare50),
    ratio: round1(worker50 / bare50),
  }),
);
