/**
 * From informer events to Tenant keys, and what tenancy changes for other kinds. A Tenant is queued
 * when its spec, deletion or finalizers change; when a namespace labelled for it (or listed by it)
 * changes; when something the operator made for it changes (RoleBindings, policies, quotas, its
 * credential or a `freehold-redis` copy); when an Agent of its namespaces comes or goes (usage, and
 * the others' standing against `quotas.agents`); when a Model or MCPServer of its namespaces changes
 * (egress). When a namespace starts or stops being served, everything in it is queued; when a
 * namespace's Secrets are first listed, too.
 *
 * @module
 */
import { quotaOrder } from "./agent-quota.ts";
import type { ClusterCache } from "./cluster-cache.ts";
import { queueEverything, signature, type KindQueues } from "./event-routing.ts";
import type { KubernetesObject } from "./kubernetes-objects.ts";
import { labelKeys, objectKey, redisSecretName } from "./names.ts";

function serviceKey(cache: ClusterCache, namespace: string): string {
  const service = cache.serviceOf(namespace);
  return service.kind === "tenant" ? `tenant/${service.tenant}` : service.kind;
}

/**
 * Routes the events that matter to tenancy.
 *
 * @example
 * ```ts
 * routeTenantEvents(cache, queues, { operatorNamespace: "freehold-system" });
 * ```
 */
export function routeTenantEvents(
  cache: ClusterCache,
  queues: KindQueues,
  options: { readonly operatorNamespace: string },
): void {
  const signatures = new Map<string, string>();
  let services = new Map<string, string>();

  /** Queues everything in the namespaces whose service changed. */
  const followServices = (): void => {
    const candidates = new Set<string>(services.keys());
    for (const tenant of cache.serving().tenants)
      for (const namespace of tenant.namespaces) candidates.add(namespace);
    for (const namespace of cache.namespaces.list()) candidates.add(namespace.metadata.name);
    const next = new Map<string, string>();
    for (const namespace of candidates) {
      const key = serviceKey(cache, namespace);
      next.set(namespace, key);
      if ((services.get(namespace) ?? "none") !== key) queueEverything(cache, queues, namespace);
    }
    services = next;
  };
  const tenantOf = (namespace: string): string | undefined => {
    const service = cache.serviceOf(namespace);
    return service.kind === "tenant" ? service.tenant : undefined;
  };
  /**
   * Queues the Agents of a tenant whose standing against `quotas.agents` may have moved: from the
   * last that fits on (one going makes room for the first past it; one coming, or a quota lowered,
   * pushes the last ones out). Agents being deleted are queued too.
   */
  const quotaAgents = (tenant: string): void => {
    const spec = cache.tenant(tenant)?.spec;
    const limit = spec?.quotas?.agents;
    if (spec === undefined || limit === undefined) return;
    const agents = spec.namespaces.flatMap((namespace) =>
      cache.agents.list(namespace).map((agent) => ({
        namespace,
        name: agent.metadata.name,
        creationTimestamp: agent.metadata.creationTimestamp,
        deleting: agent.metadata.deletionTimestamp !== undefined,
      })),
    );
    const counted = quotaOrder(agents.filter((agent) => !agent.deleting));
    for (const agent of [
      ...counted.slice(Math.max(0, limit - 1)),
      ...agents.filter((item) => item.deleting),
    ]) {
      queues.Agent.add(objectKey(agent.namespace, agent.name));
    }
  };
  const byLabel = (object: KubernetesObject): void => {
    const tenant = object.metadata.labels?.[labelKeys.tenant];
    if (tenant !== undefined) queues.Tenant.add(tenant);
  };

  cache.tenants.onChange((object, event) => {
    const name = object.metadata.name;
    const next = signature(object);
    if (event === "delete" || signatures.get(name) !== next) {
      if (event === "delete") signatures.delete(name);
      else signatures.set(name, next);
      queues.Tenant.add(name);
      // A changed quota can move any Agent's standing.
      for (const namespace of cache.tenant(name)?.spec.namespaces ?? []) {
        for (const agent of cache.agents.list(namespace))
          queues.Agent.add(objectKey(namespace, agent.metadata.name));
      }
    }
    followServices();
  });
  cache.namespaces.onChange((object) => {
    byLabel(object);
    for (const tenant of cache.serving().tenants) {
      if (tenant.namespaces.includes(object.metadata.name)) queues.Tenant.add(tenant.name);
    }
    followServices();
  });
  for (const owned of cache.tenantOwned) owned.onChange(byLabel);
  cache.secrets.onChange((object) => {
    const namespace = object.metadata.namespace ?? "";
    if (namespace === options.operatorNamespace) byLabel(object);
    if (object.metadata.name === redisSecretName) {
      const tenant = tenantOf(namespace);
      if (tenant !== undefined) queues.Tenant.add(tenant);
    }
  });
  cache.secrets.onSynced((namespace) => {
    queueEverything(cache, queues, namespace === "*" ? undefined : namespace);
    if (namespace === options.operatorNamespace) {
      for (const tenant of cache.tenants.list()) queues.Tenant.add(tenant.metadata.name);
    }
  });
  cache.agents.onChange((object, event) => {
    const tenant = tenantOf(object.metadata.namespace ?? "");
    if (tenant === undefined) return;
    if (event === "update" && object.metadata.deletionTimestamp === undefined) return;
    queues.Tenant.add(tenant);
    quotaAgents(tenant);
  });
  for (const kind of [cache.models, cache.mcpServers]) {
    kind.onChange((object) => {
      const tenant = tenantOf(object.metadata.namespace ?? "");
      if (tenant !== undefined) queues.Tenant.add(tenant);
    });
  }
}
