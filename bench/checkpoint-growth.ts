/**
 * checkpoint-growth: whether a step's checkpoint costs more as the run grows. Two runs through
 * Freehold's loop, checkpointed in a real Redis the bench starts (the path a worker takes), with
 * the counter MCP server over streamable HTTP and a model answering in this process:
 *
 * - long: 999 tool-calling steps and an answer (1,000 model calls, the most an Agent allows), each
 *   step adding about 200 tokens (a 400-character argument and its echo), so the conversation
 *   reaches about 200k tokens;
 * - large: 100 steps whose tool returns 1 MiB each (`bytes`, a different text each time), then an
 *   answer.
 *
 * For each step: the bytes Redis received during its checkpoints (`total_net_input_bytes`, read
 * from the server before and after each one, the reads' own bytes taken off) and the time its
 * checkpoints took (`ms`), and the whole step (`stepMs`: model, tool call, checkpoints, and this
 * bench's reads of the counter). Figures are medians over the steps around steps 10 (6–15), 100
 * and 1,000 (50 steps, ending at the last tool step: 999 for the long run, 100 for the large one). Goal: at step 1,000 within 1.5× of
 * step 10, and both runs complete. A baseline in the same run: the long run again, each checkpoint
 * writing the whole run state as one value (what a store without an append-only layout does; the
 * large run is left out of it: at 1 MiB more per step it writes about 10 GB).
 *
 * Prints progress, then one JSON line.
 */
// First, as the `freehold worker` process: zod reads it as it builds the schemas other modules build.
import "@freehold/api/interpreted-parsing";
import { randomUUID } from "node:crypto";
import { AgentSpec, type RunEvent, type RunState } from "@freehold/api";
import { createRunStore, newRun, startRedisServer, connectRedis } from "@freehold/handoff";
import { createMcpPool, createToolBroker } from "@freehold/mcp";
import type { GenerateResult, LanguageModel, StreamPart } from "@freehold/models";
import { runLoop, type Checkpoint } from "@freehold/runtime";
import { Redis } from "ioredis";
import { startCounterServer } from "../test/fixtures/mcp/counter-server.ts";
import { median } from "./stats.ts";

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** A model that calls `tool` with `argumentsOf(step)` until `steps` tool steps are done, then answers. */
function scriptedModel(steps: number, tool: string, argumentsOf: (step: number) => string): LanguageModel {
  let calls = 0;
  const generate = (): Promise<GenerateResult> => {
    calls += 1;
    // One tool call a step: the step is the call's number (counted, so the model costs the same at every step).
    const step = calls;
    const usage = { inputTokens: 1, outputTokens: 1 };
    if (step > steps) {
      return Promise.resolve({
        message: { role: "assistant", content: "done" },
        usage,
        finishReason: "stop",
        model: "bench",
      });
    }
    return Promise.resolve({
      message: {
        role: "assistant",
        content: "",
        toolCalls: [{ id: `call_${calls}`, name: tool, arguments: argumentsOf(step) }],
      },
      usage,
      finishReason: "tool-calls",
      model: "bench",
    });
  };
  return {
    provider: "openai-compatible",
    modelId: "bench",
    generate,
    async *stream(): AsyncIterable<StreamPart> {
      yield { type: "finish", result: await generate() };
    },
  };
}

const redisServer = await startRedisServer();
const connection = connectRedis(redisServer.url, { maxRetriesPerRequest: null });
const probe = new Redis(redisServer.url, { maxRetriesPerRequest: null });
const counter = await startCounterServer({ transport: "http" });
const pool = createMcpPool({ counter: { transport: "http", url: counter.url } });
const store = createRunStore(connection);

async function receivedBytes(): Promise<number> {
  const stats = await probe.info("stats");
  return Number(/total_net_input_bytes:(\d+)/.exec(stats)?.[1] ?? Number.NaN);
}
// What one read of the counter adds to it.
const probeBytes = -(await receivedBytes()) + (await receivedBytes());

/** The baseline: the whole state as one value, with the step's events, in one transaction. */
const wholeState: Checkpoint = async (previous, next, events: readonly RunEvent[]) => {
  const stored = { ...next, revision: previous.revision + 1, updatedAt: new Date().toISOString() };
  const key = `baseline:${stored.id}`;
  const transaction = connection
    .multi()
    .hset(key, "state", JSON.stringify(stored), "revision", stored.revision);
  for (const event of events) transaction.xadd(`${key}:events`, "*", "event", JSON.stringify(event));
  await transaction.exec();
  return stored;
};

interface StepCost {
  bytes: number;
  ms: number;
  /** When its first checkpoint started (ns). */
  readonly startedAt: bigint;
}

interface RunFigures {
  readonly status: string;
  readonly steps: number;
  readonly tokens: number;
  readonly at: Record<string, { bytes: number; ms: number; stepMs: number }>;
}

