/**
 * loop-overhead: what Freehold's loop costs per step over a bare hand-written loop on the same
 * SDKs. The same scripted conversation (10 tool-calling steps, then an answer) runs through both,
 * interleaved, against the scripted model server on loopback and the counter MCP server in this
 * process (over streamable HTTP):
 *
 * - bare: `LanguageModel.generate` and the MCP SDK's `Client.callTool` in a plain while loop;
 * - freehold: `runLoop` with the tool broker (allow-lists, schema validation, idempotency keys,
 *   events, spans, a checkpoint per step kept in memory);
 * - freehold + Redis: the same with every checkpoint written to a real Redis;
 * - + quotas: the same with the tenants' quotas a worker enforces (a tokens check before each model
 *   call, the call's tokens counted after it), in a namespace without a tenant and in a tenant's.
 *
 * Prints progress, then one JSON line with the medians per step and the ratio.
 */
import { randomUUID } from "node:crypto";
import { AgentSpec, type ChatMessage, type RunState } from "@freehold/api";
import { createQuotas, createRunStore, newRun, startRedisServer, writeTenancy } from "@freehold/handoff";
import { createMcpPool, createToolBroker } from "@freehold/mcp";
import { createLanguageModel, startScriptedModelServer } from "@freehold/models";
import { runLoop } from "@freehold/runtime";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Redis } from "ioredis";
import { startCounterServer } from "../test/fixtures/mcp/counter-server.ts";

