/**
 * loop-overhead: what a durable Freehold run costs per step over a bare loop doing the same work.
 * The same scripted conversation (10 tool-calling steps, then an answer) runs through each,
 * interleaved, against the scripted model server on loopback and the counter MCP server in this
 * process (over streamable HTTP):
 *
 * - bare (the baseline): the official `openai` client's `chat.completions.create` and the MCP SDK's
 *   `Client.callTool` in a plain while loop, the conversation in memory;
 * - durable (the headline): the path real workers take. `startRun` queues the run, and a runtime
 *   worker (`createRuntime` from a RuntimeConfig, `createRuntimeWorker` on a real `redis-server`
 *   this bench starts, the tenants' quotas it enforces by default) picks the job from BullMQ and runs
 *   the loop, checkpointing every step in Redis; the clock stops when the worker logs the run's end.
 *   `add` is annotated read-only (policy `retry`): each call leaves while the answer that makes it
 *   is being written, and its result goes with the next answer.
 *   Its model calls and MCP requests go through `httpFetch` (`@freehold/models`, over `node:http`),
 *   as every worker's do, where the bare loop's clients use the global fetch;
 * - durable with the global fetch: the same worker given the global fetch instead (`createRuntime`'s
 *   `fetch` option), so the two HTTP stacks are alike: what is left over bare is the cost of the
 *   checkpoints, the queue and the run store alone;
 * - durable, tool results written before the next answer: the same worker and agent, but `add`'s
 *   `onInterrupt` set to `fail` (every tool's default that its server does not annotate read-only or
 *   idempotent), so each call waits for its answer's write to be stored, and each result is written
 *   on its own as the call returns (two writes per step, not one), the model asked again while that
 *   write is in flight;
 * - durable in a tenant's namespace: the same, for an agent in a namespace given to a Tenant (with
 *   `runsPerMinute` and `tokensPerDay` set too high to be reached), so the worker also counts each
 *   model call's tokens and checks the tenant's day before the call, as for every tenant's run;
 * - loop in memory, loop + Redis: `runLoop` called directly with checkpoints kept in memory, or
 *   written to the Redis run store, with no queue: they show where the durable overhead goes.
 *
 * The loops take turns within each round, each round starting one loop further on, so each runs in
 * every position equally often. Headline: overhead = durable - bare, in ms per step (model call);
 * goal <= 0.2 ms/step. Prints
 * progress, then one JSON line with the medians per step and the ratios.
 */
// First, as the `freehold worker` process: zod reads it as it builds the schemas other modules build.
import "@freehold/api/interpreted-parsing";
import { randomUUID } from "node:crypto";
import { type RunState } from "@freehold/api";
import {
  createAgentQueues,
  createQuotas,
  createRunStore,
  newRun,
  startRedisServer,
  startRun,
  writeTenancy,
  connectRedis,
} from "@freehold/handoff";
import { startScriptedModelServer } from "@freehold/models";
import { createRuntime, createRuntimeWorker, runLoop } from "@freehold/runtime";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import OpenAI from "openai";
import type { ChatCompletionMessageParam, ChatCompletionTool } from "openai/resources/chat/completions";
import { startCounterServer } from "../test/fixtures/mcp/counter-server.ts";
import { benchConfig, median, runEnds, timePerStep, type Timed } from "./worker-process.ts";

const steps = 10;
const rounds = Number(process.env.BENCH_ROUNDS ?? 40);
const goalMsPerStep = 0.2;
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const turns = [
  ...Array.from({ length: steps }, (_, index) => ({
    toolCalls: [{ name: "add", arguments: { a: index, b: 1 } }],
  })),
  { text: "done" },
];
const model = await startScriptedModelServer({ script: { turns } });
const counter = await startCounterServer({ transport: "http" });
const redis = await startRedisServer();
const connection = connectRedis(redis.url, { maxRetriesPerRequest: null });
const store = createRunStore(connection);
const queues = createAgentQueues(connection);
// Runs start as the gateway starts them: one Quotas (its tenancy cache) for every request.
const quotas = createQuotas(connection);

const ends = runEnds();
const workerConnection = connectRedis(redis.url, { maxRetriesPerRequest: null });

