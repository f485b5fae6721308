/**
 * Retention and cancellation on a real redis-server: the checkpoint that ends a run sets its keys to
 * expire (a running run's keys never expire), a short retention really removes them, a run's stream
 * is capped, and cancelling a run removes the inbox or approval items it waited on and cancels its
 * child runs, theirs too.
 */
import { randomUUID } from "node:crypto";
import { FreeholdError, type RunState } from "@freehold/api";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  approvalItemEffects,
  approvalItemKey,
  approvalsKey,
  blobThreshold,
  cancelRun,
  createDispatcher,
  createInbox,
  dispatchKey,
  createAgentQueues,
  createRunStore,
  defaultRunRetentionSeconds,
  finish,
  inboxItemEffects,
  inboxItemKey,
  inboxQueueKey,
  newRun,
  parseRetentionSeconds,
  runBlobsKey,
  runEventsKey,
  runKey,
  runMessagesKey,
  runPickupsKey,
  runStartedByKey,
  startRedisServer,
  type AgentQueues,
  type RedisServer,
  writeTenancy,
  type RunStore,
} from "../src/index.ts";

const namespace = "retention";
let server: RedisServer;
let redis: Redis;
let store: RunStore;
let queues: AgentQueues;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  store = createRunStore(redis);
  queues = createAgentQueues(redis);
});

afterAll(async () => {
  await queues.close();
  redis.disconnect();
  await server.stop();
});

/** A new run, stored and marked running (as a worker's first checkpoint does). */
async function runningRun(
  on: RunStore,
  extra: Partial<RunState> = {},
  id: string = randomUUID(),
): Promise<RunState> {
  const state = newRun({ id, namespace, agent: "billing", input: "Hi" });
  await on.create(state, [
    { type: "run-start", runId: state.id, time: state.createdAt, agent: "billing", input: "Hi" },
  ]);
  return on.checkpoint(state, { ...state, status: "running", ...extra }, []);
}

