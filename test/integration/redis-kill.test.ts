/**
 * Redis crashes for real: runs of the multi-agent world (triage → billing → a researcher child run →
 * a slow `charge`, policy `ask` → the desk → billing) go through worker processes while redis-server
 * (append-only) is SIGKILLed mid-batch and started again on the same port and data.
 * - `appendfsync always`: every write is on disk before it is acknowledged, so nothing is lost:
 *   every run, child run and event a watcher saw just before the kill is there after it; every run
 *   completes once; counted at the server, the tool calls follow the interruption policies exactly.
 * - `appendfsync everysec`: what Redis wrote sits in the kernel's page cache and survives a SIGKILL
 *   of the process, but while an fsync is still running (a slow or busy disk) Redis postpones
 *   writing for up to 2 s, and a SIGKILL then loses those acknowledged writes: measured the same way
 *   and printed. Losing the machine loses what was not fsynced yet, about a second: simulated by
 *   putting back the append-only files as they were (a copy) up to a second before the kill, taken
 *   just before a charge started and killed while it runs, so its worker holds a revision Redis
 *   loses. Runs go back in time; a worker that finds its run behind the revision it wrote resumes it
 *   from there (the worker's fix this suite proves: runs used to be left `running` with no job).
 *   Every run still completes once, no item is left; the tool calls follow the policies, except
 *   calls that reached the server while writes were being lost, whose records may be gone: those
 *   may reach it again (same idempotency key), and the suite asserts that every such call did.
 * Prints the figures: runs, kills, revisions and events lost, calls made and received, interruptions.
 */
import { cpSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunEvent } from "@freehold/api";
import {
  createAgentQueues,
  createApprovals,
  createInbox,
  connectRedis,
  createRunStore,
  runEventsKey,
  runKey,
  startRedisSentinel,
  startRedisServer,
  type RedisSentinel,
  type RedisServer,
} from "@freehold/handoff";
import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { actAsPeople, startHandoffWorld } from "./handoff-world.ts";
import { countToolCalls, describeToolCalls } from "./tool-call-accounting.ts";
import { createWorkerFleet, retrying, startRuns, waitForRunsToEnd } from "./worker-fleet.ts";

const runs = 100;
const namespace = "redis-kill";
/** How far back a lost machine takes the append-only files, with everysec. */
const lostWindowMs = 1000;
/** Runs started at each look at the batch (about every 200 ms). */
const startedAtOnce = 5;

/** Each run's revision and number of events (child runs too), read in one transaction. */
type Snapshot = Map<string, { revision: number; events: number }>;

async function snapshot(connection: Redis): Promise<Snapshot> {
  const ids: string[] = [];
  // Run hashes only, in every shard (not a run's events or other keys under it).
  for await (const keys of connection.scanStream({
    match: `freehold:${namespace}:*:run:*`,
    count: 500,
  }) as AsyncIterable<string[]>) {
    for (const key of keys) {
      const id = /:run:([^:]+)$/.exec(key)?.[1];
      if (id !== undefined) ids.push(id);
    }
  }
  const transaction = connection.multi();
  for (const id of ids) {
    transaction.hget(runKey(namespace, id), "revision");
    transaction.xlen(runEventsKey(namespace, id));
  }
  const replies = (await transaction.exec()) ?? [];
  return new Map(
    ids.map((id, index) => [
      id,
      { revision: Number(replies[index * 2]?.[1] ?? 0), events: Number(replies[index * 2 + 1]?.[1] ?? 0) },
    ]),
  );
}

/** What a snapshot taken before a crash has that the store lost: runs, revisions, events. */
function lost(before: Snapshot, after: Snapshot): { runs: number; revisions: number; events: number } {
  let runsLost = 0;
  let revisions = 0;
  let events = 0;
  for (const [id, seen] of before) {
    const kept = after.get(id) ?? { revision: -1, events: 0 };
    if (kept.revision < seen.revision || kept.events < seen.events) runsLost += 1;
    revisions += Math.max(0, seen.revision - kept.revision);
    events += Math.max(0, seen.events - kept.events);
  }
  return { runs: runsLost, revisions, events };
}

/** A crash, what a watcher saw acknowledged just before it, and what Redis had after it. */
interface Crash {
  readonly kind: "process" | "machine" | "failover";
  readonly lost: { runs: number; revisions: number; events: number };
  /** When writes started to be lost (machine), when Redis was killed and when it answered again. */
  readonly from: number;
  readonly killedAt: number;
  readonly to: number;
}

/** Where {@link keepOnDisk} keeps the append-only files as a lost machine's disk would have them. */
function onDiskOf(redis: RedisServer): { files: string; onDisk: string } {
  const files = join(redis.dataDirectory, "appendonlydir");
  return { files, onDisk: `${files}.on-disk` };
}

/** Copies the append-only files now: what the disk holds once the writes after this are lost. */
function keepOnDisk(redis: RedisServer): number {
  const { files, onDisk } = onDiskOf(redis);
  const at = Date.now();
  rmSync(onDisk, { recursive: true, force: true });
  cpSync(files, onDisk, { recursive: true });
  return at;
}

