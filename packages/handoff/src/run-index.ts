/**
 * The index of a namespace's runs, to list them newest first: one sorted set per shard
 * (`runIndexKey`), run ids scored by when each run was created (ms). The step that stores a run
 * writes its entry (the run store's create script; {@link runIndexEffect} for the child runs a
 * checkpoint starts); checkpoints never touch it. An entry goes with its run: a listing that meets
 * an entry whose run expired removes it, and creating a run trims the entries of its shard older
 * than the retention plus {@link runIndexGraceSeconds} (the run store's create script).
 *
 * A listing reads one page: round by round, the next entries of every shard after the position,
 * merged newest first; for each, the run's compact state (one `HGET`, never its conversation),
 * summarized and filtered; at most `maxScanned` entries a page, so a filter that matches few runs
 * gives short pages (still with a position to go on from), never an unbounded read.
 *
 * @module
 */
import { FreeholdError, RunSummary, type RunStatus } from "@freehold/api";
import { runBlobsKey, runIndexKey, runIndexKeys, runKey } from "./keys.ts";
import { mayHoldBlobs, resolveBlobs } from "./run-blobs.ts";
import type { RedisClient } from "./redis-client.ts";
import { evalScript, type RedisEffect } from "./redis-effects.ts";

/**
 * How long past the retention period an index entry is kept at most, counted from its run's
 * creation: longer than runs work or wait (the same bound as the record of who started a run).
 * A run still stored after that is no longer listed; it can still be read by its id.
 */
export const runIndexGraceSeconds = 90 * 86_400;

/** How many index entries one page examines by default (at least the page's size). */
export const defaultMaxScanned = 1000;

/** Where a listing stands: the last run it served or examined, by its index entry. */
export interface RunIndexPosition {
  /** Its entry's score: when the run was created, in ms since the epoch. */
  readonly createdAt: number;
  readonly id: string;
}

/** Options of {@link listRuns}. */
export interface ListRunsOptions {
  /** Only the runs this agent owns now (a transfer moves a run to another agent). */
  readonly agent?: string;
  /** Only runs with one of these statuses. */
  readonly statuses?: readonly RunStatus[];
  /** The most runs in the page; default 100. */
  readonly limit?: number;
  /** Go on after this position (the `next` of the previous page). */
  readonly after?: RunIndexPosition;
  /** Only runs created at or after this time (ms since the epoch): the listing ends at the first older one. */
  readonly createdFrom?: number;
  /**
   * A further filter (the gateway's "only the runs the caller started"), asked in batches for the
   * runs the other filters let through; true keeps a run.
   */
  readonly where?: (runs: readonly RunSummary[]) => Promise<readonly boolean[]>;
  /** The most index entries the page examines; default {@link defaultMaxScanned}, at least `limit`. */
  readonly maxScanned?: number;
}

/** One page of runs, newest first, and where the next page starts (absent: no run is left). */
export interface RunPage {
  readonly runs: RunSummary[];
  readonly next?: RunIndexPosition;
}

/** The entry that indexes a new run: a write of the step that stores it. */
export function runIndexEffect(namespace: string, runId: string, createdAt: string): RedisEffect {
  return { op: "zadd", key: runIndexKey(namespace, runId), score: Date.parse(createdAt), member: runId };
}

interface Entry {
  readonly id: string;
  readonly createdAt: number;
}

/** Newest first; runs created in the same millisecond by id, descending (Redis's `REV` order). */
function newestFirst(left: Entry, right: Entry): number {
  return right.createdAt - left.createdAt || Buffer.compare(Buffer.from(right.id), Buffer.from(left.id));
}

function entries(reply: readonly string[]): Entry[] {
  const result: Entry[] = [];
  for (let index = 0; index + 1 < reply.length; index += 2) {
    result.push({ id: reply[index] ?? "", createdAt: Number(reply[index + 1]) });
  }
  return result;
}

/** Up to `count` entries of one shard's index after `after`, newest first. */
async function shardEntries(
  redis: RedisClient,
  key: string,
  after: RunIndexPosition | undefined,
  count: number,
): Promise<Entry[]> {
  if (after === undefined) {
    return entries(
      await redis.zrange(key, "+inf", "-inf", "BYSCORE", "REV", "LIMIT", 0, count, "WITHSCORES"),
    );
  }
  // Runs created in the position's millisecond come first, and those up to it were served: read past them.
  const found: Entry[] = [];
  for (let offset = 0; ;) {
    const batch = entries(
      await redis.zrange(
        key,
        after.createdAt,
        "-inf",
        "BYSCORE",
        "REV",
        "LIMIT",
        offset,
        count,
        "WITHSCORES",
      ),
    );
    for (const entry of batch) if (newestFirst(after, entry) < 0) found.push(entry);
    if (found.length >= count || batch.length < count) return found.slice(0, count);
    offset += batch.length;
  }
}