/** Freehold: the runtime a worker builds from its configuration (agent `adder` in `namespace`), and the worker. */
async function startWorker(namespace: string, fetch?: typeof globalThis.fetch, addPolicy?: "fail") {
  const runtime = await createRuntime(
    benchConfig(model.baseUrl, counter.url, { maxSteps: steps + 5 }, namespace, addPolicy),
    {
      resolveSecret: () => Promise.reject(new Error("the bench uses no Secret")),
      ...(fetch === undefined ? {} : { fetch }),
    },
  );
  const worker = createRuntimeWorker({
    connection: workerConnection,
    store: createRunStore(workerConnection),
    agents: runtime.agents,
    log: ends.log,
  });
  await worker.ready();
  return { runtime, worker };
}
const { runtime, worker } = await startWorker("bench");
const agent = runtime.agent("adder");

// The same agent in a tenant's namespace (limits and namespace written with writeTenancy), on a second
// runtime and worker in this process. That worker shares `workerConnection` (Redis's default user,
// the admin connection) with the untenanted one: no tenant ACL user is made, so it does not connect
// as `freehold-tenant-<name>` as a tenant's worker the operator deploys does.
const tenantNamespace = "bench-tenant";
await writeTenancy(connection, {
  tenant: "bench",
  namespaces: [tenantNamespace],
  limits: { runsPerMinute: 1_000_000_000, tokensPerDay: 1_000_000_000_000 },
});
const { runtime: tenantRuntime, worker: tenantWorker } = await startWorker(tenantNamespace);
// The same agent again, on a worker whose models and MCP connections use the global fetch.
const globalFetchNamespace = "bench-global-fetch";
const { runtime: globalFetchRuntime, worker: globalFetchWorker } = await startWorker(
  globalFetchNamespace,
  (input, init) => fetch(input, init),
);

// The same agent again, with `add`'s interruption policy `fail`: each result written on its own.
const failPolicyNamespace = "bench-fail-policy";
const { runtime: failPolicyRuntime, worker: failPolicyWorker } = await startWorker(
  failPolicyNamespace,
  undefined,
  "fail",
);

