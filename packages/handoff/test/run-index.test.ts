/**
 * The run index on a real redis-server: a walk over a namespace's pages gives every run once,
 * newest first, also runs created in the same millisecond (in one shard and across shards); the
 * agent and status filters and a further `where`; a page reads a bounded stretch, so a filter
 * that matches few runs gives short pages that still lead to every match; child runs stored by a
 * checkpoint are listed; a run that expired leaves the index when a listing meets it, and entries
 * older than the retention plus the grace go when a run is created in their shard.
 */
import { randomUUID } from "node:crypto";
import type { RunState, RunSummary } from "@freehold/api";
import { describe, expect, it } from "vitest";
import {
  createRunStore,
  finish,
  newRun,
  newRunEffects,
  runIndexGraceSeconds,
  runIndexKey,
  runIndexKeys,
  runKey,
  shardOf,
  type ListRunsOptions,
  type RunStore,
} from "../src/index.ts";
import { useRedisStore } from "./redis-store.ts";

const local = useRedisStore();

const fresh = (): string => `i${randomUUID().slice(0, 8)}`;

async function create(
  namespace: string,
  options: { id?: string; agent?: string; at?: Date; parent?: RunState["parent"] } = {},
  on: RunStore = local.store,
): Promise<RunState> {
  const state = newRun({
    id: options.id ?? randomUUID(),
    namespace,
    agent: options.agent ?? "billing",
    input: "Hi",
    ...(options.at === undefined ? {} : { now: options.at }),
    ...(options.parent === undefined ? {} : { parent: options.parent }),
  });
  await on.create(state, []);
  return state;
}

/** Every page of a listing, followed to its end. */
async function walk(
  namespace: string,
  options: Omit<ListRunsOptions, "after"> = {},
): Promise<{ runs: RunSummary[]; pages: number }> {
  const runs: RunSummary[] = [];
  let page = await local.store.list(namespace, options);
  let pages = 1;
  runs.push(...page.runs);
  while (page.next !== undefined) {
    page = await local.store.list(namespace, { ...options, after: page.next });
    pages += 1;
    runs.push(...page.runs);
    expect(pages).toBeLessThan(1000);
  }
  return { runs, pages };
}

/** Newest first, runs of one millisecond by id descending: the order a listing promises. */
function newestFirst(runs: readonly RunState[]): string[] {
  return [...runs]
    .sort(
      (left, right) =>
        Date.parse(right.createdAt) - Date.parse(left.createdAt) ||
        Buffer.compare(Buffer.from(right.id), Buffer.from(left.id)),
    )
    .map((run) => run.id);
}

/** A new id in the shard of `id` (a run created with it shares `id`'s index). */
function idInShardOf(id: string): string {
  for (;;) {
    const candidate = randomUUID();
    if (shardOf(candidate) === shardOf(id)) return candidate;
  }
}