/**
 * Redis with everysec postpones writing its file for up to 2 s while an fsync is still running (a
 * slow or busy disk), so even a SIGKILL of the process alone may lose that much.
 */
const postponedWriteMs = 2000;

/**
 * SIGKILLs redis-server and starts it on the same port and data. With `machine`, the append-only
 * files first go back to the copy {@link keepOnDisk} took at `from` (at most about a second ago:
 * what an fsync once a second may leave on the disk of a lost machine).
 */
async function crash(
  redis: RedisServer,
  connection: Redis,
  kind: Crash["kind"],
  from = Date.now() - postponedWriteMs,
): Promise<Crash> {
  const before = await snapshot(connection);
  await redis.kill();
  const killedAt = Date.now();
  if (kind === "machine") {
    const { files, onDisk } = onDiskOf(redis);
    rmSync(files, { recursive: true, force: true });
    renameSync(onDisk, files);
  }
  await redis.start();
  const after = await snapshot(connection);
  return { kind, lost: lost(before, after), from, killedAt, to: Date.now() };
}

/**
 * SIGKILLs the primary a Sentinel watches and waits until the replica is promoted. What the primary
 * acknowledged and had not replicated yet is lost: counted from a second before the kill.
 */
async function failover(sentinel: RedisSentinel, connection: Redis): Promise<Crash> {
  const before = await snapshot(connection);
  const killedAt = Date.now();
  await sentinel.failover();
  const after = await snapshot(connection);
  return { kind: "failover", lost: lost(before, after), from: killedAt - 1000, killedAt, to: Date.now() };
}

