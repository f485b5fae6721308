/**
 * What every reconciler works with, and the two steps they share: applying the desired objects and
 * deleting the owned objects that are no longer desired.
 *
 * @module
 */
import type { RedisClient } from "@freehold/handoff";
import type { ClusterCache } from "./cluster-cache.ts";
import type { EventRecorder } from "./event-recorder.ts";
import type { KubernetesClient } from "./kubernetes-client.ts";
import { falseCondition, type ConditionDraft } from "./conditions.ts";
import type { KubernetesObject } from "./kubernetes-objects.ts";
import type { NamespaceService } from "./served-namespaces.ts";
import type { TranslateOptions } from "./translate-options.ts";

/** The shared parts of the reconcilers. */
export interface ReconcileParts {
  readonly client: KubernetesClient;
  readonly cache: ClusterCache;
  readonly events: EventRecorder;
  readonly translate: TranslateOptions;
  /** Redis, for HumanQueue status and Agent cleanup; absent when the operator has none. */
  readonly redis: RedisClient | undefined;
  readonly log: (line: string) => void;
  readonly now: () => Date;
}

/** How a reconcile ended: done, or to be looked at again after a while. */
export interface ReconcileResult {
  readonly requeueAfterMs?: number;
}

/** Reconciles the object with a `namespace/name` key, reading current state from the caches. */
export type Reconcile = (key: string) => Promise<ReconcileResult>;

/** Whether a namespace's resources can be reconciled now. */
export type ServingGate =
  | { readonly kind: "served"; readonly service: Exclude<NamespaceService, { kind: "none" }> }
  | { readonly kind: "not-served"; readonly condition: ConditionDraft }
  /** Served, but its Secrets are still being listed: the informer queues its resources once they are. */
  | { readonly kind: "waiting" };

/**
 * How the operator serves a namespace now: a resource in one it does not serve gets
 * `Ready=False NamespaceNotServed` and no workers.
 *
 * @example
 * ```ts
 * const gate = servingGate(parts, "acme");
 * if (gate.kind === "not-served") await updateStatus(parts, resourceTypes.agents, stored, [gate.condition], {}, parts.now());
 * ```
 */
export function servingGate(parts: ReconcileParts, namespace: string): ServingGate {
  const service = parts.cache.serviceOf(namespace);
  if (service.kind === "none") {
    return { kind: "not-served", condition: falseCondition("Ready", "NamespaceNotServed", service.reason) };
  }
  return parts.cache.secrets.syncedIn(namespace) ? { kind: "served", service } : { kind: "waiting" };
}

/** Server-side applies every object; returns them as the API server now has them (status included). */
export async function applyAll(
  parts: ReconcileParts,
  objects: readonly KubernetesObject[],
): Promise<KubernetesObject[]> {
  return await Promise.all(objects.map((object) => parts.client.apply(object)));
}

/**
 * Deletes the objects an owner controls that are not among the desired ones (an HPA after
 * autoscaling was removed, a bridge after a server moved from stdio to HTTP).
 */
export async function pruneOwned(
  parts: ReconcileParts,
  owner: KubernetesObject,
  desired: readonly KubernetesObject[],
): Promise<void> {
  const namespace = owner.metadata.namespace ?? "";
  const wanted = new Set(desired.map((object) => `${object.kind}/${object.metadata.name}`));
  const stale = parts.cache.owned.flatMap((cache) =>
    cache
      .list(namespace)
      .filter(
        (object) =>
          (object.metadata.ownerReferences ?? []).some(
            (reference) => reference.controller === true && reference.uid === owner.metadata.uid,
          ) && !wanted.has(`${cache.resource.kind}/${object.metadata.name}`),
      )
      .map((object) => ({ resource: cache.resource, name: object.metadata.name })),
  );
  await Promise.all(stale.map(({ resource, name }) => parts.client.delete(resource, namespace, name)));
}