async function measure(
  name: string,
  steps: number,
  tool: string,
  argumentsOf: (step: number) => string,
  checkpoint: Checkpoint,
  points: readonly number[],
): Promise<RunFigures> {
  const spec = AgentSpec.parse({
    model: { ref: "bench" },
    instructions: "Call the tool.",
    tools: [{ mcpServer: "counter", allow: [tool] }],
    limits: { maxSteps: 1000, timeoutSeconds: 3600 },
  });
  const agent = {
    namespace: "bench",
    name: "grower",
    spec,
    model: scriptedModel(steps, tool, argumentsOf),
    broker: createToolBroker(pool, [{ server: "counter", allow: [tool] }]),
    specials: [],
    humanQueues: new Map(),
  };
  const costs = new Map<number, StepCost>();
  const measured: Checkpoint = async (previous, next, events, extra) => {
    const before = await receivedBytes();
    const started = process.hrtime.bigint();
    const step = Math.max(1, next.steps);
    const stored = await checkpoint(previous, next, events, extra);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const bytes = (await receivedBytes()) - before - probeBytes;
    // A step's checkpoints: from its model call's to the one before the next model call.
    const cost = costs.get(step) ?? { bytes: 0, ms: 0, startedAt: started };
    cost.bytes += bytes;
    cost.ms += ms;
    costs.set(step, cost);
    if (next.steps !== previous.steps && next.steps % 100 === 0) log(`  ${name}: step ${next.steps}`);
    return stored;
  };
  const run: RunState = newRun({ id: randomUUID(), namespace: "bench", agent: "grower", input: "Go." });
  await store.create(run, []);
  const outcome = await runLoop(run, { agent, checkpoint: measured });
  const characters = outcome.state.messages.reduce(
    (total, message) =>
      total +
      message.content.length +
      (message.role === "assistant"
        ? (message.toolCalls ?? []).reduce((sum, call) => sum + call.arguments.length, 0)
        : 0),
    0,
  );
  const at: Record<string, { bytes: number; ms: number; stepMs: number }> = {};
  const round3 = (value: number): number => Math.round(value * 1000) / 1000;
  for (const point of points) {
    // Around the point: 10 steps at step 10, 50 further on (this machine is noisy).
    const size = point <= 10 ? 10 : 50;
    const last = Math.min(point + Math.floor(size / 2), steps);
    const window = Array.from({ length: size }, (_, index) => last - index).filter((step) =>
      costs.has(step + 1),
    );
    const cost = (step: number): StepCost => costs.get(step) ?? { bytes: 0, ms: 0, startedAt: 0n };
    at[String(point)] = {
      bytes: median(window.map((step) => cost(step).bytes)),
      ms: round3(median(window.map((step) => cost(step).ms))),
      // The whole step, model and tool call too (and this bench's two reads per checkpoint).
      stepMs: round3(
        median(window.map((step) => Number(cost(step + 1).startedAt - cost(step).startedAt) / 1e6)),
      ),
    };
  }
  return { status: outcome.state.status, steps: outcome.state.steps, tokens: Math.round(characters / 4), at };
}

const longArguments = (step: number): string =>
  JSON.stringify({ text: `${String(step).padStart(4, "0")} ${"lorem ipsum ".repeat(33)}` });
// Each result its own text: identical ones would be stored once.
const largeArguments = (step: number): string =>
  JSON.stringify({ size: 1024 * 1024, seed: `result ${step} ` });
const freehold: Checkpoint = (previous, next, events, extra) =>
  store.checkpoint(previous, next, events, extra);

log("checkpoint-growth: long run (999 tool steps, ~200k tokens), Freehold's store");
const long = await measure("long", 999, "echo", longArguments, freehold, [10, 100, 999]);
log("checkpoint-growth: large run (100 tool results of 1 MiB), Freehold's store");
const large = await measure("large", 100, "bytes", largeArguments, freehold, [10, 100]);
log("checkpoint-growth: long run again, baseline (whole state per checkpoint)");
const baselineLong = await measure("baseline long", 999, "echo", longArguments, wholeState, [10, 100, 999]);

const ratio = (figures: RunFigures, last: string, key: "bytes" | "ms" | "stepMs"): number =>
  Math.round(((figures.at[last]?.[key] ?? Number.NaN) / (figures.at["10"]?.[key] ?? Number.NaN)) * 100) / 100;
const result = {
  bench: "checkpoint-growth",
  goal: "bytes and ms per step at step 1,000 within 1.5x of step 10; both runs complete",
  long: {
    ...long,
    bytesRatio: ratio(long, "999", "bytes"),
    msRatio: ratio(long, "999", "ms"),
    stepMsRatio: ratio(long, "999", "stepMs"),
  },
  large: {
    ...large,
    bytesRatio: ratio(large, "100", "bytes"),
    msRatio: ratio(large, "100", "ms"),
    stepMsRatio: ratio(large, "100", "stepMs"),
  },
  baseline: {
    long: {
      ...baselineLong,
      bytesRatio: ratio(baselineLong, "999", "bytes"),
      msRatio: ratio(baselineLong, "999", "ms"),
      stepMsRatio: ratio(baselineLong, "999", "stepMs"),
    },
  },
};
log(
  `long run (${long.status}, ${long.steps} model calls, ~${long.tokens} tokens): step 10 ${long.at["10"]?.bytes} B ${long.at["10"]?.ms} ms, ` +
    `step 100 ${long.at["100"]?.bytes} B ${long.at["100"]?.ms} ms, step 1000 ${long.at["999"]?.bytes} B ${long.at["999"]?.ms} ms ` +
    `(×${result.long.bytesRatio} bytes, ×${result.long.msRatio} ms, whole step ×${result.long.stepMsRatio}; ` +
    `baseline ×${result.baseline.long.bytesRatio} bytes, ×${result.baseline.long.msRatio} ms, whole step ×${result.baseline.long.stepMsRatio})`,
);
log(
  `large run (${large.status}, ${large.steps} model calls): step 10 ${large.at["10"]?.bytes} B ${large.at["10"]?.ms} ms, ` +
    `step 100 ${large.at["100"]?.bytes} B ${large.at["100"]?.ms} ms (×${result.large.bytesRatio} bytes, ×${result.large.msRatio} ms, whole step ×${result.large.stepMsRatio})`,
);
process.stdout.write(`${JSON.stringify(result)}\n`);

await pool.close();
await counter.close();
connection.disconnect();
probe.disconnect();
await redisServer.stop();
