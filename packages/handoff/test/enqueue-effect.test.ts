/**
 * A run's job added by the checkpoint that queues it (an `enqueue` effect, one Redis), on a real
 * redis-server and real BullMQ: the job is the one `Queue.add` makes, field for field; a BullMQ worker
 * takes it, retries it with its backoff and completes it; a job id already there adds nothing; the
 * write leaves no dispatch mark (a write without the effect still does); a write Redis refuses adds
 * no job.
 */
import { randomUUID } from "node:crypto";
import type { RunState } from "@freehold/api";
import { Worker } from "bullmq";
import { describe, expect, it } from "vitest";
import {
  agentQueueName,
  agentQueuePrefix,
  clearMarksEffect,
  createAgentQueues,
  dispatchKey,
  newRun,
  type AgentQueues,
} from "../src/index.ts";
import { useRedisStore } from "./redis-store.ts";

const namespace = "enqueue";
const local = useRedisStore();

/**
 * A run taken up by agent `triage` (`created`: running, its start's dispatch mark cleared, as a
 * pickup does), and the same run transferred to `billing` (`queued`, not yet written).
 */
async function transferred(): Promise<{ readonly created: RunState; readonly queued: RunState }> {
  const run = newRun({ id: randomUUID(), namespace, agent: "triage", input: "Hi" });
  await local.store.create(run, []);
  const created = await local.store.checkpoint(run, { ...run, status: "running" }, [], {
    effects: [clearMarksEffect(namespace, run.id, Date.now())],
  });
  expect(await local.redis.zscore(dispatchKey(namespace, run.id), run.id)).toBeNull();
  return { created, queued: { ...created, status: "queued", agent: "billing" } };
}

/** The job's hash, as BullMQ stores it. */
async function jobHash(queues: AgentQueues, jobId: string): Promise<Record<string, string>> {
  return local.redis.hgetall(queues.queue(namespace, "billing").toKey(jobId));
}

