/**
 * The status of a HumanQueue: how many items wait and are claimed, and how long the oldest has
 * waited, read from Redis ({@link readHumanQueueStats}); Ready when the numbers could be read and
 * the escalation target exists.
 *
 * @module
 */
import type { HumanQueue } from "@freehold/api";
import { humanQueueCounts, type RedisClient } from "@freehold/handoff";
import type { ClusterView } from "./cluster-view.ts";
import { falseCondition, trueCondition, type ConditionDraft } from "./conditions.ts";

/** What a queue holds now. */
export interface HumanQueueStats {
  readonly waiting: number;
  readonly claimed: number;
  /** Seconds the oldest waiting item has waited; 0 when none waits. */
  readonly oldestWaitSeconds: number;
}

/**
 * Reads a queue's numbers from Redis.
 *
 * @example
 * ```ts
 * await readHumanQueueStats(redis, "acme", "billing-desk", new Date()); // { waiting: 2, claimed: 1, oldestWaitSeconds: 340 }
 * ```
 */
export async function readHumanQueueStats(
  redis: RedisClient,
  namespace: string,
  queue: string,
  now: Date,
): Promise<HumanQueueStats> {
  const { waiting, claimed, oldestQueuedAt } = await humanQueueCounts(redis, namespace, queue);
  const oldest = oldestQueuedAt ?? now.getTime();
  return {
    waiting,
    claimed,
    oldestWaitSeconds: Math.max(0, Math.floor((now.getTime() - oldest) / 1000)),
  };
}

/** The status fields of a HumanQueue besides observedGeneration. */
export interface HumanQueueStatusDraft {
  readonly conditions: readonly ConditionDraft[];
  readonly waiting?: number;
  readonly claimed?: number;
  readonly oldestWaitSeconds?: number;
}

/**
 * The status of a queue from its numbers (or why they could not be read).
 *
 * @example
 * ```ts
 * humanQueueStatus(queue, cluster, { waiting: 2, claimed: 0, oldestWaitSeconds: 40 });
 * ```
 */
export function humanQueueStatus(
  queue: HumanQueue,
  cluster: ClusterView,
  stats: HumanQueueStats | { readonly error: string },
): HumanQueueStatusDraft {
  const namespace = queue.metadata.namespace ?? "default";
  const target = queue.spec.escalateTo;
  const missingTarget =
    target?.humanQueue !== undefined && cluster.humanQueue(namespace, target.humanQueue) === undefined
      ? `HumanQueue ${target.humanQueue} (spec.escalateTo) not found in namespace ${namespace}`
      : target?.agent !== undefined && cluster.agent(namespace, target.agent) === undefined
        ? `Agent ${target.agent} (spec.escalateTo) not found in namespace ${namespace}`
        : undefined;
  if ("error" in stats) {
    return {
      conditions: [
        falseCondition("Ready", "QueueUnreadable", `cannot read the queue from Redis: ${stats.error}`),
      ],
    };
  }
  const ready =
    missingTarget === undefined
      ? trueCondition("Ready", "Serving", `${stats.waiting} waiting, ${stats.claimed} claimed`)
      : falseCondition("Ready", "EscalationTargetNotFound", missingTarget);
  return { conditions: [ready], ...stats };
}
