/**
 * The run store's layout on a real redis-server: a checkpoint appends the step's messages (its size
 * does not grow with the conversation), long texts are stored once apart and come back in place
 * (state, messages, events, live followers), a forged reference comes back as written, a rewritten
 * conversation is stored whole, and a run stored in the earlier layout (messages inside the state)
 * is read and moved to the new one by its next checkpoint. A checkpoint counts a worker's pickup
 * (refusing the one past the stalls allowed), clears the pickups when the run leaves its worker, and
 * clears dispatch marks up to a time.
 */
import { randomUUID } from "node:crypto";
import type { ChatMessage, RunEvent, RunState } from "@freehold/api";
import { describe, expect, it } from "vitest";
import {
  blobThreshold,
  clearMarksEffect,
  createEventFanout,
  dispatchKey,
  newRun,
  runBlobsKey,
  runEventsKey,
  runKey,
  runMessagesKey,
  runPickupsKey,
} from "../src/index.ts";
import { useRedisStore } from "./redis-store.ts";

const namespace = "layout";
const local = useRedisStore();

async function createdRun(input = "Hi"): Promise<RunState> {
  const state = newRun({ id: randomUUID(), namespace, agent: "billing", input });
  await local.store.create(state, [
    { type: "run-start", runId: state.id, time: state.createdAt, agent: "billing", input },
  ]);
  return state;
}

/** Bytes the local.server received while `work` ran (every client; nothing else talks to it meanwhile). */
async function bytesReceived(work: () => Promise<unknown>): Promise<number> {
  const read = async (): Promise<number> =>
    Number(/total_net_input_bytes:(\d+)/.exec(await local.redis.info("stats"))?.[1] ?? Number.NaN);
  const before = await read();
  await work();
  return (await read()) - before;
}

function toolTurn(step: number, content: string): ChatMessage[] {
  return [
    {
      role: "assistant",
      content: "",
      toolCalls: [{ id: `call_${step}`, name: "read", arguments: `{"page":${step}}` }],
    },
    { role: "tool", toolCallId: `call_${step}`, name: "read", content },
  ];
}

