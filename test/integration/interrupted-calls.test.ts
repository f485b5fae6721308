/**
 * A tool call in flight when its worker dies: the worker (`freehold worker`, a child process) is
 * SIGKILLed while the counter server is running a slow `charge`, and another worker resumes the run.
 * The call was recorded as started before it left the worker, so the new worker knows its outcome is
 * unknown and follows the tool's `onInterrupt` policy: `fail` (the default for a tool not annotated
 * read-only or idempotent) never sends it again, `retry` sends it again under the same idempotency
 * key, `ask` waits for a person: approved, it is sent again; rejected, it is not. Counted at the
 * server: every call received, no de-duplication.
 */
import type { RunEvent, RunState } from "@freehold/api";
import { createApprovals, startRun } from "@freehold/handoff";
import { describe, expect, it } from "vitest";
import { useWorkerWorld } from "./worker-world.ts";

const namespace = "interrupted";

/** An agent whose one tool is the counter's `charge`, under an interruption policy (or the default). */
const payer = (onInterrupt?: Record<string, unknown>) => ({
  instructions: "Charge.",
  tools: [{ mcpServer: "counter", allow: ["charge"], ...(onInterrupt === undefined ? {} : { onInterrupt }) }],
});

const world = useWorkerWorld({
  namespace,
  script: [
    {
      match: { contains: "charge" },
      toolCalls: [{ name: "charge", arguments: { value: 5, delayMs: 3000 } }],
    },
    { match: { toolName: "charge" }, text: "Done." },
  ],
  agents: {
    "by-default": payer(),
    retrying: payer({ tools: { charge: "retry" } }),
    asking: payer({ default: "ask" }),
  },
  workers: { concurrency: 4, lockDurationSeconds: 1 },
});

/** Calls of `charge` the server received for the run (every one, de-duplicated by nothing). */
const received = (runId: string) =>
  world.counter.calls().filter((call) => call.tool === "charge" && call.idempotencyKey?.startsWith(runId));

/** Starts a run on a fresh worker and SIGKILLs that worker while the server runs the run's charge. */
async function startAndKillMidCall(agent: string): Promise<string> {
  world.fleet.killAll();
  world.fleet.clearLog();
  world.fleet.start();
  await expect.poll(() => world.fleet.log(), { timeout: 20_000 }).toContain("worker ready");
  const run = await startRun(
    { redis: world.connection, store: world.store, queues: world.queues },
    { namespace, agent, input: "charge 5" },
  );
  await expect.poll(() => received(run.id).length, { timeout: 20_000 }).toBe(1);
  world.fleet.killAll();
  const state = await world.store.require(namespace, run.id);
  // The call left the worker recorded as started, with no result.
  expect(
    state.pendingToolCalls.map((call) => [call.tool, call.status, call.startedAt !== undefined]),
  ).toEqual([["charge", "pending", true]]);
  world.fleet.start();
  return run.id;
}

async function until(runId: string, status: RunState["status"]): Promise<RunState> {
  await expect
    .poll(
      async () => {
        const state = await world.store.require(namespace, runId);
        return state.status === status ? status : `${state.status} ${state.error?.message ?? ""}`;
      },
      { timeout: 30_000 },
    )
    .toBe(status);
  return await world.store.require(namespace, runId);
}

async function eventsOf(runId: string): Promise<RunEvent[]> {
  return (await world.store.readEvents(namespace, runId)).map(({ event }) => event);
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
      const approvals = createApprovals({
        redis: world.connection,
        store: world.store,
        queues: world.queues,
      });
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