/** KEYS: a shard's index, the run's hash. ARGV: the run's id. Removes the entry if the run is gone. */
const pruneScript = `
if redis.call('EXISTS', KEYS[2]) == 0 then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

/** The summary of a run from its compact state, its long texts put back; undefined if it expired. */
async function summaryOf(
  redis: RedisClient,
  namespace: string,
  runId: string,
  text: string | null,
): Promise<RunSummary | undefined> {
  if (text === null) {
    await evalScript(redis, pruneScript, 2, runIndexKey(namespace, runId), runKey(namespace, runId), runId);
    return undefined;
  }
  let summary: RunSummary;
  try {
    summary = RunSummary.parse(JSON.parse(text));
  } catch (error) {
    throw new FreeholdError(
      "run.corrupt",
      `the stored state of run ${namespace}/${runId} does not match schema version 1: ${error instanceof Error ? error.message : String(error)}`,
      { details: { namespace, runId } },
    );
  }
  if (!mayHoldBlobs(JSON.stringify(summary))) return summary;
  try {
    const [resolved] = await resolveBlobs(
      redis,
      runBlobsKey(namespace, runId),
      [summary],
      `run ${namespace}/${runId}`,
    );
    return resolved;
  } catch (error) {
    // Its keys expire together, but not in the same instant: a run that expired meanwhile is gone.
    if ((await redis.exists(runKey(namespace, runId))) === 0) return undefined;
    throw error;
  }
}

/**
 * One page of a namespace's runs, newest first (see the module's description).
 *
 * @example
 * ```ts
 * let page = await listRuns(redis, "acme", { statuses: ["waiting_for_human"], limit: 20 });
 * while (page.next !== undefined) page = await listRuns(redis, "acme", { limit: 20, after: page.next });
 * ```
 */
export async function listRuns(
  redis: RedisClient,
  namespace: string,
  options: ListRunsOptions = {},
): Promise<RunPage> {
  const limit = options.limit ?? 100;
  const budget = Math.max(limit, options.maxScanned ?? defaultMaxScanned);
  if (!Number.isSafeInteger(limit) || limit < 1 || !Number.isSafeInteger(budget)) {
    throw new FreeholdError(
      "run.invalid-list-options",
      `cannot list the runs of namespace ${namespace}: limit and maxScanned must be whole numbers, limit at least 1 (got ${options.limit}, ${options.maxScanned})`,
      { details: { namespace } },
    );
  }
  const filtered =
    options.agent !== undefined || options.statuses !== undefined || options.where !== undefined;
  const keys = runIndexKeys(namespace);
  const runs: RunSummary[] = [];
  let position = options.after;
  let scanned = 0;
  for (;;) {
    const wanted = limit - runs.length;
    const chunk = Math.min(budget - scanned, filtered ? Math.max(wanted, 100) : wanted);
    // One more than the chunk from each shard: whether anything lies past the chunk is then known.
    const merged = (await Promise.all(keys.map((key) => shardEntries(redis, key, position, chunk + 1))))
      .flat()
      .sort(newestFirst);
    const candidates = merged.slice(0, chunk);
    const moreAfterChunk = merged.length > chunk;
    const texts = await Promise.all(
      candidates.map((entry) => redis.hget(runKey(namespace, entry.id), "state")),
    );
    const summaries = await Promise.all(
      candidates.map((entry, index) => summaryOf(redis, namespace, entry.id, texts[index] ?? null)),
    );
    const kept = summaries.map(
      (summary) =>
        summary !== undefined &&
        (options.agent === undefined || summary.agent === options.agent) &&
        (options.statuses === undefined || options.statuses.includes(summary.status)),
    );
    if (options.where !== undefined) {
      const asked = summaries.filter((summary, index): summary is RunSummary => kept[index] === true);
      const answers = asked.length === 0 ? [] : await options.where(asked);
      let answer = 0;
      kept.forEach((keep, index) => {
        if (keep) kept[index] = answers[answer++] === true;
      });
    }
    for (const [index, entry] of candidates.entries()) {
      // Newest first: past the first run older than the bound, every run is older.
      if (options.createdFrom !== undefined && entry.createdAt < options.createdFrom) return { runs };
      scanned += 1;
      position = entry;
      const summary = summaries[index];
      if (kept[index] === true && summary !== undefined) runs.push(summary);
      if (runs.length === limit) {
        const more = index < candidates.length - 1 || moreAfterChunk;
        return more ? { runs, next: entry } : { runs };
      }
    }
    if (!moreAfterChunk || position === undefined) return { runs };
    if (scanned >= budget) return { runs, next: position };
  }
}