async function runBatch(mode: "always" | "everysec" | "failover"): Promise<void> {
  const started = Date.now();
  const directory = mkdtempSync(join(tmpdir(), `freehold-redis-kill-${mode}-`));
  const sentinel = mode === "failover" ? await startRedisSentinel() : undefined;
  const redis =
    mode === "failover"
      ? undefined
      : await startRedisServer({
          dataDirectory: join(directory, "redis"),
          appendOnly: true,
          appendFsync: mode,
        });
  const url = sentinel?.url ?? redis?.url ?? "";
  const connection = connectRedis(url, { maxRetriesPerRequest: null }) as Redis;
  // Refused connections while Redis is down: commands wait for it to come back.
  connection.on("error", () => undefined);
  const world = await startHandoffWorld({ directory, namespace, delayMs: 150 });
  const fleet = createWorkerFleet({
    configFile: world.configFile,
    redisUrl: url,
    concurrency: 10,
    // Long enough that a job lock Redis gets back from before the lost second is still valid when its
    // worker finds its run behind it: the job is not recovered as stalled, so only the worker itself
    // can keep the run going (with 2 s, the stall check hid runs left with no job).
    lockDurationSeconds: 10,
  });
  const store = createRunStore(connection);
  const queues = createAgentQueues(connection);
  const inbox = createInbox({ redis: connection, store, queues });
  const approvals = createApprovals({ redis: connection, store, queues });
  try {
    for (let index = 0; index < 2; index += 1) fleet.start();
    // Started a few at a time, so that the kills find runs at every stage, charges among them
    // (waitForRunsToEnd reads `ids` afresh on every look, so it waits for those started later too).
    const ids: string[] = [];
    const startSome = async (): Promise<void> => {
      if (ids.length >= runs) return;
      const count = Math.min(startedAtOnce, runs - ids.length);
      const first = ids.length;
      ids.push(
        ...(await startRuns(
          { redis: connection, store, queues },
          { namespace, agent: "triage", count, input: (index) => `order ${first + index}` },
        )),
      );
    };
    await startSome();
    // always: one kill of the process; everysec: one of the machine, then one of the process.
    // failover: the primary goes, the replica takes over.
    const plan: Crash["kind"][] =
      mode === "always" ? ["process"] : mode === "everysec" ? ["machine", "process"] : ["failover"];
    const crashes: Crash[] = [];
    let approved = 0;
    /** When the append-only files were last copied (machine crash). */
    let keptAt = Number.POSITIVE_INFINITY;
    await waitForRunsToEnd({
      store,
      namespace,
      ids,
      fleet,
      timeoutMs: 90_000,
      attempt: retrying,
      async between(finished) {
        await startSome();
        approved += (await actAsPeople({ inbox, approvals }, namespace, retrying)).approved;
        const next = plan[crashes.length];
        // Mid-batch: once a few runs have ended, while the others are under way. The machine goes
        // while a charge runs that started after the copy of its disk: that charge's worker holds
        // a revision Redis loses.
        if (redis !== undefined && next === "process" && finished >= ((crashes.length + 1) * runs) / 4)
          crashes.push(await crash(redis, connection, next));
        if (next === "failover" && sentinel !== undefined && finished >= runs / 4)
          crashes.push(await failover(sentinel, connection));
        if (redis !== undefined && next === "machine" && finished >= ((crashes.length + 1) * runs) / 4) {
          const charging = world.counter
            .calls()
            .some(
              (call) =>
                call.tool === "charge" && call.receivedAt > keptAt && call.receivedAt > Date.now() - 700,
            );
          if (charging && Date.now() - keptAt <= lostWindowMs)
            crashes.push(await crash(redis, connection, next, keptAt));
          else keptAt = keepOnDisk(redis);
        }
        await new Promise((resolve) => setTimeout(resolve, 150));
      },
    });

    const states = await Promise.all(ids.map((id) => store.require(namespace, id)));
    expect(
      states
        .filter((state) => state.status !== "completed")
        .map((state) => [state.id, state.status, state.error]),
    ).toEqual([]);
    for (const state of states) {
      const events: RunEvent[] = (await store.readEvents(namespace, state.id)).map(({ event }) => event);
      const count = (type: RunEvent["type"]) => events.filter((event) => event.type === type).length;
      expect([state.id, count("agent-transfer"), count("delegation-start"), count("run-end")]).toEqual([
        state.id,
        1,
        1,
        1,
      ]);
      const delegation = events.find((event) => event.type === "delegation-start");
      if (delegation?.type === "delegation-start") {
        const child = await store.require(namespace, delegation.childRunId);
        expect([child.id, child.status]).toEqual([child.id, "completed"]);
      }
    }
    expect(await inbox.list(namespace, "desk")).toEqual([]);
    expect(await approvals.list(namespace)).toEqual([]);

    const count = await countToolCalls({
      store,
      namespace,
      runIds: ids,
      counter: world.counter,
      tools: ["charge"],
    });
    const machine = crashes.find((each) => each.kind === "machine" || each.kind === "failover");
    // Calls the accounting cannot square with their run's history, and whether each reached the
    // server inside the lost second (whose records may be gone).
    const unsquared = count.problems.map((problem) => {
      const key = /[0-9a-f-]{36}-\d+-\d+/.exec(problem)?.[0] ?? problem;
      const times = world.counter
        .calls()
        .filter((call) => call.idempotencyKey === key)
        .map((call) => call.receivedAt);
      const inLostWindow = crashes.some((each) => times.some((time) => time >= each.from && time <= each.to));
      return { problem, inLostWindow };
    });
    const describeCrash = (each: Crash) =>
      `${each.kind === "failover" ? "primary killed, replica promoted in " + String(each.to - each.killedAt) + " ms," : each.kind + " crash"}${each.kind === "machine" ? ` (the last ${each.killedAt - each.from} ms of writes gone)` : ""} lost ${each.lost.revisions} acknowledged revisions and ${each.lost.events} events of ${each.lost.runs} runs`;
    console.log(
      `redis kill test (${mode === "failover" ? "Sentinel failover" : `appendfsync ${mode}`}): ${runs} runs, ${crashes.length} Redis kills (${crashes
        .map(describeCrash)
        .join("; ")}); charge calls made ${count.calls}, received at the server ${count.received}, ` +
        `interrupted ${JSON.stringify(count.interrupted)}, ${approved} approved again, ` +
        `${unsquared.length} sent again outside the interruption policies` +
        (machine === undefined
          ? ""
          : ` (${unsquared.filter((each) => each.inLostWindow).length} of them while writes were being lost)`) +
        `; ${describeToolCalls(count)}; ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(crashes.map((each) => each.kind)).toEqual(plan);
    if (mode === "always") {
      // Nothing acknowledged was lost, so every call followed its policy.
      expect(crashes.map((each) => each.lost)).toEqual([{ runs: 0, revisions: 0, events: 0 }]);
      expect(count.problems).toEqual([]);
    } else if (mode === "everysec") {
      // The lost second was really lost (the suite would prove nothing otherwise).
      expect(machine?.lost.revisions).toBeGreaterThan(0);
      // A call sent again against its policy reached the server while writes were being lost.
      expect(unsquared.filter((each) => !each.inLostWindow)).toEqual([]);
    } else {
      // Replication is asynchronous: what the primary had not sent on is lost (often nothing, on
      // loopback); a call sent again against its policy reached the server in that window.
      // A call sent again against its policy reached the server while writes were being lost.
      expect(unsquared.filter((each) => !each.inLostWindow)).toEqual([]);
    }
    expect(count.calls).toBe(runs);
  } finally {
    fleet.killAll();
    await queues.close();
    await world.close();
    connection.disconnect();
    await redis?.stop();
    await sentinel?.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

describe("Redis SIGKILLed mid-batch", () => {
  it("with appendfsync always, loses nothing acknowledged", { timeout: 200_000 }, async () => {
    await runBatch("always");
  });
  it(
    "with appendfsync everysec, loses at most the last second when the machine goes, and runs still complete once",
    { timeout: 200_000 },
    async () => {
      await runBatch("everysec");
    },
  );
  it(
    "with a Sentinel, the primary SIGKILLed and the replica promoted: runs still complete once",
    { timeout: 200_000 },
    async () => {
      await runBatch("failover");
    },
  );
});
