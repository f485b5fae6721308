/**
 * Multi-agent runs survive crashes: 200 runs go triage → billing (transfer) → researcher (a child
 * run) → a slow `charge` → the billing desk (people), and back to billing, while worker processes
 * are SIGKILLed at random (always one working on a run) and Redis (append-only) is restarted in the
 * middle of the batch. People in this process hand back every inbox item and approve every charge
 * a crash interrupted (its policy is `ask`). Afterwards: every run completed once, with exactly one
 * transfer, one delegation, one human handoff and one hand-back; every child run completed once; no
 * inbox or approval item left; counted at the server, no charge was sent again unless a person
 * approved it after an interruption, and none after its result was checkpointed. The same on a
 * real 3-primary Redis Cluster (fewer runs, no restart: its nodes are not restarted one by one yet).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunEvent } from "@freehold/api";
import {
  createAgentQueues,
  createApprovals,
  createInbox,
  connectRedis,
  createRunStore,
  startRedisServer,
  type RedisClient,
} from "@freehold/handoff";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisCluster, type TestRedis } from "../fixtures/redis-backends.ts";
import { actAsPeople, startHandoffWorld, type HandoffWorld } from "./handoff-world.ts";
import { countToolCalls, describeToolCalls } from "./tool-call-accounting.ts";
import {
  createWorkerFleet,
  retrying,
  startRuns,
  waitForRunsToEnd,
  type WorkerFleet,
} from "./worker-fleet.ts";

const namespace = "handoffs";

/** One Redis (append-only, restarted mid-batch) and a Redis Cluster. */
const backends = [
  {
    name: "one Redis, restarted mid-batch",
    runs: 200,
    start: async (directory: string) => {
      const server = await startRedisServer({ dataDirectory: join(directory, "redis"), appendOnly: true });
      return { url: server.url, stop: () => server.stop(), restart: () => server.restart() };
    },
  },
  { ...redisCluster, runs: 80 },
];

describe.each(backends)("multi-agent runs through crashes on $name", (backend) => {
  const { runs } = backend;

  let redis: TestRedis;
  let connection: RedisClient;
  let world: HandoffWorld;
  let fleet: WorkerFleet;

  beforeAll(async () => {
    const directory = mkdtempSync(join(tmpdir(), "freehold-handoff-crash-"));
    redis = await backend.start(directory);
    connection = connectRedis(redis.url, { maxRetriesPerRequest: null });
    world = await startHandoffWorld({ directory, namespace, delayMs: 200 });
    fleet = createWorkerFleet({
      configFile: world.configFile,
      redisUrl: redis.url,
      concurrency: 10,
      lockDurationSeconds: 2,
    });
  });

  afterAll(async () => {
    fleet.killAll();
    await world.close();
    connection.disconnect();
    await redis.stop();
  });

  /** Retries an action through a Redis restart. */

  it(`lose nothing over ${runs} runs`, { timeout: 300_000 }, async () => {
    for (let index = 0; index < 3; index += 1) fleet.start();
    const store = createRunStore(connection);
    const queues = createAgentQueues(connection);
    const inbox = createInbox({ redis: connection, store, queues });
    const approvals = createApprovals({ redis: connection, store, queues });
    const ids = await startRuns(
      { redis: connection, store, queues },
      { namespace, agent: "triage", count: runs, input: (index) => `order ${index}` },
    );

    let kills = 0;
    // Set in `between`, which control-flow analysis does not follow.
    let restarted = false as boolean;
    let handedBack = 0;
    let approved = 0;
    await waitForRunsToEnd({
      store,
      namespace,
      ids,
      fleet,
      timeoutMs: 240_000,
      attempt: retrying,
      async between(finished) {
        // The people: hand back whatever waits at the desk, approve interrupted charges.
        const acted = await actAsPeople({ inbox, approvals }, namespace, retrying);
        handedBack += acted.handedBack;
        approved += acted.approved;
        // Chaos: kill a worker that is working on a run, now and then; restart Redis once, mid-batch.
        if (Math.random() < 0.5 && kills < 30) {
          if (fleet.killOne()) kills += 1;
        }
        if (redis.restart !== undefined && !restarted && finished >= runs / 3) {
          restarted = true;
          await redis.restart();
        }
        await new Promise((resolve) => setTimeout(resolve, 150));
      },
    });
    await queues.close();

    const states = await Promise.all(ids.map((id) => store.require(namespace, id)));
    expect(
      states
        .filter((state) => state.status !== "completed")
        .map((state) => [state.id, state.status, state.error]),
    ).toEqual([]);
    let childRuns = 0;
    for (const state of states) {
      const events: RunEvent[] = (await store.readEvents(namespace, state.id)).map(({ event }) => event);
      const count = (type: RunEvent["type"]) => events.filter((event) => event.type === type).length;
      expect([
        state.id,
        count("agent-transfer"),
        count("delegation-start"),
        count("delegation-end"),
        count("human-handoff"),
        count("run-end"),
      ]).toEqual([state.id, 1, 1, 1, 1, 1]);
      const actions = events.flatMap((event) =>
        event.type === "human-action" && event.action !== "claim" ? [event.action] : [],
      );
      expect(actions).toEqual(["hand-back"]);
      const delegation = events.find((event) => event.type === "delegation-start");
      if (delegation?.type === "delegation-start") {
        const child = await store.require(namespace, delegation.childRunId);
        expect(child.status).toBe("completed");
        expect(
          (await store.readEvents(namespace, child.id)).filter(({ event }) => event.type === "run-end"),
        ).toHaveLength(1);
        childRuns += 1;
      }
    }
    expect(childRuns).toBe(runs);
    expect(await inbox.list(namespace, "desk")).toEqual([]);
    expect(await approvals.list(namespace)).toEqual([]);
    // Counted at the server, against the runs' histories (see tool-call-accounting.ts).
    const count = await countToolCalls({
      store,
      namespace,
      runIds: ids,
      counter: world.counter,
      tools: ["charge"],
    });
    console.log(
      `handoff crash test: ${runs} runs (${runs} child runs, ${handedBack} hand-backs, ${approved} charges approved again), ` +
        `${kills} workers killed, Redis restarted ${restarted ? "once" : "never"}; ${describeToolCalls(count)}`,
    );
    expect(count.problems).toEqual([]);
    expect(count.calls).toBe(runs);
    expect([count.interrupted.retry, count.interrupted.fail]).toEqual([0, 0]);
    // Kills landed during charges; each interrupted one waited for a person before it was sent again.
    expect(count.interrupted.ask).toBeGreaterThan(0);
    expect(approved).toBe(count.interrupted.ask);
    expect(kills).toBeGreaterThan(0);
    expect(restarted).toBe(redis.restart !== undefined);
  });
});
