/**
 * `freehold worker --health-port` serves Prometheus metrics: the worker command runs in this process
 * on real parts (redis-server, the scripted model server, the counter MCP server over streamable
 * HTTP), works on three runs (one answers after a tool call, one fails at the model, one hands the
 * conversation to people) and its /metrics is scraped over HTTP.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isTerminal, RunJob, type RunState } from "@freehold/api";
import {
  createAgentQueues,
  createRunStore,
  freePort,
  startRedisServer,
  startRun,
  type AgentQueues,
  type RedisServer,
  type RunStore,
} from "@freehold/handoff";
import { startScriptedModelServer, type ScriptedModelServer } from "@freehold/models";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startCounterServer, type CounterServer } from "../../../test/fixtures/mcp/counter-server.ts";
import { workerCommand } from "../src/commands/worker.ts";
import { captureOutput } from "../src/output.ts";

const namespace = "metrics";

let redis: RedisServer;
let connection: Redis;
let store: RunStore;
let queues: AgentQueues;
let counter: CounterServer;
let model: ScriptedModelServer;
let stop: () => void;
let stopped: Promise<void>;
let worker: Promise<void>;
let metricsUrl: string;

const resource = (kind: string, name: string, spec: unknown) => ({
  apiVersion: "freehold.dev/v1alpha1",
  kind,
  metadata: { name, namespace },
  spec,
});

beforeAll(async () => {
  redis = await startRedisServer();
  connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  store = createRunStore(connection);
  queues = createAgentQueues(connection);
  counter = await startCounterServer({ transport: "http" });
  model = await startScriptedModelServer({
    script: [
      { match: { contains: "add" }, toolCalls: [{ name: "add", arguments: { a: 2, b: 3 } }] },
      { match: { toolName: "add" }, text: "2 + 3 = 5" },
      { match: { contains: "break" }, error: { status: 400, message: "no such thing" } },
      {
        match: { contains: "person" },
        toolCalls: [{ name: "transfer_to_human_desk", arguments: { summary: "s", reason: "r" } }],
      },
    ],
  });
  const folder = mkdtempSync(join(tmpdir(), "freehold-worker-metrics-"));
  const config = join(folder, "config.json");
  writeFileSync(
    config,
    JSON.stringify({
      schemaVersion: 1,
      namespace,
      agents: [
        resource("Agent", "calculator", {
          model: { ref: "scripted" },
          instructions: "You add numbers.",
          tools: [{ mcpServer: "counter", allow: ["add"] }],
          handoffs: [{ humanQueue: "desk" }],
        }),
      ],
      models: [
        resource("Model", "scripted", {
          provider: "openai-compatible",
          model: "scripted-model",
          baseUrl: model.baseUrl,
          maxRetries: 0,
        }),
      ],
      mcpServers: [resource("MCPServer", "counter", { http: { url: counter.url } })],
      humanQueues: [resource("HumanQueue", "desk", { description: "People." })],
    }),
  );
  const healthPort = await freePort();
  metricsUrl = `http://127.0.0.1:${healthPort}/metrics`;
  stopped = new Promise((resolve) => (stop = resolve));
  worker = workerCommand(
    { config, redisUrl: redis.url, concurrency: 4, healthPort, environment: {} },
    captureOutput(),
    stopped,
  );
  await vi.waitFor(
    async () => {
      expect((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status).toBe(200);
    },
    { timeout: 30_000, interval: 100 },
  );
});

afterAll(async () => {
  stop();
  await worker;
  await model.close();
  await counter.close();
  await queues.close();
  connection.disconnect();
  await redis.stop();
});

/** The value of one sample of the exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const have = new Map(
      [...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1], pair[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => have.get(key) === value)) return Number(match[3]);
  }
  return undefined;
}

async function settled(runId: string, done: (state: RunState) => boolean): Promise<RunState> {
  return vi.waitFor(
    async () => {
      const state = await store.require(namespace, runId);
      if (!done(state)) throw new Error(`run ${runId} is ${state.status}`);
      return state;
    },
    { timeout: 20_000, interval: 50 },
  );
}

describe("freehold worker's /metrics", () => {
  it("counts runs, steps, tokens and latency, and reads queue depth and the inbox when scraped", async () => {
    const parts = { redis: connection, store, queues };
    const started = Date.now();
    const runs = await Promise.all(
      ["Please add 2 and 3.", "Please break.", "I want a person."].map((input) =>
        startRun(parts, { namespace, agent: "calculator", input }),
      ),
    );
    const [added, broken, handed] = await Promise.all([
      settled(runs[0]?.id ?? "", (state) => isTerminal(state.status)),
      settled(runs[1]?.id ?? "", (state) => isTerminal(state.status)),
      settled(runs[2]?.id ?? "", (state) => state.status === "waiting_for_human"),
    ]);
    expect(added.status).toBe("completed");
    expect(broken.status).toBe("failed");
    const failure = broken.error?.code ?? "";
    expect(failure).not.toBe("");
    // A job waiting a minute on the queue: depth counts delayed jobs too.
    await queues
      .queue(namespace, "calculator")
      .add("run", RunJob.parse({ schemaVersion: 1, runId: "later", namespace }), { delay: 60_000 });

    const response = await fetch(metricsUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    const agent = { namespace, agent: "calculator" };
    const states = [added, broken, handed];

    expect(sample(text, "freehold_runs_started_total", agent)).toBe(3);
    expect(sample(text, "freehold_runs_finished_total", { ...agent, status: "completed", reason: "" })).toBe(
      1,
    );
    expect(
      sample(text, "freehold_runs_finished_total", { ...agent, status: "failed", reason: failure }),
    ).toBe(1);
    const steps = states.reduce((sum, state) => sum + state.steps, 0);
    expect(steps).toBe(3);
    expect(sample(text, "freehold_steps_total", agent)).toBe(steps);
    const modelLabels = { ...agent, model: "openai-compatible/scripted-model" };
    expect(sample(text, "freehold_model_call_seconds_count", modelLabels)).toBe(steps);
    expect(sample(text, "freehold_tokens_total", { ...modelLabels, direction: "in" })).toBe(
      states.reduce((sum, state) => sum + state.usage.inputTokens, 0),
    );
    expect(sample(text, "freehold_tokens_total", { ...modelLabels, direction: "out" })).toBe(
      states.reduce((sum, state) => sum + state.usage.outputTokens, 0),
    );
    const tool = { ...agent, server: "counter", tool: "add" };
    expect(sample(text, "freehold_tool_call_seconds_count", tool)).toBe(1);
    expect(sample(text, "freehold_tool_call_seconds_bucket", { ...tool, le: "+Inf" })).toBe(1);
    // The handoff to people is no MCP tool call.
    expect(text).not.toContain('tool="transfer_to_human_desk"');
    expect(sample(text, "freehold_agent_queue_depth", agent)).toBe(1);
    expect(sample(text, "freehold_inbox_waiting", { namespace, queue: "desk" })).toBe(1);
    const age = sample(text, "freehold_inbox_oldest_age_seconds", { namespace, queue: "desk" }) ?? -1;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThanOrEqual((Date.now() - started) / 1000);
    // The default process metrics, and no run id in any label.
    expect(sample(text, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    for (const state of states) expect(text).not.toContain(state.id);
  });
});