describe("run local.store layout", () => {
  it("appends each step's messages: a checkpoint at step 200 writes what one at step 5 writes", async () => {
    let state = await createdRun();
    const sizes = new Map<number, number>();
    for (let step = 1; step <= 200; step += 1) {
      const previous = state;
      const next = {
        ...previous,
        steps: step,
        messages: [...previous.messages, ...toolTurn(step, "y".repeat(800))],
      };
      const bytes = await bytesReceived(async () => {
        state = await local.store.checkpoint(previous, next, []);
      });
      sizes.set(step, bytes);
    }
    const early = sizes.get(5) ?? 0;
    const late = sizes.get(200) ?? 0;
    // The step number's digits differ; nothing else does. The full state would be 100 times larger.
    expect(late).toBeLessThan(early + 64);
    expect(await local.redis.llen(runMessagesKey(namespace, state.id))).toBe(401);
    const read = await local.store.require(namespace, state.id);
    expect(read).toEqual(state);
  });

  it("stores a long text once, apart, and gives it back in state, messages and events", async () => {
    const created = await createdRun();
    const big = "z".repeat(1024 * 1024);
    const call = { id: "call_big", name: "read", arguments: "{}" };
    const pending: RunState = {
      ...created,
      status: "running",
      steps: 1,
      messages: [...created.messages, { role: "assistant", content: "", toolCalls: [call] }],
      pendingToolCalls: [
        {
          toolCall: call,
          idempotencyKey: "k",
          status: "done",
          content: big,
          result: { content: [{ type: "text", text: big }] },
        },
      ],
    };
    const end: RunEvent = {
      type: "tool-call-end",
      runId: created.id,
      time: new Date().toISOString(),
      toolCallId: call.id,
      name: "read",
      content: big,
      isError: false,
      durationMs: 1,
    };
    // The text three times in one checkpoint (record, its result, the event): sent once.
    const first = await bytesReceived(async () => {
      await local.store.checkpoint(created, pending, [end]);
    });
    expect(first).toBeGreaterThan(big.length);
    expect(first).toBeLessThan(big.length + 8 * 1024);
    const stored = await local.store.require(namespace, created.id);
    expect(stored).toEqual({ ...pending, revision: stored.revision, updatedAt: stored.updatedAt });
    // The next step moves it into the conversation: referenced, not sent again.
    const answered: RunState = {
      ...stored,
      messages: [...stored.messages, { role: "tool", toolCallId: call.id, name: "read", content: big }],
      pendingToolCalls: [],
    };
    const second = await bytesReceived(async () => {
      await local.store.checkpoint(stored, answered, []);
    });
    expect(second).toBeLessThan(8 * 1024);
    expect(await local.redis.hlen(runBlobsKey(namespace, created.id))).toBe(1);
    expect((await local.redis.hget(runKey(namespace, created.id), "state"))?.length).toBeLessThan(4096);
    const read = await local.store.require(namespace, created.id);
    expect(read.messages.at(-1)).toEqual({ role: "tool", toolCallId: call.id, name: "read", content: big });
    const [event] = (await local.store.readEvents(namespace, created.id)).filter(
      ({ event }) => event.type === "tool-call-end",
    );
    expect(event?.event).toEqual(end);
    // Raw in the stream: a reference, not the text.
    const raw = await local.redis.xrange(runEventsKey(namespace, created.id), "-", "+");
    expect(raw.every(([, fields]) => (fields[1] ?? "").length < 4096)).toBe(true);
  });

  it("gives live followers the long texts in place", async () => {
    const created = await createdRun();
    const fanout = createEventFanout({ redis: local.redis, store: local.store, blockMs: 200 });
    try {
      const received: RunEvent[] = [];
      const following = (async () => {
        for await (const { event } of fanout.follow(namespace, created.id)) {
          received.push(event);
          if (event.type === "tool-call-end") return;
        }
      })();
      const big = "q".repeat(blobThreshold * 2);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await local.store.checkpoint(created, { ...created, status: "running" }, [
        {
          type: "tool-call-end",
          runId: created.id,
          time: new Date().toISOString(),
          toolCallId: "call_1",
          name: "read",
          content: big,
          isError: false,
          durationMs: 1,
        },
      ]);
      await following;
      expect(received.at(-1)).toMatchObject({ type: "tool-call-end", content: big });
    } finally {
      await fanout.close();
    }
  });

  it("gives back a string that looks like a reference as it was written", async () => {
    const forged = `\u0000freehold-blob:${"A".repeat(43)}`;
    const created = await createdRun(forged);
    const read = await local.store.require(namespace, created.id);
    expect(read.input).toBe(forged);
    expect(read.messages[0]).toEqual({ role: "user", content: forged });
    const [start] = await local.store.readEvents(namespace, created.id);
    expect(start?.event).toMatchObject({ type: "run-start", input: forged });
  });

  it("stores a rewritten conversation whole", async () => {
    const created = await createdRun();
    const long = await local.store.checkpoint(
      created,
      { ...created, messages: [...created.messages, ...toolTurn(1, "a")] },
      [],
    );
    const rewritten = await local.store.checkpoint(
      long,
      { ...long, messages: [{ role: "user", content: "Summary." }] },
      [],
    );
    expect((await local.store.require(namespace, created.id)).messages).toEqual([
      { role: "user", content: "Summary." },
    ]);
    expect(await local.redis.llen(runMessagesKey(namespace, created.id))).toBe(1);
    // And appends to it again.
    await local.store.checkpoint(
      rewritten,
      { ...rewritten, messages: [...rewritten.messages, ...toolTurn(2, "b")] },
      [],
    );
    expect((await local.store.require(namespace, created.id)).messages).toHaveLength(3);
  });

  it("sends a long text again when the run's stored texts are gone from under it", async () => {
    const created = await createdRun();
    const big = "w".repeat(blobThreshold + 10);
    const first = await local.store.checkpoint(
      created,
      { ...created, messages: [...created.messages, ...toolTurn(1, big)] },
      [],
    );
    await local.redis.del(runBlobsKey(namespace, created.id));
    // The same text in the next step: this process believes it stored, the script finds it missing.
    const next = { ...first, messages: [...first.messages, ...toolTurn(2, big)] };
    await local.store.checkpoint(first, next, []);
    expect((await local.store.require(namespace, created.id)).messages.at(-1)).toMatchObject({
      content: big,
    });
  });

  it("reads a run stored with its messages inside the state, and moves it to the list", async () => {
    const old = newRun({ id: randomUUID(), namespace, agent: "billing", input: "Hi" });
    const state: RunState = { ...old, status: "running", messages: [...old.messages, ...toolTurn(1, "old")] };
    await local.redis.hset(runKey(namespace, old.id), { state: JSON.stringify(state), revision: "0" });
    expect(await local.store.require(namespace, old.id)).toEqual(state);
    const next = await local.store.checkpoint(
      state,
      { ...state, messages: [...state.messages, ...toolTurn(2, "new")] },
      [],
    );
    expect(await local.redis.llen(runMessagesKey(namespace, old.id))).toBe(5);
    expect(await local.store.require(namespace, old.id)).toEqual(next);
  });
});

