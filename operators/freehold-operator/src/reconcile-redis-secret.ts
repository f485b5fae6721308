/**
 * The Secret `freehold-redis` of single-tenant namespaces (served through `FREEHOLD_NAMESPACES`, not
 * a Tenant): the operator's worker URL as it is. Keyed by namespace; written only when its data
 * differs. Tenant namespaces get theirs from the Tenant reconciler; without a worker URL nothing is
 * written and workers keep what `spec.runtime.env` gives them.
 *
 * @module
 */
import { isFreeholdError } from "@freehold/api";
import { fieldManager, labelKeys, redisSecretName } from "./names.ts";
import type { Reconcile, ReconcileParts } from "./reconcile-parts.ts";
import { redisSecret, sameSecretData } from "./redis-secret.ts";
import { credentialOfUrl } from "./redis-url.ts";

/**
 * @example
 * ```ts
 * await createRedisSecretReconciler(parts)("team-a");
 * ```
 */
export function createRedisSecretReconciler(parts: ReconcileParts): Reconcile {
  return async (namespace) => {
    const url = parts.translate.workerRedisUrl;
    if (url === undefined || parts.cache.serviceOf(namespace).kind !== "single") return {};
    // Its Secrets are still being listed; the informer queues the namespace once they are.
    if (!parts.cache.secrets.syncedIn(namespace)) return {};
    const desired = redisSecret(namespace, credentialOfUrl(url), {
      [labelKeys.partOf]: "freehold",
      [labelKeys.managedBy]: fieldManager,
    });
    if (sameSecretData(parts.cache.secrets.get(namespace, redisSecretName), desired)) return {};
    try {
      await parts.client.apply(desired);
    } catch (error) {
      if (!isFreeholdError(error, "kubernetes.not-found")) throw error;
      parts.log(
        `namespace ${namespace} is listed in FREEHOLD_NAMESPACES but does not exist; looking again in a minute`,
      );
      return { requeueAfterMs: 60_000 };
    }
    return {};
  };
}
