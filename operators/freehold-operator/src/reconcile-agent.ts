/**
 * The Agent reconciler: reads the Agent and what it refers to from the caches, applies what
 * {@link translateAgent} says it becomes, deletes what it no longer needs, and writes its status.
 * An Agent in a namespace the operator does not serve (`NamespaceNotServed`), or past its tenant's
 * `quotas.agents` (`QuotaExceeded`), gets no workers: its owned objects are deleted until that
 * changes. With Redis, an Agent carries a finalizer so that its registry entry is removed when it goes.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import { agentQuotaStanding } from "./agent-quota.ts";
import { agentWorkloadName } from "./agent-workload.ts";
import { unregisterAgent } from "./agent-registry-cleanup.ts";
import { parseStored } from "./cluster-view.ts";
import { falseCondition, type ConditionDraft } from "./conditions.ts";
import type { Deployment } from "./kubernetes-objects.ts";
import { agentFinalizer, splitObjectKey } from "./names.ts";
import { applyAll, pruneOwned, servingGate, type Reconcile, type ReconcileParts } from "./reconcile-parts.ts";
import type { NamespaceService } from "./served-namespaces.ts";
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
      `Agent ${agent.metadata.namespace ?? ""}/${agent.metadata.name} has the finalizer ${agentFinalizer} but the operator has no Redis; give it FREEHOLD_REDIS_URL, or remove the finalizer by hand`,
      { retryable: true },
    );
  }
  await unregisterAgent(parts.redis, agent.metadata.namespace ?? "", agent.metadata.name);
  await setFinalizers(parts, agent, []);
  parts.log(`agent ${agent.metadata.namespace ?? ""}/${agent.metadata.name}: removed from the registry`);
}

/** Ready=False QuotaExceeded when the Agent is past its tenant's `quotas.agents`, else undefined. */
function quotaCondition(
  parts: ReconcileParts,
  service: NamespaceService,
  agent: ObjectWithStatus,
): ConditionDraft | undefined {
  if (service.kind !== "tenant") return undefined;
  const tenant = parts.cache.tenant(service.tenant);
  const limit = tenant?.spec.quotas?.agents;
  if (tenant === undefined || limit === undefined) return undefined;
  const namespaces = tenant.spec.namespaces.filter((namespace) => {
    const other = parts.cache.serviceOf(namespace);
    return other.kind === "tenant" && other.tenant === service.tenant;
  });
  const agents = namespaces.flatMap((namespace) =>
    parts.cache.agents
      .list(namespace)
      .filter((candidate) => candidate.metadata.deletionTimestamp === undefined)
      .map((candidate) => ({
        namespace,
        name: candidate.metadata.name,
        creationTimestamp: candidate.metadata.creationTimestamp,
      })),
  );
  const standing = agentQuotaStanding(
    agents,
    { namespace: agent.metadata.namespace ?? "", name: agent.metadata.name },
    limit,
  );
  if (!standing.exceeded) return undefined;
  return falseCondition(
    "Ready",
    "QuotaExceeded",
    `tenant ${service.tenant} allows ${limit} Agent${limit === 1 ? "" : "s"} (spec.quotas.agents) and has ${standing.count}; this one is number ${standing.position} by age, so it gets no workers until an older one is deleted or the quota is raised`,
  );
}

/** No workers for an Agent: its owned objects go, its registry entry too, and its status says why. */
async function holdBack(
  parts: ReconcileParts,
  stored: ObjectWithStatus,
  conditions: readonly ConditionDraft[],
  fields: Readonly<Record<string, unknown>> = {},
): Promise<void> {
  await pruneOwned(parts, stored, []);
  if (parts.redis !== undefined) {
    await unregisterAgent(parts.redis, stored.metadata.namespace ?? "", stored.metadata.name);
  }
  await updateStatus(
    parts,
    resourceTypes.agents,
    stored,
    conditions,
    { replicas: 0, readyReplicas: 0, ...fields },
    parts.now(),
  );
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
    const gate = servingGate(parts, namespace);
    if (gate.kind === "waiting") return {};
    if (gate.kind === "not-served") {
      await holdBack(parts, stored, [gate.condition]);
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
    const quota = quotaCondition(parts, gate.service, stored);
    if (quota !== undefined) {
      await holdBack(parts, stored, [...translation.conditions, quota], {
        model: translation.resolution.modelName,
        tools: translation.resolution.toolCount,
      });
      return {};
    }
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
