/**
 * worker-memory: resident memory of a `freehold worker` idle, and with 100 runs in progress at once
 * (each waiting on a slow model call), against a baseline in the same run: an idle bare Node
 * process. Prints one JSON line.
 */
import { spawn } from "node:child_process";
import { createAgentQueues, createRunStore, startRedisServer, startRun } from "@freehold/handoff";
import { startScriptedModelServer } from "@freehold/models";
import { Redis } from "ioredis";
import { startCounterServer } from "../test/fixtures/mcp/counter-server.ts";
import { residentMb, round1, startWorker, writeConfig } from "./worker-process.ts";

const concurrent = 100;
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const model = await startScriptedModelServer({
  script: { turns: [{ text: "done", delayMs: 4000 }], loop: true },
});
const counter = await startCounterServer({ transport: "http" });
const redis = await startRedisServer();
const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
const store = createRunStore(connection);
const queues = createAgentQueues(connection);

const baseline = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"]);
const { child, ready } = startWorker(writeConfig(model.baseUrl, counter.url), redis.url, concurrent);
await ready;
await settle(2000);
const pid = child.pid ?? 0;
const idleMb = residentMb(pid);
const baselineMb = residentMb(baseline.pid ?? 0);
log(
  `worker-memory: idle worker ${round1(idleMb)} MiB, bare node ${round1(baselineMb)} MiB; starting ${concurrent} runs`,
);

for (let index = 0; index < concurrent; index += 1) {
  await startRun(
    { redis: connection, store, queues },
    { namespace: "bench", agent: "adder", input: `run ${index}` },
  );
}
const deadline = Date.now() + 30_000;
while (model.requests.length < concurrent && Date.now() < deadline) await settle(10);
let peakMb = 0;
for (let sample = 0; sample < 10; sample += 1) {
  peakMb = Math.max(peakMb, residentMb(pid));
  await settle(100);
}
log(`  ${model.requests.length} runs waiting on the model at once: ${round1(peakMb)} MiB`);

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
    concurrentRuns: concurrent,
    loadedMb: round1(peakMb),
    perRunKb: Math.round(((peakMb - idleMb) * 1024) / concurrent),
    bareNodeMb: round1(baselineMb),
    idleRatio: round1(idleMb / baselineMb),
  }),
);
