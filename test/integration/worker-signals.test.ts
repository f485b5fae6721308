/**
 * A `freehold worker` process told to stop (SIGTERM, as Kubernetes stops a pod) after running agents of
 * every framework: it stops as the worker command does (closes its queues, its runtime, its Redis
 * connection, then logs `worker stopped`) and exits 0. A framework library that ends the process from
 * its own signal handler (the OpenAI Agents SDK's tracing does, once it has run) must not cut that
 * short; a second signal ends the process at once.
 */
import type { ChildProcess } from "node:child_process";
import { startRun } from "@freehold/handoff";
import { describe, expect, it } from "vitest";
import { useWorkerWorld } from "./worker-world.ts";

const namespace = "signals";
const frameworks = ["freehold", "vercel-ai", "openai-agents", "langgraph", "mastra"] as const;
const world = useWorkerWorld({
  namespace,
  // "Wait" asks for a tool call that takes a minute (a graceful stop waits for calls in flight).
  script: [
    {
      match: { role: "user", contains: "Wait" },
      toolCalls: [{ name: "slow", arguments: { steps: 1, delayMs: 60_000 } }],
    },
    { match: { role: "tool" }, text: "Waited." },
    { match: { role: "user" }, text: "Done." },
  ],
  agents: {
    ...Object.fromEntries(frameworks.map((framework) => [framework, { framework }])),
    waiter: { tools: [{ mcpServer: "counter", allow: ["slow"] }] },
  },
  workers: { concurrency: 2, lockDurationSeconds: 30 },
});

/** Starts a worker, runs one answer on each framework's agent through it, and returns the worker. */
async function workerThatRanEveryFramework(): Promise<ChildProcess> {
  world.fleet.clearLog();
  const worker = world.fleet.start();
  await expect.poll(() => world.fleet.log(), { timeout: 30_000 }).toContain("worker ready");
  const runs = await Promise.all(
    frameworks.map((agent) =>
      startRun(
        { redis: world.connection, store: world.store, queues: world.queues },
        { namespace, agent, input: "Hi" },
      ),
    ),
  );
  await expect
    .poll(
      async () =>
        (await Promise.all(runs.map((run) => world.store.require(namespace, run.id)))).map(
          (state) => state.status,
        ),
      { timeout: 30_000 },
    )
    .toEqual(frameworks.map(() => "completed"));
  return worker;
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    child.once("close", (code, signal) => {
      resolve({ code, signal });
    });
  });
}

describe("freehold worker on SIGTERM", () => {
  it(
    "stops as the worker command does after running every framework, and exits 0",
    { timeout: 90_000 },
    async () => {
      const worker = await workerThatRanEveryFramework();
      const exited = exitOf(worker);
      worker.kill("SIGTERM");
      expect(await exited).toEqual({ code: 0, signal: null });
      const log = world.fleet.log();
      expect(log).toContain("stopping: runs in progress stop at their next step");
      expect(log.trimEnd().split("\n").at(-1)).toBe("worker stopped");
    },
  );

  it(
    "exits at once on a second signal while the first waits for a call in flight",
    { timeout: 90_000 },
    async () => {
      const worker = await workerThatRanEveryFramework();
      await startRun(
        { redis: world.connection, store: world.store, queues: world.queues },
        { namespace, agent: "waiter", input: "Wait" },
      );
      await expect
        .poll(() => world.counter.calls().some((call) => call.tool === "slow"), { timeout: 30_000 })
        .toBe(true);
      const exited = exitOf(worker);
      worker.kill("SIGTERM");
      await expect.poll(() => world.fleet.log(), { timeout: 10_000 }).toContain("stopping:");
      worker.kill("SIGTERM");
      expect(await exited).toEqual({ code: 143, signal: null });
      expect(world.fleet.log()).not.toContain("worker stopped");
    },
  );
});