describe("a run's job added by its checkpoint (enqueue effect)", () => {
  it("adds the job Queue.add adds, in the write that queues the run, and marks nothing for dispatch", async () => {
    const queues = createAgentQueues(local.redis);
    try {
      const before = Date.now();
      // One run queued the usual way: a write (which marks it), then Queue.add.
      const usual = await transferred();
      await local.store.checkpoint(usual.created, usual.queued, []);
      await queues.enqueue(namespace, "billing", usual.created.id, { key: "r2" });
      // The other with its job in the write.
      const fused = await transferred();
      const effect = queues.enqueueEffect(namespace, "billing", fused.created.id, { key: "r2" });
      expect(effect).toBeDefined();
      await local.store.checkpoint(fused.created, fused.queued, [], { effects: effect ? [effect] : [] });

      const added = await jobHash(queues, `${usual.created.id}.r2`);
      const made = await jobHash(queues, `${fused.created.id}.r2`);
      expect(Object.keys(made).sort()).toEqual(Object.keys(added).sort());
      expect(made["name"]).toBe(added["name"]);
      expect(made["delay"]).toBe(added["delay"]);
      expect(made["priority"]).toBe(added["priority"]);
      expect(JSON.parse(made["data"] ?? "")).toEqual({
        schemaVersion: 1,
        runId: fused.created.id,
        namespace,
      });
      expect(JSON.parse(added["data"] ?? "")).toEqual({
        schemaVersion: 1,
        runId: usual.created.id,
        namespace,
      });
      const opts = JSON.parse(made["opts"] ?? "") as Record<string, unknown>;
      expect(opts).toEqual({
        ...(JSON.parse(added["opts"] ?? "") as Record<string, unknown>),
        jobId: `${fused.created.id}.r2`,
      });
      expect(opts).toMatchObject({ attempts: 8, backoff: { type: "exponential", delay: 1000 } });
      expect(Number(made["timestamp"])).toBeGreaterThanOrEqual(before);
      expect(Number(made["timestamp"])).toBeLessThanOrEqual(Date.now());

      // Both wait, in order, with the events BullMQ's own add emits.
      const queue = queues.queue(namespace, "billing");
      expect(await local.redis.lrange(queue.toKey("wait"), 0, -1)).toEqual([
        `${fused.created.id}.r2`,
        `${usual.created.id}.r2`,
      ]);
      expect(await queue.getJobCounts("waiting")).toEqual({ waiting: 2 });
      const events = (await local.redis.xrange(queue.toKey("events"), "-", "+")).map(([, fields]) =>
        fields.join(" "),
      );
      for (const id of [usual.created.id, fused.created.id]) {
        expect(events).toContain(`event added jobId ${id}.r2 name run`);
        expect(events).toContain(`event waiting jobId ${id}.r2`);
      }
      // The usual way marks the run (the sweeper's net for a crash before the add); the fused one needs none.
      expect(
        await local.redis.zscore(dispatchKey(namespace, usual.created.id), usual.created.id),
      ).not.toBeNull();
      expect(await local.redis.zscore(dispatchKey(namespace, fused.created.id), fused.created.id)).toBeNull();
      await queue.obliterate({ force: true });
    } finally {
      await queues.close();
    }
  });

  it("is taken by a BullMQ worker, retried with its backoff after a failure, and completed", async () => {
    const queues = createAgentQueues(local.redis);
    const { created, queued } = await transferred();
    const effect = queues.enqueueEffect(namespace, "billing", created.id, { key: "r2" });
    await local.store.checkpoint(created, queued, [], { effects: effect ? [effect] : [] });
    const attempts: { data: unknown; at: number }[] = [];
    const worker = new Worker(
      agentQueueName(namespace, "billing"),
      (job) => {
        if (job.id !== `${created.id}.r2`) return Promise.resolve("not this test's");
        attempts.push({ data: job.data, at: Date.now() });
        if (attempts.length === 1) throw new Error("a server down");
        return Promise.resolve("done");
      },
      { connection: local.redis.duplicate(), prefix: agentQueuePrefix(namespace) },
    );
    try {
      await expect.poll(() => attempts.length, { timeout: 10_000, interval: 50 }).toBe(2);
      const job = await queues.queue(namespace, "billing").getJob(`${created.id}.r2`);
      await expect.poll(async () => job?.getState(), { timeout: 5_000, interval: 50 }).toBe("completed");
      expect(attempts.map(({ data }) => data)).toEqual([
        { schemaVersion: 1, runId: created.id, namespace },
        { schemaVersion: 1, runId: created.id, namespace },
      ]);
      // Exponential backoff of 1 s after the first failure, as the job's options say.
      const [first, second] = attempts;
      expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(900);
      await queues.queue(namespace, "billing").obliterate({ force: true });
    } finally {
      await worker.close();
      await queues.close();
    }
  });

  it("adds nothing for a job id already there, and no job for a write Redis refuses", async () => {
    const queues = createAgentQueues(local.redis);
    try {
      const queue = queues.queue(namespace, "billing");
      const { created, queued } = await transferred();
      await queues.enqueue(namespace, "billing", created.id, { key: "r2" });
      const first = await jobHash(queues, `${created.id}.r2`);
      const effect = queues.enqueueEffect(namespace, "billing", created.id, { key: "r2" });
      await local.store.checkpoint(created, queued, [], { effects: effect ? [effect] : [] });
      expect(await local.redis.lrange(queue.toKey("wait"), 0, -1)).toEqual([`${created.id}.r2`]);
      expect(await jobHash(queues, `${created.id}.r2`)).toEqual(first);

      // A write from a stale revision (another worker wrote meanwhile) is refused: no job for it.
      const other = await transferred();
      await local.store.checkpoint(other.created, { ...other.created, status: "running" }, []);
      const stale = queues.enqueueEffect(namespace, "billing", other.created.id, { key: "r2" });
      await expect(
        local.store.checkpoint(other.created, other.queued, [], { effects: stale ? [stale] : [] }),
      ).rejects.toMatchObject({ code: "run.conflict" });
      expect(await local.redis.exists(queue.toKey(`${other.created.id}.r2`))).toBe(0);
      expect(await local.redis.lrange(queue.toKey("wait"), 0, -1)).toEqual([`${created.id}.r2`]);
      await queue.obliterate({ force: true });
    } finally {
      await queues.close();
    }
  });
});