// The bare loop's clients: the official OpenAI client and the MCP SDK's Client.
const openai = new OpenAI({ baseURL: model.baseUrl, apiKey: "unused", maxRetries: 0, timeout: 60_000 });
const client = new Client({ name: "bare", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(new URL(counter.url)));
const { tools } = await client.listTools();
const openaiTools: ChatCompletionTool[] = tools
  .filter((tool) => tool.name === "add")
  .map((tool) => ({
    type: "function",
    function: { name: tool.name, description: tool.description ?? "", parameters: tool.inputSchema },
  }));
if (openaiTools.length === 0) throw new Error("the counter server has no add tool");

/** The bare loop: model, tools, model, ... until an answer. Returns the model calls made. */
async function bare(): Promise<number> {
  const messages: ChatCompletionMessageParam[] = [
    { role: "system", content: "Add." },
    { role: "user", content: "Count to ten." },
  ];
  for (let call = 1; ; call += 1) {
    const completion = await openai.chat.completions.create({
      model: "scripted-model",
      messages,
      tools: openaiTools,
    });
    const message = completion.choices[0]?.message;
    if (message === undefined) throw new Error("the model answered no choice");
    messages.push(message);
    const toolCalls = message.tool_calls ?? [];
    if (toolCalls.length === 0) return call;
    for (const toolCall of toolCalls) {
      if (toolCall.type !== "function") continue;
      const output = await client.callTool({
        name: toolCall.function.name,
        arguments: JSON.parse(toolCall.function.arguments) as Record<string, unknown>,
      });
      const content = (output.content as { type: string; text?: string }[])
        .map((block) => block.text ?? "")
        .join("");
      messages.push({ role: "tool", tool_call_id: toolCall.id, content });
    }
  }
}

/** The worker path: start the run as the gateway does; the clock stops when the worker logs its end. */
async function durable(namespace = "bench"): Promise<Timed> {
  const id = randomUUID();
  const done = ends.end(id);
  await startRun(
    { redis: connection, store, queues, quotas },
    { runId: id, namespace, agent: "adder", input: "Count to ten." },
  );
  const { line, at } = await done;
  const state = await store.require(namespace, id);
  if (state.status !== "completed") throw new Error(`run ended ${state.status}: ${line}`);
  return { modelCalls: state.steps, endedAt: at };
}

function freshRun(): RunState {
  return newRun({ id: randomUUID(), namespace: "bench", agent: "adder", input: "Count to ten." });
}

/** `runLoop` called directly, checkpoints in memory (revision bumped as the store does). */
async function loopInMemory(): Promise<number> {
  const outcome = await runLoop(freshRun(), {
    agent,
    checkpoint: (previous, next) =>
      Promise.resolve({ ...next, revision: previous.revision + 1, updatedAt: new Date().toISOString() }),
  });
  if (outcome.state.status !== "completed") throw new Error(`run ended ${outcome.state.status}`);
  return outcome.state.steps;
}

/** `runLoop` called directly, checkpoints in the Redis run store (no queue, no quotas). */
async function loopRedis(): Promise<number> {
  const run = freshRun();
  await store.create(run, []);
  const outcome = await runLoop(run, {
    agent,
    checkpoint: (previous, next, events) => store.checkpoint(previous, next, events),
  });
  if (outcome.state.status !== "completed") throw new Error(`run ended ${outcome.state.status}`);
  return outcome.state.steps;
}

log(`loop-overhead: ${rounds} rounds of ${steps} tool-calling steps + 1 answer, interleaved; warming up`);
const loops = {
  bare,
  durable: () => durable(),
  durableGlobalFetch: () => durable(globalFetchNamespace),
  durableTenant: () => durable(tenantNamespace),
  durableFailPolicy: () => durable(failPolicyNamespace),
  loopInMemory,
  loopRedis,
};
const samples = Object.fromEntries(Object.keys(loops).map((name) => [name, [] as number[]])) as Record<
  keyof typeof loops,
  number[]
>;
for (let index = 0; index < 5; index += 1) for (const loop of Object.values(loops)) await loop();
// Each round starts one loop further on, so every loop runs in every position of a round equally often: a
// loop's place in the order (after which other loop's garbage, say) is no part of its figure.
const order = Object.entries(loops);
for (let round = 0; round < rounds; round += 1) {
  for (let place = 0; place < order.length; place += 1) {
    const entry = order[(round + place) % order.length];
    if (entry === undefined) continue;
    const [name, loop] = entry;
    samples[name as keyof typeof loops].push(await timePerStep(loop));
  }
  if ((round + 1) % 10 === 0) log(`  ${round + 1}/${rounds} rounds`);
}

const bareMs = median(samples.bare);
const durableMs = median(samples.durable);
const durableTenantMs = median(samples.durableTenant);
const durableGlobalFetchMs = median(samples.durableGlobalFetch);
const durableFailPolicyMs = median(samples.durableFailPolicy);
const inMemoryMs = median(samples.loopInMemory);
const redisMs = median(samples.loopRedis);
const round3 = (value: number): number => Math.round(value * 1000) / 1000;
const overhead = durableMs - bareMs;
log(
  `bare (openai + MCP Client) ${round3(bareMs)} ms/step; durable (worker, Redis) ${round3(durableMs)} ms/step, ` +
    `ratio ${round3(durableMs / bareMs)}, overhead ${round3(overhead)} ms/step (goal <= ${goalMsPerStep}); ` +
    `durable with the global fetch ${round3(durableGlobalFetchMs)} ms/step (overhead ${round3(durableGlobalFetchMs - bareMs)}); ` +
    `durable in a tenant's namespace ${round3(durableTenantMs)} ms/step (overhead ${round3(durableTenantMs - bareMs)}); ` +
    `durable, add's policy fail (each result written on its own) ${round3(durableFailPolicyMs)} ms/step (overhead ${round3(durableFailPolicyMs - bareMs)}); ` +
    `runLoop in memory ${round3(inMemoryMs)} ms/step, runLoop + Redis store ${round3(redisMs)} ms/step`,
);

await worker.close();
await tenantWorker.close();
await globalFetchWorker.close();
await failPolicyWorker.close();
await runtime.close();
await tenantRuntime.close();
await globalFetchRuntime.close();
await failPolicyRuntime.close();
await client.close();
await queues.close();
workerConnection.disconnect();
connection.disconnect();
await redis.stop();
await counter.close();
await model.close();

console.log(
  JSON.stringify({
    bench: "loop-overhead",
    steps: steps + 1,
    rounds,
    durableMsPerStep: round3(durableMs),
    bareMsPerStep: round3(bareMs),
    ratio: round3(durableMs / bareMs),
    overheadMsPerStep: round3(overhead),
    goalOverheadMsPerStep: goalMsPerStep,
    goalMet: overhead <= goalMsPerStep,
    durableGlobalFetchMsPerStep: round3(durableGlobalFetchMs),
    globalFetchOverheadMsPerStep: round3(durableGlobalFetchMs - bareMs),
    durableTenantMsPerStep: round3(durableTenantMs),
    tenantOverheadMsPerStep: round3(durableTenantMs - bareMs),
    durableFailPolicyMsPerStep: round3(durableFailPolicyMs),
    failPolicyOverheadMsPerStep: round3(durableFailPolicyMs - bareMs),
    loopInMemoryMsPerStep: round3(inMemoryMs),
    loopRedisMsPerStep: round3(redisMs),
  }),
);
