/**
 * Reads over the shards of a namespace (see keys.ts): a namespace's human queues, approvals and
 * dispatch marks are one sorted set per shard, so that each write stays in its run's slot in Redis
 * Cluster; readers go over all of them, sending the reads together.
 *
 * @module
 */
import type { RedisClient } from "./redis-client.ts";
import { inboxQueueKeys } from "./keys.ts";

/** A waiting item's score is its priority's rank (0 urgent … 3 low) times this, plus when it was queued (ms). */
export const priorityBandWidth = 1e13;
const priorityBands = 4;

/**
 * The members of sorted sets, one per shard, in score order across them all (a queue's items, read
 * shard by shard, sent together).
 */
export async function sortedAcrossShards(redis: RedisClient, keys: readonly string[]): Promise<string[]> {
  const replies = await Promise.all(keys.map((key) => redis.zrange(key, "0", "-1", "WITHSCORES")));
  const entries: { member: string; score: number }[] = [];
  for (const reply of replies) {
    for (let index = 0; index + 1 < reply.length; index += 2) {
      entries.push({ member: reply[index] ?? "", score: Number(reply[index + 1]) });
    }
  }
  return entries.sort((left, right) => left.score - right.score).map((entry) => entry.member);
}

/** A human queue's numbers: items waiting and claimed, and when the oldest waiting one was queued (ms). */
export interface HumanQueueCounts {
  readonly waiting: number;
  readonly claimed: number;
  readonly oldestQueuedAt: number | undefined;
}

/**
 * Counts a human queue's items across the shards: per shard, one pipeline (its keys share a slot)
 * of the two set sizes and the first item of each priority band (the oldest of that priority).
 */
export async function humanQueueCounts(
  redis: RedisClient,
  namespace: string,
  queue: string,
): Promise<HumanQueueCounts> {
  const waitingKeys = inboxQueueKeys(namespace, queue, "waiting");
  const claimedKeys = inboxQueueKeys(namespace, queue, "claimed");
  const shards = await Promise.all(
    waitingKeys.map(async (key, shard) => {
      const pipeline = redis
        .pipeline()
        .zcard(key)
        .zcard(claimedKeys[shard] ?? key);
      for (let band = 0; band < priorityBands; band++) {
        const from = band * priorityBandWidth;
        pipeline.zrangebyscore(key, from, `(${from + priorityBandWidth}`, "WITHSCORES", "LIMIT", 0, 1);
      }
      return (await pipeline.exec()) ?? [];
    }),
  );
  let waiting = 0;
  let claimed = 0;
  let oldestQueuedAt: number | undefined;
  for (const replies of shards) {
    replies.forEach(([error, reply], index) => {
      if (error !== null) throw error;
      if (index === 0) waiting += Number(reply);
      else if (index === 1) claimed += Number(reply);
      else {
        const score = (reply as string[])[1];
        if (score === undefined) return;
        const queuedAt = Number(score) - (index - 2) * priorityBandWidth;
        oldestQueuedAt = oldestQueuedAt === undefined ? queuedAt : Math.min(oldestQueuedAt, queuedAt);
      }
    });
  }
  return { waiting, claimed, oldestQueuedAt };
}