describe("retention", () => {
  it("gives a finished run's keys the retention period and a running run's none", async () => {
    // A long tool result, so the run has a message list and a text stored apart too.
    const running = await runningRun(store, {
      messages: [
        { role: "user", content: "Hi" },
        { role: "tool", toolCallId: "call_1", name: "read", content: "x".repeat(blobThreshold + 1) },
      ],
    });
    await redis.set(runStartedByKey(namespace, running.id), "ann");
    await redis.hset(runPickupsKey(namespace, running.id), "count", "1");
    expect(await redis.ttl(runKey(namespace, running.id))).toBe(-1);
    expect(await redis.ttl(runEventsKey(namespace, running.id))).toBe(-1);

    const { state, events } = finish(running, "completed", new Date(), { output: "Done." });
    await store.checkpoint(running, state, events);
    for (const key of [
      runKey(namespace, running.id),
      runEventsKey(namespace, running.id),
      runStartedByKey(namespace, running.id),
      runMessagesKey(namespace, running.id),
      runBlobsKey(namespace, running.id),
    ]) {
      const ttl = await redis.ttl(key);
      expect(ttl, key).toBeGreaterThan(defaultRunRetentionSeconds - 60);
      expect(ttl, key).toBeLessThanOrEqual(defaultRunRetentionSeconds);
    }
    // Its pickups are gone with the write that ended it: no worker died on it.
    expect(await redis.exists(runPickupsKey(namespace, running.id))).toBe(0);
    // A run that has not ended keeps its keys.
    const other = await runningRun(store);
    expect(await redis.ttl(runKey(namespace, other.id))).toBe(-1);
  });

  it("removes a finished run after a short retention, and a cancelled one too", async () => {
    const short = createRunStore(redis, { retentionSeconds: 1 });
    const finished = await runningRun(short);
    const { state, events } = finish(finished, "failed", new Date(), {
      error: { code: "test.failed", message: "failed on purpose" },
    });
    await short.checkpoint(finished, state, events);
    const cancelled = await runningRun(short);
    await cancelRun(short, namespace, cancelled.id);
    const keys = [finished.id, cancelled.id].flatMap((id) => [
      runKey(namespace, id),
      runEventsKey(namespace, id),
      runMessagesKey(namespace, id),
    ]);
    expect(await redis.exists(...keys)).toBe(keys.length);
    // Redis expires keys lazily and in an active cycle (10 times a second): poll, bounded.
    for (let attempt = 0; attempt < 100 && (await redis.exists(...keys)) > 0; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await redis.exists(...keys)).toBe(0);
    expect(await short.get(namespace, finished.id)).toBeUndefined();
  });

  it("keeps a tenant's finished runs for the tenant's own period (Tenant spec.runRetention)", async () => {
    const tenant = `t${randomUUID().slice(0, 8)}`;
    const owned = `${tenant}-runs`;
    await writeTenancy(redis, { tenant, namespaces: [owned], limits: { runRetentionSeconds: 120 } });
    const ending = async (space: string): Promise<number> => {
      const state = newRun({ id: randomUUID(), namespace: space, agent: "billing", input: "Hi" });
      await store.create(state, []);
      const { state: ended, events } = finish(state, "completed", new Date(), { output: "Done." });
      await store.checkpoint(state, ended, events);
      return redis.ttl(runKey(space, state.id));
    };
    const tenantTtl = await ending(owned);
    expect(tenantTtl).toBeGreaterThan(60);
    expect(tenantTtl).toBeLessThanOrEqual(120);
    // A namespace of no tenant keeps the store's period.
    expect(await ending(`${tenant}-other`)).toBeGreaterThan(defaultRunRetentionSeconds - 60);
  });

  it("resumes a parent whose child run expired before the parent read its answer, with an error result", async () => {
    const parent = await runningRun(store);
    const childRunId = randomUUID();
    const waiting = await store.checkpoint(
      parent,
      {
        ...parent,
        status: "waiting_for_agent",
        waiting: { kind: "agent", childRunIds: [childRunId] },
        pendingToolCalls: [
          {
            toolCall: { id: "call-1", name: "ask_researcher", arguments: '{"input":"?"}' },
            idempotencyKey: randomUUID(),
            status: "pending",
            special: { kind: "delegate", agent: "researcher", childRunId },
            startedAt: new Date().toISOString(),
          },
        ],
      },
      [],
    );
    await redis.zadd(dispatchKey(namespace, waiting.id), Date.now(), waiting.id);
    await createDispatcher({ redis, store, queues }).dispatch(namespace, waiting.id);
    const resumed = await store.require(namespace, waiting.id);
    expect(resumed.status).toBe("queued");
    expect(resumed.pendingToolCalls).toEqual([]);
    const answer = resumed.messages.at(-1);
    expect(answer?.role).toBe("tool");
    expect(answer?.content).toContain(`its run ${childRunId} ended and expired`);
    const ends = (await store.readEvents(namespace, waiting.id)).filter(
      ({ event }) => event.type === "delegation-end",
    );
    expect(ends.map(({ event }) => event)).toMatchObject([{ childRunId, status: "failed" }]);
  });

  it("keeps every run when the retention is 0", async () => {
    const forever = createRunStore(redis, { retentionSeconds: 0 });
    const running = await runningRun(forever);
    const { state, events } = finish(running, "completed", new Date(), { output: "Done." });
    await forever.checkpoint(running, state, events);
    expect(await redis.ttl(runKey(namespace, running.id))).toBe(-1);
  });

  it("caps a run's stream near its bound, keeping the newest events", async () => {
    const capped = createRunStore(redis, { maxEventsPerRun: 100 });
    let state = await runningRun(capped);
    for (let batch = 0; batch < 10; batch += 1) {
      const time = new Date().toISOString();
      state = await capped.checkpoint(
        state,
        state,
        Array.from({ length: 50 }, (_, index) => ({
          type: "model-call-start" as const,
          runId: state.id,
          time,
          step: batch * 50 + index,
          model: "m",
        })),
      );
    }
    const length = await redis.xlen(runEventsKey(namespace, state.id));
    // MAXLEN ~ trims whole stream nodes (100 entries each by default): about the bound, never all 501.
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThan(300);
    const events = await capped.readEvents(namespace, state.id);
    expect(events.at(-1)?.event).toMatchObject({ type: "model-call-start", step: 499 });
  });

  it("reads retention periods in seconds or with a unit, and refuses others", () => {
    expect(parseRetentionSeconds("7d", "x")).toBe(604_800);
    expect(parseRetentionSeconds("12h", "x")).toBe(43_200);
    expect(parseRetentionSeconds("90", "x")).toBe(90);
    expect(parseRetentionSeconds("0", "x")).toBe(0);
    for (const bad of ["", "7 days", "-1", "1.5h", "1w", "99999999999"]) {
      expect(() => parseRetentionSeconds(bad, "runs.retention"), bad).toThrow(/runs\.retention/);
    }
  });
});

