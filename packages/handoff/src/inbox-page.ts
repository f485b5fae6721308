/**
 * One page of a human queue's items, read without the rest: waiting items (priority, then age), then
 * claimed ones (by lease expiry), each state ordered by its sorted set's score and then the item id,
 * across the namespace's shards. A page reads at most about `limit` entries of each shard's set and
 * the page's items, however long the queue: the first page of a queue of 10,000 costs what a queue of
 * 100 does.
 *
 * The position a page ends at (state, score, id) starts the next one, so a walk over a queue that does
 * not change meanwhile gives every item once; an item that moves meanwhile (claimed, released) may be
 * met again at its new place or not at all, as in any list read while it changes.
 *
 * @module
 */
import { InboxItem } from "@freehold/api";
import { inboxItemKey, inboxQueueKeys } from "./keys.ts";
import type { RedisClient } from "./redis-client.ts";

/** Where a page of a queue ends: the last item's state, score and id. */
export interface InboxPosition {
  readonly state: "waiting" | "claimed";
  readonly score: number;
  readonly id: string;
}

/** A page of a queue's items, and where the next one starts (absent on the last page). */
export interface InboxPage {
  readonly items: InboxItem[];
  readonly next?: InboxPosition;
}

interface Entry {
  readonly id: string;
  readonly score: number;
}

const states = ["waiting", "claimed"] as const;

function after(entry: Entry, position: { readonly score: number; readonly id: string }): boolean {
  return entry.score > position.score || (entry.score === position.score && entry.id > position.id);
}

function byScoreThenId(left: Entry, right: Entry): number {
  return left.score - right.score || (left.id < right.id ? -1 : left.id > right.id ? 1 : 0);
}

/**
 * The first `count` entries of one shard's set after `from` (all from its start without it). Equal
 * scores are read on until past them, so a run of items queued in the same millisecond is not cut.
 */
async function shardEntries(
  redis: RedisClient,
  key: string,
  count: number,
  from: { readonly score: number; readonly id: string } | undefined,
): Promise<Entry[]> {
  const found: Entry[] = [];
  let offset = 0;
  const chunk = count + 16;
  for (;;) {
    const reply = await redis.zrangebyscore(
      key,
      from === undefined ? "-inf" : String(from.score),
      "+inf",
      "WITHSCORES",
      "LIMIT",
      offset,
      chunk,
    );
    for (let index = 0; index + 1 < reply.length; index += 2) {
      const entry = { id: reply[index] ?? "", score: Number(reply[index + 1]) };
      if (from === undefined || after(entry, from)) found.push(entry);
    }
    if (found.length >= count || reply.length < chunk * 2) return found.slice(0, count);
    offset += chunk;
  }
}

/**
 * Reads one page of a queue: at most `limit` items after `position` (from the start without it).
 *
 * @example
 * ```ts
 * const first = await inboxPage(redis, "acme", "billing-desk", { limit: 100 });
 * const second = first.next === undefined ? undefined : await inboxPage(redis, "acme", "billing-desk", { limit: 100, after: first.next });
 * ```
 */
export async function inboxPage(
  redis: RedisClient,
  namespace: string,
  queue: string,
  options: { readonly limit: number; readonly after?: InboxPosition },
): Promise<InboxPage> {
  const { limit } = options;
  const chosen: (Entry & { state: (typeof states)[number] })[] = [];
  let more = false;
  for (const state of states) {
    if (options.after?.state === "claimed" && state === "waiting") continue;
    const from = options.after?.state === state ? options.after : undefined;
    // One more than needed tells whether a next page exists.
    const wanted = limit + 1 - chosen.length;
    const perShard = await Promise.all(
      inboxQueueKeys(namespace, queue, state).map((key) => shardEntries(redis, key, wanted, from)),
    );
    const merged = perShard.flat().sort(byScoreThenId).slice(0, wanted);
    chosen.push(...merged.map((entry) => ({ ...entry, state })));
    if (chosen.length > limit) {
      more = true;
      break;
    }
  }
  const page = chosen.slice(0, limit);
  // One GET per item (sent together), not MGET: in Redis Cluster the items are in many slots.
  const raws = await Promise.all(page.map((entry) => redis.get(inboxItemKey(namespace, entry.id))));
  const items = raws.flatMap((raw) => (raw === null ? [] : [InboxItem.parse(JSON.parse(raw))]));
  const last = page.at(-1);
  return more && last !== undefined
    ? { items, next: { state: last.state, score: last.score, id: last.id } }
    : { items };
}
