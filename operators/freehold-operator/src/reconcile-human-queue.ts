/**
 * The HumanQueue reconciler: reads how many items wait and are claimed, and how long the oldest
 * has waited, from Redis, and writes them to status; again every `intervalMs`, since the numbers
 * change without any change to Kubernetes objects. `NamespaceNotServed` in a namespace the operator
 * does not serve.
 *
 * @module
 */
import { parseStored } from "./cluster-view.ts";
import { humanQueueStatus, readHumanQueueStats, type HumanQueueStats } from "./human-queue-status.ts";
import { splitObjectKey } from "./names.ts";
import { servingGate, type Reconcile, type ReconcileParts } from "./reconcile-parts.ts";
import { resourceTypes } from "./resource-types.ts";
import { updateStatus } from "./status-update.ts";

/**
 * @example
 * ```ts
 * await createHumanQueueReconciler(parts, { intervalMs: 30_000 })("acme/billing-desk");
 * ```
 */
export function createHumanQueueReconciler(
  parts: ReconcileParts,
  options: { readonly intervalMs?: number } = {},
): Reconcile {
  const intervalMs = options.intervalMs ?? 30_000;
  return async (key) => {
    const { namespace, name } = splitObjectKey(key);
    const stored = parts.cache.humanQueues.get(namespace, name);
    const queue = parseStored("HumanQueue", stored);
    if (stored === undefined || queue === undefined || stored.metadata.deletionTimestamp !== undefined)
      return {};
    const gate = servingGate(parts, namespace);
    if (gate.kind === "waiting") return {};
    if (gate.kind === "not-served") {
      await updateStatus(parts, resourceTypes.humanQueues, stored, [gate.condition], {}, parts.now());
      return {};
    }
    let stats: HumanQueueStats | { error: string };
    if (parts.redis === undefined) {
      stats = { error: "the operator has no Redis; start it with FREEHOLD_REDIS_URL" };
    } else {
      try {
        stats = await readHumanQueueStats(parts.redis, namespace, name, parts.now());
      } catch (error) {
        stats = { error: error instanceof Error ? error.message : String(error) };
      }
    }
    const { conditions, ...fields } = humanQueueStatus(queue, parts.cache.view, stats);
    await updateStatus(parts, resourceTypes.humanQueues, stored, conditions, fields, parts.now());
    return parts.redis === undefined ? {} : { requeueAfterMs: intervalMs };
  };
}
