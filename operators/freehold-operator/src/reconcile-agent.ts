/**
 * The Agent reconciler: reads the Agent and what it refers to from the caches, applies what
 * {@link translateAgent} says it becomes, deletes what it no longer needs, and writes its status.
 * With Redis, an Agent carries a finalizer so that its registry entry is removed when it goes.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import { agentWorkloadName } from "./agent-workload.ts";
import { unregisterAgent } from "./agent-registry-cleanup.ts";
import { parseStored } from "./cluster-view.ts";
import { falseCondition } from "./conditions.ts";
import type { Deployment } from "./kubernetes-objects.ts";
import { agentFinalizer, splitObjectKey } from "./names.ts";
import { applyAll, pruneOwned, type Reconcile, type ReconcileParts } from "./reconcile-parts.ts";
import { resourceTypes } from "./resource-types.ts";
import { updateStatus, type ObjectWithStatus } from "./status-update.ts";
import { agentReadyCondition, translateAgent } from "./translate-agent.ts";

async function setFinalizers(
  parts: ReconcileParts,
  agent: ObjectWithStatus,
  finalizers: string[],
): Promise<void> {
  await parts.client.apply({
    apiVersion: agent.apiVersion,
    kind: agent.kind,
    metadata: { name: agent.metadata.name, namespace: agent.metadata.namespace ?? "", finalizers },
  });
}

async function finalize(parts: ReconcileParts, agent: ObjectWithStatus): Promise<void> {
  if (!(agent.metadata.finalizers ?? []).includes(agentFinalizer)) return;
  if (parts.redis === undefined) {
    throw new FreeholdError(
      "operator.no-redis",
      `Agent ${agent.metadata.namespace ?? ""}/${agent.metadata.name} has the finalizer ${agentFinalizer} but the operator has no Redis; give it REDIS_URL, or remove the finalizer by hand`,
      { retryable: true },
    );
  }
  await unregisterAgent(parts.redis, agent.metadata.namespace ?? "", agent.metadata.name);
  await setFinalizers(parts, agent, []);
  parts.log(`agent ${agent.metadata.namespace ?? ""}/${agent.metadata.name}: removed from the registry`);
}

/**
 * @example
 * ```ts
 * const reconcile = createAgentReconciler(parts);
 * await reconcile("acme/billing");
 * ```
 */
export function createAgentReconciler(parts: ReconcileParts): Reconcile {
  return async (key) => {
    const { namespace, name } = splitObjectKey(key);
    const stored = parts.cache.agents.get(namespace, name);
    if (stored === undefined) return {};
    if (stored.metadata.deletionTimestamp !== undefined) {
      await finalize(parts, stored);
      return {};
    }
    const agent = parseStored("Agent", stored);
    if (agent === undefined) {
      await updateStatus(
        parts,
        resourceTypes.agents,
        stored,
        [
          falseCondition(
            "Ready",
            "InvalidSpec",
            "the spec does not match the Agent schema; see freehold validate",
          ),
        ],
        {},
        parts.now(),
      );
      return {};
    }
    if (parts.redis !== undefined && !(stored.metadata.finalizers ?? []).includes(agentFinalizer)) {
      await setFinalizers(parts, stored, [agentFinalizer]);
    }
    const translation = translateAgent(agent, parts.cache.view, parts.translate);
    const applied = await applyAll(parts, translation.objects);
    if (translation.complete) await pruneOwned(parts, stored, translation.objects);
    // The Deployment as just applied, else as cached: its status says how many workers are ready.
    const deployment =
      applied.find((object): object is Deployment => object.kind === "Deployment") ??
      parts.cache.deployments.get(namespace, agentWorkloadName(name));
    const ready = agentReadyCondition(translation, deployment);
    await updateStatus(
      parts,
      resourceTypes.agents,
      stored,
      [...translation.conditions, ready],
      {
        replicas: deployment?.status?.replicas ?? 0,
        readyReplicas: deployment?.status?.readyReplicas ?? 0,
        model: translation.resolution.modelName,
        tools: translation.resolution.toolCount,
      },
      parts.now(),
    );
    return {};
  };
}
