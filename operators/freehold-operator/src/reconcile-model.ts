/**
 * The Model reconciler: validates a Model against the cluster (its API key Secret, its fallbacks)
 * and writes SecretResolved and Ready (`NamespaceNotServed` in a namespace the operator does not serve).
 *
 * @module
 */
import { parseStored } from "./cluster-view.ts";
import { splitObjectKey } from "./names.ts";
import { servingGate, type Reconcile, type ReconcileParts } from "./reconcile-parts.ts";
import { resourceTypes } from "./resource-types.ts";
import { updateStatus } from "./status-update.ts";
import { translateModel } from "./translate-model.ts";

/**
 * @example
 * ```ts
 * await createModelReconciler(parts)("acme/default");
 * ```
 */
export function createModelReconciler(parts: ReconcileParts): Reconcile {
  return async (key) => {
    const { namespace, name } = splitObjectKey(key);
    const stored = parts.cache.models.get(namespace, name);
    const model = parseStored("Model", stored);
    if (stored === undefined || model === undefined || stored.metadata.deletionTimestamp !== undefined)
      return {};
    const gate = servingGate(parts, namespace);
    if (gate.kind === "waiting") return {};
    if (gate.kind === "not-served") {
      await updateStatus(parts, resourceTypes.models, stored, [gate.condition], {}, parts.now());
      return {};
    }
    await updateStatus(
      parts,
      resourceTypes.models,
      stored,
      translateModel(model, parts.cache.view),
      {},
      parts.now(),
    );
    return {};
  };
}