const steps = 10;
const rounds = Number(process.env.BENCH_ROUNDS ?? 40);
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
const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
const store = createRunStore(connection);
const quotas = createQuotas(connection);
await writeTenancy(connection, {
  tenant: "bench",
  namespaces: ["bench-tenant"],
  limits: { runsPerMinute: 1_000_000, tokensPerDay: 1_000_000_000 },
});
const languageModel = createLanguageModel({
  provider: "openai-compatible",
  model: "scripted-model",
  baseUrl: model.baseUrl,
  timeoutSeconds: 60,
  maxRetries: 0,
});
const pool = createMcpPool({ counter: { transport: "http", url: counter.url } });
const broker = createToolBroker(pool, [{ server: "counter", allow: ["add"] }]);
const spec = AgentSpec.parse({
  model: { ref: "scripted" },
  instructions: "Add.",
  tools: [{ mcpServer: "counter", allow: ["add"] }],
  limits: { maxSteps: steps + 5 },
});
const client = new Client({ name: "bare", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(new URL(counter.url)));
const { tools } = await client.listTools();
const addTool = tools.find((tool) => tool.name === "add");
if (addTool === undefined) throw new Error("the counter server has no add tool");

/** The bare loop: model, tools, model, ... until an answer. Returns model calls made. */
async function bare(): Promise<number> {
  const messages: ChatMessage[] = [
    { role: "system", content: "Add." },
    { role: "user", content: "Count to ten." },
  ];
  for (let call = 1; ; call += 1) {
    const result = await languageModel.generate({
      messages,
      tools: [
        { name: "add", description: addTool?.description ?? "", inputSchema: addTool?.inputSchema ?? {} },
      ],
    });
    messages.push(result.message);
    const toolCalls = result.message.toolCalls ?? [];
    if (toolCalls.length === 0) return call;
    for (const toolCall of toolCalls) {
      const output = await client.callTool({
        name: toolCall.name,
        arguments: JSON.parse(toolCall.arguments) as Record<string, unknown>,
      });
      const content = (output.content as { type: string; text?: string }[])
        .map((block) => block.text ?? "")
        .join("");
      messages.push({ role: "tool", toolCallId: toolCall.id, name: toolCall.name, content });
    }
  }
}

function freshRun(namespace = "bench"): RunState {
  return newRun({ id: randomUUID(), namespace, agent: "adder", input: "Count to ten." });
}

const agent = {
  namespace: "bench",
  name: "adder",
  spec,
  model: languageModel,
  broker,
  specials: [],
  humanQueues: new Map(),
};

/** Freehold's loop, checkpoints in memory (revision bumped as the store does). */
async function freehold(): Promise<number> {
  const outcome = await runLoop(freshRun(), {
    agent,
    checkpoint: (previous, next) =>
      Promise.resolve({ ...next, revision: previous.revision + 1, updatedAt: new Date().toISOString() }),
  });
  if (outcome.state.status !== "completed") throw new Error(`run ended ${outcome.state.status}`);
  return outcome.state.steps;
}

/** Freehold's loop, checkpoints in Redis. */
async function durable(): Promise<number> {
  const run = freshRun();
  await store.create(run, []);
  const outcome = await runLoop(run, {
    agent,
    checkpoint: (previous, next, events) => store.checkpoint(previous, next, events),
  });
  if (outcome.state.status !== "completed") throw new Error(`run ended ${outcome.state.status}`);
  return outcome.state.steps;
}

/** Freehold's loop, checkpoints in Redis, quotas enforced (in a tenant's namespace or not). */
async function withQuotas(namespace: string): Promise<number> {
  const run = freshRun(namespace);
  await store.create(run, []);
  const outcome = await runLoop(run, {
    agent: { ...agent, namespace },
    checkpoint: (previous, next, events) => store.checkpoint(previous, next, events),
    quotas,
  });
  if (outcome.state.status !== "completed") throw new Error(`run ended ${outcome.state.status}`);
  return outcome.state.steps;
}
const untenanted = (): Promise<number> => withQuotas("bench");
const tenanted = (): Promise<number> => withQuotas("bench-tenant");

async function timePerStep(loop: () => Promise<number>): Promise<number> {
  const started = process.hrtime.bigint();
  const modelCalls = await loop();
  return Number(process.hrtime.bigint() - started) / 1e6 / modelCalls;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

log(`loop-overhead: ${rounds} rounds of ${steps} tool-calling steps + 1 answer, interleaved; warming up`);
for (let index = 0; index < 5; index += 1) {
  await bare();
  await freehold();
  await durable();
  await untenanted();
  await tenanted();
}
const samples = {
  bare: [] as number[],
  freehold: [] as number[],
  durable: [] as number[],
  untenanted: [] as number[],
  tenanted: [] as number[],
};
for (let round = 0; round < rounds; round += 1) {
  samples.bare.push(await timePerStep(bare));
  samples.freehold.push(await timePerStep(freehold));
  samples.durable.push(await timePerStep(durable));
  samples.untenanted.push(await timePerStep(untenanted));
  samples.tenanted.push(await timePerStep(tenanted));
  if ((round + 1) % 10 === 0) log(`  ${round + 1}/${rounds} rounds`);
}

const bareMs = median(samples.bare);
const freeholdMs = median(samples.freehold);
const durableMs = median(samples.durable);
const untenantedMs = median(samples.untenanted);
const tenantedMs = median(samples.tenanted);
const round3 = (value: number): number => Math.round(value * 1000) / 1000;
log(
  `bare ${round3(bareMs)} ms/step, freehold ${round3(freeholdMs)} ms/step, freehold + Redis checkpoints ${round3(durableMs)} ms/step, ` +
    `+ quotas without a tenant ${round3(untenantedMs)} ms/step, + quotas of a tenant ${round3(tenantedMs)} ms/step`,
);

await client.close();
await pool.close();
connection.disconnect();
await redis.stop();
await counter.close();
await model.close();

console.log(
  JSON.stringify({
    bench: "loop-overhead",
    steps: steps + 1,
    rounds,
    freeholdMsPerStep: round3(freeholdMs),
    bareMsPerStep: round3(bareMs),
    ratio: round3(freeholdMs / bareMs),
    overheadMsPerStep: round3(freeholdMs - bareMs),
    durableMsPerStep: round3(durableMs),
    durableRatio: round3(durableMs / bareMs),
    quotasUntenantedMsPerStep: round3(untenantedMs),
    quotasTenantMsPerStep: round3(tenantedMs),
    quotasUntenantedOverheadMsPerStep: round3(untenantedMs - durableMs),
    quotasTenantOverheadMsPerStep: round3(tenantedMs - durableMs),
  }),
);
