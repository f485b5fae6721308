/**
 * Kill workers in the middle of runs and prove nothing is lost: worker processes (`freehold
 * worker`) are SIGKILLed at random moments while 100 runs go through them; each run makes two slow
 * tool calls on the counter MCP server between three model turns: `charge` (not safe to repeat:
 * policy `fail` by default) and `slow` (annotated read-only: policy `retry`), so that many kills land
 * while a call is running. Every run must complete exactly once; counted at the server (every call
 * received, nothing de-duplicated): a call never interrupted arrived once, an interrupted `charge`
 * was never sent again, an interrupted `slow` was sent again at most once per interruption, no
 * call arrived after its result was checkpointed, and none before the answer that makes it was
 * stored but a `slow` whose worker died while that answer was being written (counted apart: a
 * read-only call leaves meanwhile). All of it on one Redis and on a real 3-primary
 * Redis Cluster (40 runs there).
 */
import { spawn } from "node:child_process";
import { isTerminal } from "@freehold/api";
import { freePort, type RunStore } from "@freehold/handoff";
import { describe, expect, it } from "vitest";
import type { CounterServer } from "../fixtures/mcp/counter-server.ts";
import { oneRedis, redisCluster } from "../fixtures/redis-backends.ts";
import { imageCommand, imageCommandEnvironment } from "../../packages/cli/scripts/build.ts";
import { countToolCalls, describeToolCalls } from "./tool-call-accounting.ts";
import { runThroughKills, startRuns } from "./worker-fleet.ts";
import { useWorkerWorld } from "./worker-world.ts";

const workerCount = 3;
const namespace = "crash";

/** One Redis (100 runs) and a Redis Cluster (40 runs). */
const backends = [
  { ...oneRedis, runs: 100 },
  { ...redisCluster, runs: 40 },
];

/** The runs' `charge` and `slow` (read-only) calls, counted at the server (see tool-call-accounting.ts). */
const countCalls = (store: RunStore, runIds: readonly string[], counter: CounterServer) =>
  countToolCalls({ store, namespace, runIds, counter, tools: ["charge", "slow"], readOnly: ["slow"] });

describe.each(backends)("workers killed mid-run on $name", (backend) => {
  const { runs } = backend;
  const world = useWorkerWorld({
    namespace,
    redis: backend.start,
    script: [
      { toolCalls: [{ name: "charge", arguments: { value: 5, delayMs: 400 } }], delayMs: 300 },
      { toolCalls: [{ name: "slow", arguments: { steps: 2, delayMs: 200 } }], delayMs: 300 },
      { text: "Charged and checked.", delayMs: 300 },
    ],
    agents: {
      recorder: {
        instructions: "Charge, then check.",
        tools: [{ mcpServer: "counter", allow: ["charge", "slow"] }],
      },
    },
    workers: { concurrency: 5, lockDurationSeconds: 2 },
  });

  it(`lose nothing over ${runs} runs`, { timeout: 240_000 }, async () => {
    const { connection, store, queues, counter, fleet } = world;
    for (let index = 0; index < workerCount; index += 1) fleet.start();
    const ids = await startRuns(
      { redis: connection, store, queues },
      { namespace, agent: "recorder", count: runs, input: (index) => `run ${index}` },
    );

    // Every 300-900 ms, kill a random worker that is working on a run and
    // start a fresh one, until every run has ended.
    const kills = await runThroughKills({
      store,
      namespace,
      ids,
      fleet,
      timeoutMs: 180_000,
      maxKills: 40,
      pauseMs: 300,
      spreadMs: 600,
    });

    // Every run completed, exactly once.
    const states = await Promise.all(ids.map((id) => store.require(namespace, id)));
    expect(
      states
        .filter((state) => state.status !== "completed")
        .map((state) => [state.id, state.status, state.error]),
    ).toEqual([]);
    const endEvents = await Promise.all(
      ids.map(
        async (id) =>
          (await store.readEvents(namespace, id)).filter(({ event }) => event.type === "run-end").length,
      ),
    );
    expect(endEvents.every((count) => count === 1)).toBe(true);

    // Counted at the server, against the runs' histories (see tool-call-accounting.ts).
    const count = await countCalls(store, ids, counter);
    console.log(
      `crash test: ${runs} runs, ${kills} workers killed, ${fleet.resumed()} runs resumed from a checkpoint; ` +
        describeToolCalls(count),
    );
    expect(count.problems).toEqual([]);
    expect(count.calls).toBe(runs * 2);
    // The kills landed during tool calls, and both policies were followed.
    expect(count.interrupted.fail + count.interrupted.retry).toBeGreaterThan(0);
    expect(count.interrupted.ask).toBe(0);
    expect(kills).toBeGreaterThan(0);
    expect(fleet.resumed()).toBeGreaterThan(0);
  });

  it(
    "on SIGTERM, stop at the next step and hand the runs to another worker",
    { timeout: 120_000 },
    async () => {
      const { connection, store, queues, counter, fleet } = world;
      fleet.killAll();
      fleet.clearLog();
      const first = fleet.start();
      await expect.poll(() => fleet.log(), { timeout: 20_000 }).toContain("worker ready");
      const ids = await startRuns(
        { redis: connection, store, queues },
        { namespace, agent: "recorder", count: 10, input: (index) => `graceful ${index}` },
      );
      // Once every run is under way, ask the worker to stop.
      await expect
        .poll(
          async () =>
            (await Promise.all(ids.map((id) => store.require(namespace, id)))).every(
              (state) => state.steps >= 1,
            ),
          {
            timeout: 20_000,
          },
        )
        .toBe(true);
      const exited = new Promise<number | null>((resolve) => first.once("exit", resolve));
      first.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(fleet.log()).toMatch(/interrupted at step \d; back on the queue/);
      const unfinished = (await Promise.all(ids.map((id) => store.require(namespace, id)))).filter(
        (state) => !isTerminal(state.status),
      );
      expect(unfinished.length).toBeGreaterThan(0);

      fleet.start();
      await expect
        .poll(
          async () =>
            (await Promise.all(ids.map((id) => store.require(namespace, id)))).map((state) => state.status),
          {
            timeout: 60_000,
          },
        )
        .toEqual(ids.map(() => "completed"));
      // A graceful stop lets the calls in flight end: none was interrupted, each reached the server once.
      const count = await countCalls(store, ids, counter);
      expect(count.problems).toEqual([]);
      expect([count.calls, count.received, count.interrupted]).toEqual([
        ids.length * 2,
        ids.length * 2,
        { retry: 0, fail: 0, ask: 0 },
      ]);
    },
  );

  it("serve probes: /healthz while alive, /readyz once consuming", { timeout: 60_000 }, async () => {
    const { redis, configFile } = world;
    const port = await freePort();
    const child = spawn(
      imageCommand,
      ["worker", "--config", configFile, "--redis-url", redis.url, "--health-port", String(port)],
      { stdio: ["ignore", "ignore", "pipe"], env: imageCommandEnvironment() },
    );
    try {
      await expect
        .poll(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status, {
          timeout: 20_000,
        })
        .toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
