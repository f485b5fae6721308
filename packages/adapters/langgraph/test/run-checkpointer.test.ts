/**
 * The run's LangGraph checkpointer on a real Redis: LangGraph's `BaseCheckpointSaver` contract
 * (latest and by id, parents, pending writes in LangGraph's order, list with limit, before and filter,
 * deleteThread), one key in the run's hash tag, the run's retention, and the thread bound to the run.
 */
import { randomUUID } from "node:crypto";
import { runKey, type RedisClient } from "@freehold/handoff";
import { emptyCheckpoint, type Checkpoint } from "@langchain/langgraph-checkpoint";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRunServices, type RunServices } from "../../../../test/fixtures/run-services.ts";
import { createRunCheckpointer } from "../src/index.ts";

let services: RunServices;
let redis: RedisClient;

beforeAll(async () => {
  services = await startRunServices();
  redis = services.connection;
});
afterAll(() => services.stop());

function checkpoint(id: string, messages: string[]): Checkpoint {
  return { ...emptyCheckpoint(), id, channel_values: { messages }, channel_versions: { messages: 1 } };
}

describe("the run checkpointer", () => {
  it("stores LangGraph's checkpoints and writes under the run's key, and gives them back", async () => {
    const namespace = "acme";
    const runId = randomUUID();
    let steps = 0;
    const saver = createRunCheckpointer({ redis, namespace, runId, steps: () => steps });
    const thread = { configurable: { thread_id: runId, checkpoint_ns: "" } };
    expect(await saver.getTuple(thread)).toBeUndefined();
    expect(await saver.stepsAtLatest()).toBeUndefined();

    const first = await saver.put(
      thread,
      checkpoint("0001", ["hi"]),
      { source: "input", step: -1, parents: {} },
      {},
    );
    steps = 1;
    const second = await saver.put(
      first,
      checkpoint("0002", ["hi", "hello"]),
      { source: "loop", step: 0, parents: {} },
      {},
    );
    await saver.putWrites(second, [["messages", "from b"]], "task-b", "~b");
    await saver.putWrites(
      second,
      [
        ["messages", "from a"],
        ["other", 1],
      ],
      "task-a",
      "~a",
    );

    const latest = await saver.getTuple(thread);
    expect(latest?.checkpoint.channel_values).toEqual({ messages: ["hi", "hello"] });
    expect(latest?.metadata).toMatchObject({ source: "loop", step: 0 });
    expect(latest?.parentConfig?.configurable?.checkpoint_id).toBe("0001");
    // In LangGraph's order: by task path, then task, then index.
    expect(latest?.pendingWrites).toEqual([
      ["task-a", "messages", "from a"],
      ["task-a", "other", 1],
      ["task-b", "messages", "from b"],
    ]);
    expect(await saver.stepsAtLatest()).toBe(1);

    const byId = await saver.getTuple({ configurable: { ...thread.configurable, checkpoint_id: "0001" } });
    expect(byId?.checkpoint.channel_values).toEqual({ messages: ["hi"] });
    expect(byId?.pendingWrites).toEqual([]);

    const ids = async (options?: Parameters<typeof saver.list>[1]) => {
      const found: unknown[] = [];
      for await (const tuple of saver.list(thread, options))
        found.push(tuple.config.configurable?.checkpoint_id);
      return found;
    };
    expect(await ids()).toEqual(["0002", "0001"]);
    expect(await ids({ limit: 1 })).toEqual(["0002"]);
    expect(await ids({ before: { configurable: { checkpoint_id: "0002" } } })).toEqual(["0001"]);
    expect(await ids({ filter: { source: "input" } })).toEqual(["0001"]);

    // One key, in the run's hash tag (its Redis Cluster slot).
    expect(saver.key.startsWith(runKey(namespace, runId))).toBe(true);
    expect(await redis.exists(saver.key)).toBe(1);

    await saver.deleteThread(runId);
    expect(await saver.getTuple(thread)).toBeUndefined();
  });

  it("takes the run's retention when the run ended, and keeps no TTL while it goes on", async () => {
    const runId = randomUUID();
    const saver = createRunCheckpointer({ redis, namespace: "acme", runId, steps: () => 0 });
    const thread = { configurable: { thread_id: runId } };
    await saver.put(thread, checkpoint("0001", []), { source: "input", step: -1, parents: {} }, {});
    await saver.expireWithRun();
    expect(await redis.ttl(saver.key)).toBe(-1);
    await redis.hset(runKey("acme", runId), "state", "{}");
    await redis.expire(runKey("acme", runId), 600);
    await saver.expireWithRun();
    // The run's own TTL, copied: set, and no longer than the run's.
    const runTtl = await redis.ttl(runKey("acme", runId));
    const ttl = await redis.ttl(saver.key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(runTtl);
  });

  it("refuses a thread other than its run's", async () => {
    const saver = createRunCheckpointer({ redis, namespace: "acme", runId: "run-1", steps: () => 0 });
    await expect(saver.getTuple({ configurable: { thread_id: "run-2" } })).rejects.toMatchObject({
      code: "adapter.langgraph.thread-invalid",
    });
  });
});