describe("the run index", () => {
  it("walks every run once, newest first, also runs created in the same millisecond", async () => {
    const namespace = fresh();
    const base = Date.now() - 60_000;
    const created: RunState[] = [];
    // 40 runs over 10 milliseconds: four of each, spread over the shards.
    for (let index = 0; index < 40; index += 1) {
      created.push(await create(namespace, { at: new Date(base + (index % 10)) }));
    }
    // Six more in one millisecond, all in one shard.
    const anchor = created[0]?.id ?? "";
    for (let index = 0; index < 6; index += 1) {
      created.push(await create(namespace, { id: idInShardOf(anchor), at: new Date(base + 5) }));
    }
    const expected = newestFirst(created);
    for (const limit of [1, 3, 7, 46, 100]) {
      const { runs, pages } = await walk(namespace, { limit });
      expect(
        runs.map((run) => run.id),
        `limit ${limit}`,
      ).toEqual(expected);
      expect(pages, `limit ${limit}`).toBe(Math.max(1, Math.ceil(expected.length / limit)));
    }
    const [first] = (await local.store.list(namespace, { limit: 1 })).runs;
    // A summary, not the run: no input, messages or output.
    expect(Object.keys(first ?? {}).sort()).toEqual(
      ["id", "namespace", "agent", "status", "steps", "usage", "createdAt", "updatedAt"].sort(),
    );
    expect(await local.store.list(fresh())).toEqual({ runs: [] });
  });

  it("filters by agent, status and a further test, and a page reads a bounded stretch", async () => {
    const namespace = fresh();
    const runs: RunState[] = [];
    for (let index = 0; index < 30; index += 1) {
      runs.push(await create(namespace, { agent: index % 10 === 0 ? "support" : "billing" }));
    }
    const ended = runs.slice(0, 4);
    for (const run of ended) {
      const { state, events } = finish(run, "failed", new Date(), {
        error: { code: "test.failed", message: "x".repeat(20_000) },
      });
      await local.store.checkpoint(run, state, events);
    }
    const support = runs.filter((run) => run.agent === "support");
    expect((await walk(namespace, { agent: "support" })).runs.map((run) => run.id)).toEqual(
      newestFirst(support),
    );
    const failed = (await walk(namespace, { statuses: ["failed"] })).runs;
    expect(failed.map((run) => run.id)).toEqual(newestFirst(ended));
    // A long error message (stored apart) comes back whole.
    expect(failed[0]?.error).toEqual({ code: "test.failed", message: "x".repeat(20_000) });
    expect(
      (await walk(namespace, { statuses: ["failed", "queued"], agent: "support" })).runs.map((run) => run.id),
    ).toEqual(newestFirst(support));
    const asked: string[] = [];
    const odd = await walk(namespace, {
      where: (batch) => {
        asked.push(...batch.map((run) => run.id));
        return Promise.resolve(batch.map((run) => run.id.charCodeAt(0) % 2 === 1));
      },
    });
    expect(odd.runs.map((run) => run.id)).toEqual(
      newestFirst(runs.filter((run) => run.id.charCodeAt(0) % 2 === 1)),
    );
    expect(new Set(asked).size).toBe(30);
    // Three matches in 30 runs, at most 10 examined a page: short pages, every match once.
    const bounded = await walk(namespace, { agent: "support", limit: 2, maxScanned: 10 });
    expect(bounded.runs.map((run) => run.id)).toEqual(newestFirst(support));
    expect(bounded.pages).toBeGreaterThanOrEqual(3);
    const firstPage = await local.store.list(namespace, { agent: "nobody", limit: 2, maxScanned: 10 });
    expect(firstPage.runs).toEqual([]);
    expect(firstPage.next).toBeDefined();
    await expect(local.store.list(namespace, { limit: 0 })).rejects.toMatchObject({
      code: "run.invalid-list-options",
    });
  });

  it("lists the child runs a checkpoint stores, with their parent", async () => {
    const namespace = fresh();
    const parent = await create(namespace);
    const child = newRun({
      id: `${parent.id}-1-0`,
      namespace,
      agent: "researcher",
      input: "Look it up",
      parent: { runId: parent.id, toolCallId: "call-1", agent: "billing" },
    });
    await local.store.checkpoint(parent, { ...parent, status: "waiting_for_agent" }, [], {
      effects: newRunEffects(child, []),
    });
    const { runs } = await walk(namespace);
    expect(runs.map((run) => run.id).sort()).toEqual([parent.id, child.id].sort());
    expect(runs.find((run) => run.id === child.id)).toMatchObject({
      agent: "researcher",
      parent: { runId: parent.id, agent: "billing" },
    });
  });

  it("lets an expired run leave the index, and trims entries past the retention and the grace", async () => {
    const namespace = fresh();
    const short = createRunStore(local.redis, { retentionSeconds: 1 });
    const kept = await create(namespace, {}, short);
    const ending = await create(namespace, {}, short);
    const { state, events } = finish(ending, "completed", new Date(), { output: "Done." });
    await short.checkpoint(ending, state, events);
    for (
      let attempt = 0;
      attempt < 100 && (await local.redis.exists(runKey(namespace, ending.id))) > 0;
      attempt++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await local.redis.exists(runKey(namespace, ending.id))).toBe(0);
    expect(await local.redis.zscore(runIndexKey(namespace, ending.id), ending.id)).not.toBeNull();
    expect((await walk(namespace)).runs.map((run) => run.id)).toEqual([kept.id]);
    // The listing that met it took its entry away.
    expect(await local.redis.zscore(runIndexKey(namespace, ending.id), ending.id)).toBeNull();

    // A run created longer ago than the retention and the grace (still stored: it never ended).
    const old = await create(namespace, {
      at: new Date(Date.now() - (1 + runIndexGraceSeconds + 60) * 1000),
    });
    expect((await walk(namespace)).runs.map((run) => run.id)).toEqual([kept.id, old.id]);
    await create(namespace, { id: idInShardOf(old.id) }, short);
    expect(await local.redis.zscore(runIndexKey(namespace, old.id), old.id)).toBeNull();
    expect(await local.store.get(namespace, old.id)).toBeDefined();
    // Runs kept forever keep their entries however old.
    const forever = createRunStore(local.redis, { retentionSeconds: 0 });
    const ancient = await create(namespace, { at: new Date(Date.now() - 400 * 86_400_000) }, forever);
    await create(namespace, { id: idInShardOf(ancient.id) }, forever);
    expect(await local.redis.zscore(runIndexKey(namespace, ancient.id), ancient.id)).not.toBeNull();
    const total = (await Promise.all(runIndexKeys(namespace).map((key) => local.redis.zcard(key)))).reduce(
      (sum, count) => sum + count,
      0,
    );
    expect(total).toBe((await walk(namespace)).runs.length);
  });
});
