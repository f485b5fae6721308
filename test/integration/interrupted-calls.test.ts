/**
 * A tool call in flight when its worker dies: the worker (`freehold worker`, a child process) is
 * SIGKILLed while the counter server is running a slow `charge`, and another worker resumes the run.
 * The call was recorded as started before it left the worker, so the new worker knows its outcome is
 * unknown and follows the tool's `onInterrupt` policy: `fail` (the default for a tool not annotated
 * read-only or idempotent) never sends it again, `retry` sends it again under the same idempotency
 * key, `ask` waits for a person: approved, it is sent again; rejected, it is not. Counted at the
 * server: every call received, no de-duplication.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunEvent, RunState } from "@freehold/api";
import {
  createAgentQueues,
  createApprovals,
  createRunStore,
  startRedisServer,
  startRun,
  type AgentQueues,
  type RedisServer,
  type RunStore,
} from "@freehold/handoff";
import { startScriptedModelServer, type ScriptedModelServer } from "@freehold/models";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCounterServer, type CounterServer } from "../fixtures/mcp/counter-server.ts";
import { writeScriptedConfig } from "../fixtures/scripted-config.ts";
import { createWorkerFleet, type WorkerFleet } from "./worker-fleet.ts";

const namespace = "interrupted";

let redis: RedisServer;
let connection: Redis;
let store: RunStore;
let queues: AgentQueues;
let model: ScriptedModelServer;
let counter: CounterServer;
let fleet: WorkerFleet;

/** An agent whose one tool is the counter's `charge`, under an interruption policy (or the default). */
const payer = (onInterrupt?: Record<string, unknown>) => ({
  instructions: "Charge.",
  tools: [{ mcpServer: "counter", allow: ["charge"], ...(onInterrupt === undefined ? {} : { onInterrupt }) }],
});

beforeAll(async () => {
  const directory = mkdtempSync(join(tmpdir(), "freehold-interrupted-"));
  redis = await startRedisServer();
  connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  store = createRunStore(connection);
  queues = createAgentQueues(connection);
  counter = await startCounterServer({ transport: "http" });
  model = await startScriptedModelServer({
    script: [
      {
        match: { contains: "charge" },
        toolCalls: [{ name: "charge", arguments: { value: 5, delayMs: 3000 } }],
      },
      { match: { toolName: "charge" }, text: "Done." },
    ],
  });
  const configFile = writeScriptedConfig(join(directory, "config.json"), {
    namespace,
    modelBaseUrl: model.baseUrl,
    agents: {
      "by-default": payer(),
      retrying: payer({ tools: { charge: "retry" } }),
      asking: payer({ default: "ask" }),
    },
    mcpServers: { counter: counter.url },
  });
  fleet = createWorkerFleet({ configFile, redisUrl: redis.url, concurrency: 4, lockDurationSeconds: 1 });
});

afterAll(async () => {
  fleet.killAll();
  await queues.close();
  await model.close();
  await counter.close();
  connection.disconnect();
  await redis.stop();
});

/** Calls of `charge` the server received for the run (every one, de-duplicated by nothing). */
const received = (runId: string) =>
  counter.calls().filter((call) => call.tool === "charge" && call.idempotencyKey?.startsWith(runId));

/** Starts a run on a fresh worker and SIGKILLs that worker while the server runs the run's charge. */
async function startAndKillMidCall(agent: string): Promise<string> {
  fleet.killAll();
  fleet.clearLog();
  fleet.start();
  await expect.poll(() => fleet.log(), { timeout: 20_000 }).toContain("worker ready");
  const run = await startRun({ redis: connection, store, queues }, { namespace, agent, input: "charge 5" });
  await expect.poll(() => received(run.id).length, { timeout: 20_000 }).toBe(1);
  fleet.killAll();
  const state = await store.require(namespace, run.id);
  // The call left the worker recorded as started, with no result.
  expect(
    state.pendingToolCalls.map((call) => [call.tool, call.status, call.startedAt !== undefined]),
  ).toEqual([["charge", "pending", true]]);
  fleet.start();
  return run.id;
}

async function until(runId: string, status: RunState["status"]): Promise<RunState> {
  await expect
    .poll(
      async () => {
        const state = await store.require(namespace, runId);
        return state.status === status ? status : `${state.status} ${state.error?.message ?? ""}`;
      },
      { timeout: 30_000 },
    )
    .toBe(status);
  return await store.require(namespace, runId);
}

async function eventsOf(runId: string): Promise<RunEvent[]> {
  return (await store.readEvents(namespace, runId)).map(({ event }) => event);
}

const interruptions = (events: RunEvent[]) =>
  events.flatMap((event) => (event.type === "tool-call-interrupted" ? [[event.name, event.policy]] : []));

const toolResults = (events: RunEvent[]) =>
  events.flatMap((event) => (event.type === "tool-call-end" ? [[event.content, event.isError]] : []));

describe("a tool call in flight when its worker dies", () => {
  it(
    "is not sent again under the default policy of a tool not safe to repeat (fail)",
    { timeout: 90_000 },
    async () => {
      const runId = await startAndKillMidCall("by-default");
      const state = await until(runId, "completed");
      const events = await eventsOf(runId);
      expect(interruptions(events)).toEqual([["charge", "fail"]]);
      expect(toolResults(events)).toEqual([
        [expect.stringContaining("outcome of this call of charge is unknown"), true],
      ]);
      expect(state.output).toBe("Done.");
      expect(received(runId)).toHaveLength(1);
    },
  );

  it("is sent again under the same idempotency key with retry", { timeout: 90_000 }, async () => {
    const runId = await startAndKillMidCall("retrying");
    await until(runId, "completed");
    const events = await eventsOf(runId);
    expect(interruptions(events)).toEqual([["charge", "retry"]]);
    expect(toolResults(events)).toEqual([[expect.stringContaining("charged 5"), false]]);
    const calls = received(runId);
    expect(calls).toHaveLength(2);
    expect(new Set(calls.map((call) => call.idempotencyKey)).size).toBe(1);
  });

  it(
    "waits for a person with ask: approved, it is sent again; rejected, it is not",
    { timeout: 120_000 },
    async () => {
      const approvals = createApprovals({ redis: connection, store, queues });
      const decide = async (runId: string, approve: boolean) => {
        const state = await until(runId, "waiting_for_approval");
        expect(state.pendingToolCalls[0]).toMatchObject({ interruptions: 1, approval: "required" });
        const [item] = (await approvals.list(namespace, { agent: "asking" })).filter(
          (each) => each.runId === runId,
        );
        expect(item?.reason).toContain("running when its worker stopped");
        // Nothing is sent again while the person has not decided.
        expect(received(runId)).toHaveLength(1);
        await approvals.decide(
          namespace,
          item?.id ?? "",
          "ann",
          approve ? { approve } : { approve, reason: "Charged already." },
        );
      };

      const approved = await startAndKillMidCall("asking");
      await decide(approved, true);
      await until(approved, "completed");
      expect(interruptions(await eventsOf(approved))).toEqual([["charge", "ask"]]);
      expect(toolResults(await eventsOf(approved))).toEqual([[expect.stringContaining("charged 5"), false]]);
      expect(received(approved)).toHaveLength(2);

      const rejected = await startAndKillMidCall("asking");
      await decide(rejected, false);
      await until(rejected, "completed");
      expect(toolResults(await eventsOf(rejected))).toEqual([
        [expect.stringContaining("rejected this call"), true],
      ]);
      expect(received(rejected)).toHaveLength(1);
    },
  );
});