describe("run local.store pickups and marks", () => {
  const pickup = { progress: "0/1/0", job: "job-1", jobStalls: 1, maxStalls: 2, ttlSeconds: 60 };

  it("counts the deaths on a run from its job's stalls, and refuses the pickup past maxStalls", async () => {
    const created = await createdRun();
    const key = runPickupsKey(namespace, created.id);
    // The job stalled once, with no record of it: that death counts.
    const first = await local.store.checkpoint(created, { ...created, status: "running" }, [], { pickup });
    expect(await local.redis.hgetall(key)).toEqual({ progress: "0/1/0", count: "1", job: "job-1", stc: "1" });
    // Taken up again with no stall since (a lost lock, not a death): still one.
    const again = await local.store.checkpoint(first, first, [], { pickup });
    expect(await local.redis.hget(key, "count")).toBe("1");
    // A second stall at the same progress makes two: refused, nothing written.
    await expect(
      local.store.checkpoint(again, again, [], { pickup: { ...pickup, jobStalls: 2 } }),
    ).rejects.toMatchObject({
      code: "run.stalled",
      details: { stalls: 2 },
    });
    expect((await local.store.require(namespace, created.id)).revision).toBe(again.revision);
    expect(await local.redis.hget(key, "count")).toBe("1");
    // Progress since the record, then a stall: the worker that made it died, once.
    const moved = await local.store.checkpoint(again, again, [], {
      pickup: { ...pickup, progress: "1/3/0", jobStalls: 2 },
    });
    expect(moved.revision).toBe(again.revision + 1);
    expect(await local.redis.hgetall(key)).toEqual({ progress: "1/3/0", count: "1", job: "job-1", stc: "2" });
    // A record of another job is not this one's: every stall of this job counts.
    const other = await local.store.checkpoint(moved, moved, [], { pickup: { ...pickup, job: "job-2" } });
    expect(await local.redis.hgetall(key)).toEqual({ progress: "0/1/0", count: "1", job: "job-2", stc: "1" });
    await expect(
      local.store.checkpoint(other, other, [], { pickup: { ...pickup, job: "job-3", jobStalls: 2 } }),
    ).rejects.toMatchObject({ code: "run.stalled", details: { stalls: 2 } });
  });

  it("counts no death for a stall before a worker let go of the run alive", async () => {
    const created = await createdRun();
    const key = runPickupsKey(namespace, created.id);
    const first = await local.store.checkpoint(created, { ...created, status: "running" }, [], { pickup });
    // The worker that took it up after the job's first stall stops, and puts the run back on its queue.
    await local.store.letGo(namespace, created.id, { ...pickup, jobStalls: 1 });
    expect(await local.redis.hgetall(key)).toEqual({ progress: "0/1/0", count: "0", job: "job-1", stc: "1" });
    expect(await local.redis.ttl(key)).toBeGreaterThan(0);
    // Taken up again (no stall since): nothing counted; after one more stall, one.
    const again = await local.store.checkpoint(first, first, [], { pickup });
    expect(await local.redis.hget(key, "count")).toBe("0");
    await local.store.checkpoint(again, again, [], { pickup: { ...pickup, jobStalls: 2 } });
    expect(await local.redis.hget(key, "count")).toBe("1");
  });

  it("clears the pickups when a checkpoint leaves the run queued, not while it runs", async () => {
    const created = await createdRun();
    const running = await local.store.checkpoint(created, { ...created, status: "running" }, [], { pickup });
    const still = await local.store.checkpoint(running, { ...running, steps: 1 }, []);
    expect(await local.redis.exists(runPickupsKey(namespace, created.id))).toBe(1);
    await local.store.checkpoint(still, { ...still, status: "queued", agent: "support" }, []);
    expect(await local.redis.exists(runPickupsKey(namespace, created.id))).toBe(0);
  });

  it("clears the dispatch marks made by a time with a pickup, and keeps a later one", async () => {
    const created = await createdRun();
    const key = dispatchKey(namespace, created.id);
    await local.redis.zadd(key, 1000, created.id);
    const running = await local.store.checkpoint(created, { ...created, status: "running" }, [], {
      effects: [clearMarksEffect(namespace, created.id, 999)],
    });
    expect(await local.redis.zscore(key, created.id)).toBe("1000");
    await local.store.checkpoint(running, running, [], {
      effects: [clearMarksEffect(namespace, created.id, 1000)],
    });
    expect(await local.redis.zscore(key, created.id)).toBeNull();
  });
});
