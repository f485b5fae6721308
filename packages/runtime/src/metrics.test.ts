import type { RunEvent, RunState, ToolCallRecord } from "@freehold/api";
import { createAgentQueues, newRun } from "@freehold/handoff";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterAll, describe, expect, it } from "vitest";
import { createRuntimeMetrics } from "./metrics.ts";

// Never connected: the counters are read without a scrape of the Redis gauges.
const redis = new Redis({ lazyConnect: true });
const queues = createAgentQueues(redis);
afterAll(async () => {
  await queues.close();
  redis.disconnect();
});

const agent = {
  namespace: "acme",
  name: "billing",
  model: { provider: "openai", modelId: "gpt-test" },
  humanQueues: new Map<string, unknown>(),
};
const time = "2026-01-01T00:00:00.000Z";

function world() {
  const registry = new Registry();
  const metrics = createRuntimeMetrics(registry, { redis, queues, agents: [agent], log: () => undefined });
  return { registry, billing: metrics.forAgent(agent) };
}

function run(revision: number, pendingToolCalls: ToolCallRecord[] = []): RunState {
  return {
    ...newRun({ id: "r1", namespace: "acme", agent: "billing", input: "Hi" }),
    revision,
    pendingToolCalls,
  };
}

const call = (id: string, extra: Partial<ToolCallRecord> = {}): ToolCallRecord => ({
  toolCall: { id, name: `tool_${id}`, arguments: "{}" },
  idempotencyKey: `r1-${id}`,
  status: "pending",
  ...extra,
});

const toolEnd = (toolCallId: string, durationMs: number): RunEvent => ({
  type: "tool-call-end",
  runId: "r1",
  time,
  toolCallId,
  name: `tool_${toolCallId}`,
  content: "ok",
  isError: false,
  durationMs,
});

const runEnd = (fields: Partial<Extract<RunEvent, { type: "run-end" }>>): RunEvent => ({
  type: "run-end",
  runId: "r1",
  time,
  status: "completed",
  usage: { inputTokens: 0, outputTokens: 0 },
  steps: 1,
  ...fields,
});

async function text(registry: Registry, name: string): Promise<string> {
  return registry.getSingleMetricAsString(name);
}

describe("the worker's metrics", () => {
  it("counts a run started at its first checkpoint only, and a step with its tokens and latency", async () => {
    const { registry, billing } = world();
    billing.observeCheckpoint(run(0), []);
    billing.observeCheckpoint(run(1), [
      {
        type: "model-call-end",
        runId: "r1",
        time,
        step: 1,
        model: "gpt-test-2026-01-01",
        message: { role: "assistant", content: "Hello." },
        usage: { inputTokens: 12, outputTokens: 5 },
        finishReason: "stop",
        durationMs: 1500,
      },
    ]);
    billing.observeCheckpoint(run(2), []);
    expect(await text(registry, "freehold_runs_started_total")).toContain(
      'freehold_runs_started_total{namespace="acme",agent="billing"} 1',
    );
    expect(await text(registry, "freehold_steps_total")).toContain(
      'freehold_steps_total{namespace="acme",agent="billing"} 1',
    );
    const tokens = await text(registry, "freehold_tokens_total");
    // The configured model names the series, not the dated name the provider answered with.
    expect(tokens).toContain(
      'freehold_tokens_total{namespace="acme",agent="billing",model="openai/gpt-test",direction="in"} 12',
    );
    expect(tokens).toContain('model="openai/gpt-test",direction="out"} 5');
    const latency = await text(registry, "freehold_model_call_seconds");
    expect(latency).toContain('freehold_model_call_seconds_bucket{le="1",namespace="acme"');
    expect(latency).toMatch(/freehold_model_call_seconds_bucket\{le="1",[^}]*\} 0\n/);
    expect(latency).toMatch(/freehold_model_call_seconds_bucket\{le="2",[^}]*\} 1\n/);
    expect(latency).toMatch(/freehold_model_call_seconds_sum\{[^}]*\} 1.5\n/);
  });

  it("times tool calls that reached an MCP server, by server and tool, and no handoff or invalid call", async () => {
    const { registry, billing } = world();
    const previous = run(3, [
      call("a", { server: "billing-api", tool: "get_invoice" }),
      call("b", { server: "billing-api", tool: "get_invoice" }),
      call("t", { special: { kind: "transfer", agent: "support" } }),
    ]);
    billing.observeCheckpoint(previous, [toolEnd("a", 20), toolEnd("b", 40), toolEnd("t", 1)]);
    // A call the model made up never was pending: it is no tool call.
    billing.observeCheckpoint(run(4), [toolEnd("x", 3)]);
    const latency = await text(registry, "freehold_tool_call_seconds");
    expect(latency).toContain(
      'freehold_tool_call_seconds_count{namespace="acme",agent="billing",server="billing-api",tool="get_invoice"} 2',
    );
    expect(latency).toMatch(/freehold_tool_call_seconds_sum\{[^}]*\} 0.06\n/);
    expect(latency).not.toContain("tool_t");
    expect(latency).not.toContain("tool_x");
    expect(latency.match(/_count\{/g)).toHaveLength(1);
  });

  it("counts ended runs by status and reason: the error code of a failure, the limit of a run past one", async () => {
    const { registry, billing } = world();
    billing.observeCheckpoint(run(5), [runEnd({})]);
    billing.observeCheckpoint(run(5), [
      runEnd({ status: "failed", error: { code: "model.context-length", message: "too long" } }),
    ]);
    billing.observeCheckpoint(run(5), [runEnd({ status: "limit_exceeded", limit: "maxSteps" })]);
    billing.observeCheckpoint(run(5), [runEnd({ status: "limit_exceeded", limit: "maxSteps" })]);
    const finished = await text(registry, "freehold_runs_finished_total");
    const labels = '{namespace="acme",agent="billing"';
    expect(finished).toContain(`${labels},status="completed",reason=""} 1`);
    expect(finished).toContain(`${labels},status="failed",reason="model.context-length"} 1`);
    expect(finished).toContain(`${labels},status="limit_exceeded",reason="maxSteps"} 2`);
  });
});