describe("cancelling", () => {
  it("removes the inbox item of a run waiting for a person", async () => {
    const running = await runningRun(store);
    const itemId = `${running.id}-1-0`;
    const time = new Date().toISOString();
    const item = {
      schemaVersion: 1 as const,
      id: itemId,
      namespace,
      queue: "billing-desk",
      runId: running.id,
      agent: "billing",
      summary: "A refund",
      reason: "Needs a person",
      priority: "normal" as const,
      conversation: running.messages,
      status: "waiting" as const,
      createdAt: time,
      queuedAt: time,
      escalations: 0,
      leaseSeconds: 900,
    };
    await store.checkpoint(
      running,
      { ...running, status: "waiting_for_human", waiting: { kind: "human", queue: "billing-desk", itemId } },
      [],
      { effects: inboxItemEffects(item) },
    );
    const inbox = createInbox({ redis, store, queues });
    expect((await inbox.list(namespace, "billing-desk")).map((listed) => listed.id)).toContain(itemId);

    const cancelled = await cancelRun(store, namespace, running.id);
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.waiting).toBeUndefined();
    expect((await inbox.list(namespace, "billing-desk")).map((listed) => listed.id)).not.toContain(itemId);
    expect(await redis.exists(inboxItemKey(namespace, itemId))).toBe(0);
    expect(
      await redis.zscore(inboxQueueKey(namespace, "billing-desk", "waiting", itemId), itemId),
    ).toBeNull();
  });

  it("removes the approval items of a run waiting for approval", async () => {
    const running = await runningRun(store);
    // Item ids as a run makes them: its id, the step, the call.
    const itemIds = [`${running.id}-1-0`, `${running.id}-1-1`];
    const effects = itemIds.flatMap((id) =>
      approvalItemEffects({
        schemaVersion: 1,
        id,
        namespace,
        agent: "billing",
        runId: running.id,
        toolCall: { id: `call-${id}`, name: "refund", arguments: "{}" },
        server: "billing-api",
        tool: "refund",
        arguments: {},
        reason: "",
        createdAt: new Date().toISOString(),
      }),
    );
    await store.checkpoint(
      running,
      { ...running, status: "waiting_for_approval", waiting: { kind: "approval", itemIds } },
      [],
      { effects },
    );
    expect(await redis.zcard(approvalsKey(namespace, running.id))).toBeGreaterThanOrEqual(2);
    await cancelRun(store, namespace, running.id);
    for (const id of itemIds) {
      expect(await redis.exists(approvalItemKey(namespace, id))).toBe(0);
      expect(await redis.zscore(approvalsKey(namespace, id), id)).toBeNull();
    }
  });

  it("cancels the child runs of a run, and theirs, but leaves ended ones as they are", async () => {
    const parent = await runningRun(store);
    // Child run ids as a run makes them (its id, the step, the call): in its shard.
    const child = await runningRun(
      store,
      { parent: { runId: parent.id, toolCallId: "c1", agent: "billing", depth: 1 } },
      `${parent.id}-1-0`,
    );
    const done = await runningRun(
      store,
      { parent: { runId: parent.id, toolCallId: "c2", agent: "billing", depth: 1 } },
      `${parent.id}-1-1`,
    );
    const ended = finish(done, "completed", new Date(), { output: "Answered." });
    await store.checkpoint(done, ended.state, ended.events);
    const grandchild = await runningRun(
      store,
      { parent: { runId: child.id, toolCallId: "g1", agent: "billing", depth: 2 } },
      `${child.id}-1-0`,
    );
    const childNow = await store.require(namespace, child.id);
    await store.checkpoint(
      childNow,
      { ...childNow, status: "waiting_for_agent", waiting: { kind: "agent", childRunIds: [grandchild.id] } },
      [],
    );
    await store.checkpoint(
      parent,
      {
        ...parent,
        status: "waiting_for_agent",
        waiting: { kind: "agent", childRunIds: [child.id, done.id] },
      },
      [],
    );

    await cancelRun(store, namespace, parent.id);
    expect((await store.require(namespace, parent.id)).status).toBe("cancelled");
    expect((await store.require(namespace, child.id)).status).toBe("cancelled");
    expect((await store.require(namespace, grandchild.id)).status).toBe("cancelled");
    expect((await store.require(namespace, done.id)).status).toBe("completed");
    const events = await store.readEvents(namespace, grandchild.id);
    expect(events.at(-1)?.event).toMatchObject({ type: "run-end", status: "cancelled" });

    const again = await cancelRun(store, namespace, parent.id).catch((error: unknown) => error);
    expect(again).toBeInstanceOf(FreeholdError);
    expect((again as FreeholdError).code).toBe("run.finished");
  });
});
