/**
 * A run that kills its workers: real `freehold worker` processes, each SIGKILLed as soon as it picks
 * the run up (while its model is still answering, so the run never makes progress). After
 * `--max-stalls` (3) such deaths the next worker fails the run with `runtime.stalled` instead of
 * dying on it again. (The crash suites, whose runs make progress between kills, run their workers
 * with a high `--max-stalls`: see worker-fleet.ts.)
 */
import type { RunState } from "@freehold/api";
import { runPickupsKey, startRun } from "@freehold/handoff";
import { describe, expect, it } from "vitest";
import { useWorkerWorld } from "./worker-world.ts";

const namespace = "stalls";
const world = useWorkerWorld({
  namespace,
  // The model takes a minute to answer: a worker killed while waiting for it made no progress.
  script: [{ text: "Too late.", delayMs: 60_000 }],
  agents: { crasher: { instructions: "Answer." } },
  workers: { concurrency: 1, lockDurationSeconds: 1, maxStalls: 3 },
});

describe("stalls", () => {
  it("fails a run whose worker dies every time it picks it up, after --max-stalls deaths", async () => {
    const { connection, store, queues, fleet } = world;
    fleet.start();
    const run = await startRun(
      { redis: connection, store, queues },
      { namespace, agent: "crasher", input: "Hi" },
    );
    let kills = 0;
    let state: RunState | undefined;
    const deadline = Date.now() + 90_000;
    for (;;) {
      state = await store.require(namespace, run.id);
      if (state.status === "failed" || Date.now() > deadline) break;
      // The fleet kills a worker once it logged that it started or resumed the run.
      if (fleet.killOne()) kills += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(state.status, fleet.log()).toBe("failed");
    expect(state.error?.code).toBe("runtime.stalled");
    expect(state.error?.message).toContain("died 3 times");
    expect(state.error?.message).toContain("a tool or model that crashes the worker");
    expect(kills).toBe(3);
    expect(await connection.exists(runPickupsKey(namespace, run.id))).toBe(0);
    expect(fleet.log()).toContain(`run ${run.id}: its worker died 3 times without progress; failing it`);
  });
});
