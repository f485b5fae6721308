/**
 * A human queue read a page at a time (`inboxPage`) on a real Redis: every item exactly once, waiting
 * ones by priority then age, then claimed ones by lease expiry, items of one millisecond kept whole
 * across page ends, whatever the page size; and a page of a long queue reads a page, not the queue.
 */
import type { InboxItem, Priority } from "@freehold/api";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  inboxItemEffects,
  inboxItemKey,
  inboxPage,
  inboxQueueKey,
  startRedisServer,
  type RedisServer,
} from "../src/index.ts";

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

function item(namespace: string, index: number, priority: Priority, queuedAt: Date): InboxItem {
  const time = queuedAt.toISOString();
  return {
    schemaVersion: 1,
    id: `run-${String(index).padStart(5, "0")}-1-0`,
    namespace,
    queue: "desk",
    runId: `run-${String(index).padStart(5, "0")}`,
    agent: "billing",
    summary: `Item ${index}`,
    reason: "A person decides.",
    priority,
    conversation: [{ role: "user", content: `question ${index}` }],
    status: "waiting",
    createdAt: time,
    queuedAt: time,
    escalations: 0,
    leaseSeconds: 300,
  };
}

/** Writes items as a handoff does (the same effects), and claims some (the claimed set, by lease expiry). */
async function seed(
  namespace: string,
  items: readonly InboxItem[],
  claimed: ReadonlySet<string>,
): Promise<void> {
  const pipeline = redis.pipeline();
  for (const [index, entry] of items.entries()) {
    if (claimed.has(entry.id)) {
      const lease = new Date(Date.parse(entry.queuedAt) + 60_000 + index).toISOString();
      pipeline.set(
        inboxItemKey(namespace, entry.id),
        JSON.stringify({
          ...entry,
          status: "claimed",
          claimedBy: "ann",
          claimedAt: entry.queuedAt,
          leaseExpiresAt: lease,
        }),
      );
      pipeline.zadd(inboxQueueKey(namespace, "desk", "claimed", entry.id), Date.parse(lease), entry.id);
      continue;
    }
    for (const effect of inboxItemEffects(entry)) {
      if (effect.op === "set") pipeline.set(effect.key, effect.value);
      else if (effect.op === "zadd") pipeline.zadd(effect.key, effect.score, effect.member);
    }
  }
  await pipeline.exec();
}

const rank: Record<Priority, number> = { urgent: 0, high: 1, normal: 2, low: 3 };

describe("inboxPage", () => {
  it("walks a queue page by page: every item once, in the inbox's order, at any page size", async () => {
    const namespace = "pages";
    const base = Date.parse("2026-12-01T10:00:00.000Z");
    const priorities: Priority[] = ["normal", "urgent", "low", "high"];
    // 60 items, many queued in the same millisecond (ties across page ends), some claimed.
    const items = Array.from({ length: 60 }, (_, index) =>
      item(namespace, index, priorities[index % 4] ?? "normal", new Date(base + Math.floor(index / 7))),
    );
    const claimed = new Set(items.filter((_, index) => index % 9 === 0).map((entry) => entry.id));
    await seed(namespace, items, claimed);

    const expected = [
      ...items
        .filter((entry) => !claimed.has(entry.id))
        .sort(
          (a, b) =>
            rank[a.priority] - rank[b.priority] ||
            Date.parse(a.queuedAt) - Date.parse(b.queuedAt) ||
            (a.id < b.id ? -1 : 1),
        ),
      ...items.filter((entry) => claimed.has(entry.id)),
    ].map((entry) => entry.id);

    for (const limit of [1, 2, 5, 7, 13, 59, 60, 100]) {
      const walked: string[] = [];
      let page = await inboxPage(redis, namespace, "desk", { limit });
      for (let pages = 0; ; pages += 1) {
        expect(page.items.length).toBeLessThanOrEqual(limit);
        walked.push(...page.items.map((entry) => entry.id));
        if (page.next === undefined) break;
        expect(pages).toBeLessThan(100);
        page = await inboxPage(redis, namespace, "desk", { limit, after: page.next });
      }
      expect(walked, `limit ${limit}`).toEqual(expected);
    }
  });

  it("reads a page of a long queue, not the queue", async () => {
    const namespace = "long";
    const base = Date.parse("2026-12-01T10:00:00.000Z");
    await seed(
      namespace,
      Array.from({ length: 5000 }, (_, index) => item(namespace, index, "normal", new Date(base + index))),
      new Set(),
    );
    const before = Number(/keyspace_hits:(\d+)/.exec(await redis.info("stats"))?.[1]);
    const first = await inboxPage(redis, namespace, "desk", { limit: 100 });
    const after = Number(/keyspace_hits:(\d+)/.exec(await redis.info("stats"))?.[1]);
    expect(first.items.map((entry) => entry.summary).slice(0, 3)).toEqual(["Item 0", "Item 1", "Item 2"]);
    expect(first.items).toHaveLength(100);
    expect(first.next).toBeDefined();
    // The page's 100 items and a range read per shard: not 5,000 reads.
    expect(after - before).toBeLessThan(200);
  });
});
