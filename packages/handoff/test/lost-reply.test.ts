/**
 * A write whose reply is lost is sent again by the client after it reconnects (ioredis resends
 * every unanswered command). The run store's create and checkpoint and the compare-and-write of
 * inbox items must then take the second copy as the first one's success: before they did, a
 * checkpoint that Redis had applied came back `run.conflict`, the worker let go of the run as
 * "taken over by another worker", and the run stayed `running` with no one working on it.
 * On a real redis-server behind a proxy that loses exactly one reply.
 */
import { randomUUID } from "node:crypto";
import { FreeholdError, type RunEvent } from "@freehold/api";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compareAndWrite,
  createAgentQueues,
  createRunStore,
  newRun,
  startRedisServer,
  type RedisServer,
  type RunStore,
} from "../src/index.ts";
import { startLostReplyProxy, type LostReplyProxy } from "./lost-reply-proxy.ts";

const namespace = "lost-replies";

let server: RedisServer;
let proxy: LostReplyProxy;
/** Through the proxy: its replies can be lost. */
let client: Redis;
/** Straight to Redis: to look at what was written. */
let direct: Redis;
let store: RunStore;

beforeAll(async () => {
  server = await startRedisServer();
  proxy = await startLostReplyProxy({ port: server.port });
  client = new Redis(proxy.url, { maxRetriesPerRequest: null, retryStrategy: () => 20 });
  direct = new Redis(server.url);
  store = createRunStore(client);
  // Redis learns each script once (EVALSHA, then EVAL on NOSCRIPT): the lost reply must be the
  // script's own, not a NOSCRIPT.
  const warm = newRun({ id: randomUUID(), namespace, agent: "billing", input: "Warm up" });
  await store.create(warm, []);
  await store.checkpoint(warm, { ...warm, steps: 1 }, []);
  await compareAndWrite(client, [{ key: `${namespace}:warm`, equals: null }], []);
});

afterAll(async () => {
  client.disconnect();
  direct.disconnect();
  await proxy.close();
  await server.stop();
});

const started = (runId: string): RunEvent => ({
  runId,
  time: new Date().toISOString(),
  type: "run-start",
  agent: "billing",
  input: "Hi",
});

async function eventCount(runId: string): Promise<number> {
  return (await createRunStore(direct).readEvents(namespace, runId)).length;
}

describe("a write whose reply is lost", () => {
  it("creates a run once, and says it did", async () => {
    const run = newRun({ id: randomUUID(), namespace, agent: "billing", input: "Hi" });
    const lostBefore = proxy.lost();
    proxy.loseNextReply();
    await store.create(run, [started(run.id)]);
    expect(proxy.lost()).toBe(lostBefore + 1);
    expect(await createRunStore(direct).require(namespace, run.id)).toEqual(run);
    expect(await eventCount(run.id)).toBe(1);
  });

  it("checkpoints once, and says it did (not run.conflict)", async () => {
    const run = newRun({ id: randomUUID(), namespace, agent: "billing", input: "Hi" });
    await store.create(run, [started(run.id)]);
    const lostBefore = proxy.lost();
    proxy.loseNextReply();
    const saved = await store.checkpoint(run, { ...run, status: "running", steps: 1 }, [
      { runId: run.id, time: new Date().toISOString(), type: "model-call-start", step: 1, model: "m" },
    ]);
    expect(proxy.lost()).toBe(lostBefore + 1);
    expect(saved.revision).toBe(1);
    expect(await createRunStore(direct).require(namespace, run.id)).toEqual(saved);
    expect(await eventCount(run.id)).toBe(2);
    // The run goes on from there.
    const next = await store.checkpoint(saved, { ...saved, steps: 2 }, []);
    expect(next.revision).toBe(2);
  });

  it("queues a run with its job once, and says it did (a transfer's write that adds the job)", async () => {
    const queues = createAgentQueues(client);
    try {
      const run = newRun({ id: randomUUID(), namespace, agent: "billing", input: "Hi" });
      await store.create(run, [started(run.id)]);
      const job = queues.enqueueEffect(namespace, "support", run.id, { key: "r1" });
      expect(job).toBeDefined();
      const lostBefore = proxy.lost();
      proxy.loseNextReply();
      const saved = await store.checkpoint(run, { ...run, status: "queued", agent: "support" }, [], {
        effects: job === undefined ? [] : [job],
      });
      expect(proxy.lost()).toBe(lostBefore + 1);
      expect(saved.revision).toBe(1);
      const queue = queues.queue(namespace, "support");
      expect(await direct.lrange(queue.toKey("wait"), 0, -1)).toEqual([`${run.id}.r1`]);
      const added = (await direct.xrange(queue.toKey("events"), "-", "+")).filter(([, fields]) =>
        fields.includes("added"),
      );
      expect(added).toHaveLength(1);
    } finally {
      await queues.close();
    }
  });

  it("still refuses a different write at the same revision (a real conflict)", async () => {
    const run = newRun({ id: randomUUID(), namespace, agent: "billing", input: "Hi" });
    await store.create(run, []);
    await store.checkpoint(run, { ...run, status: "running", steps: 1 }, []);
    const error = await store
      .checkpoint(run, { ...run, status: "running", steps: 7 }, [])
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FreeholdError);
    expect((error as FreeholdError).code).toBe("run.conflict");
    expect((await createRunStore(direct).require(namespace, run.id)).steps).toBe(1);
    // And a second create of a taken id with other content.
    const again = await store.create({ ...run, input: "Other" }, []).catch((caught: unknown) => caught);
    expect((again as FreeholdError).code).toBe("run.exists");
  });

  it("compare-and-writes once, and says it did", async () => {
    const key = `${namespace}:{${randomUUID()}}:item`;
    await direct.set(key, "waiting");
    const claimed = JSON.stringify({ status: "claimed", by: "ann", at: new Date().toISOString() });
    const lostBefore = proxy.lost();
    proxy.loseNextReply();
    const written = await compareAndWrite(
      client,
      [{ key, equals: "waiting" }],
      [
        { op: "set", key, value: claimed },
        { op: "xadd", key: `${key}:events`, field: "event", value: "claimed" },
      ],
    );
    expect(proxy.lost()).toBe(lostBefore + 1);
    expect(written).toBe(true);
    expect(await direct.get(key)).toBe(claimed);
    expect(await direct.xlen(`${key}:events`)).toBe(1);
    // Someone else's claim, made while the item was waiting, is still refused.
    const other = JSON.stringify({ status: "claimed", by: "bob", at: new Date().toISOString() });
    expect(
      await compareAndWrite(client, [{ key, equals: "waiting" }], [{ op: "set", key, value: other }]),
    ).toBe(false);
    expect(await direct.get(key)).toBe(claimed);
  });
});
