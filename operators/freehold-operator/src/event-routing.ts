/**
 * From informer events to work-queue keys. Events only say which keys to look at; reconcilers read
 * the current state. A resource is queued when its generation, deletion or finalizers changed (not
 * for its own status writes), and so is everything that depends on it: the agents that use a
 * Model, MCPServer, HumanQueue, Agent or Secret; the MCPServers an Agent starts or stops using
 * (their bridge's NetworkPolicy admits its workers); the Models falling back to a Model; the
 * HumanQueues escalating to a queue or agent; the owner of a changed Deployment, Service, ...
 * Tenants' own events are routed by {@link routeTenantEvents}.
 *
 * @module
 */
import type { ClusterCache } from "./cluster-cache.ts";
import {
  agentsUsingAgent,
  agentsUsingHumanQueue,
  agentsUsingMcpServer,
  agentsUsingModel,
  usersOfSecret,
} from "./dependents.ts";
import type { InformerEvent } from "./informer-cache.ts";
import type { KubernetesObject } from "./kubernetes-objects.ts";
import { objectKey, redisSecretName } from "./names.ts";
import type { WorkQueue } from "./work-queue.ts";

/** The work queue of each kind (`RedisSecret`: single-tenant namespaces' `freehold-redis`, keyed by namespace). */
export interface KindQueues {
  readonly Agent: WorkQueue;
  readonly Model: WorkQueue;
  readonly MCPServer: WorkQueue;
  readonly HumanQueue: WorkQueue;
  readonly Tenant: WorkQueue;
  readonly RedisSecret: WorkQueue;
}

/** The generation, deletion and finalizers of an object: what changes when more than its status does. */
export function signature(object: KubernetesObject): string {
  const { generation, deletionTimestamp, finalizers } = object.metadata;
  return `${generation ?? ""}|${deletionTimestamp ?? ""}|${(finalizers ?? []).join(",")}`;
}

/**
 * Routes every cache's events to the queues.
 *
 * @example
 * ```ts
 * routeEvents(cache, { Agent: agents.queue, Model: models.queue, MCPServer: servers.queue, HumanQueue: queues.queue });
 * ```
 */
export function routeEvents(cache: ClusterCache, queues: KindQueues): void {
  const view = cache.view;
  const seen = new Map<string, string>();
  /** Queues the object itself unless only its status changed; returns whether its spec may have. */
  const self = (kind: keyof KindQueues, object: KubernetesObject, event: InformerEvent): boolean => {
    const key = objectKey(object.metadata.namespace, object.metadata.name);
    const seenKey = `${kind}/${key}`;
    const next = signature(object);
    if (event === "delete") seen.delete(seenKey);
    else if (seen.get(seenKey) === next) return false;
    else seen.set(seenKey, next);
    queues[kind].add(key);
    return true;
  };
  const agents = (namespace: string, names: readonly string[]): void => {
    for (const name of names) queues.Agent.add(objectKey(namespace, name));
  };
  const escalatingQueues = (namespace: string, target: { humanQueue?: string; agent?: string }): void => {
    for (const queue of cache.humanQueues.list(namespace)) {
      const escalateTo = (queue as { spec?: { escalateTo?: { humanQueue?: string; agent?: string } } }).spec
        ?.escalateTo;
      if (
        (target.humanQueue !== undefined && escalateTo?.humanQueue === target.humanQueue) ||
        (target.agent !== undefined && escalateTo?.agent === target.agent)
      ) {
        queues.HumanQueue.add(objectKey(namespace, queue.metadata.name));
      }
    }
  };

  // The MCPServers each Agent used when last seen: a stdio bridge's NetworkPolicy admits its users' pods.
  const serversUsed = new Map<string, readonly string[]>();
  const mcpServersOf = (object: KubernetesObject): string[] => {
    const tools = (object as { spec?: { tools?: readonly { mcpServer?: string }[] } }).spec?.tools ?? [];
    return tools.flatMap((tool) => (tool.mcpServer === undefined ? [] : [tool.mcpServer]));
  };
  cache.agents.onChange((object, event) => {
    const namespace = object.metadata.namespace ?? "";
    if (event === "add") queues.RedisSecret.add(namespace);
    if (!self("Agent", object, event) && event === "update") return;
    const key = objectKey(namespace, object.metadata.name);
    const now = mcpServersOf(object);
    const before = serversUsed.get(key) ?? [];
    if (event === "delete") serversUsed.delete(key);
    else serversUsed.set(key, now);
    const changed = [...new Set([...before, ...now])].filter(
      (server) => before.includes(server) !== now.includes(server) || event !== "update",
    );
    for (const server of changed) queues.MCPServer.add(objectKey(namespace, server));
    agents(namespace, agentsUsingAgent(view, namespace, object.metadata.name));
    if (event !== "update") escalatingQueues(namespace, { agent: object.metadata.name });
  });
  cache.models.onChange((object, event) => {
    const namespace = object.metadata.namespace ?? "";
    if (!self("Model", object, event) && event === "update") return;
    agents(namespace, agentsUsingModel(view, namespace, object.metadata.name));
    for (const model of view.models(namespace)) {
      if ((model.spec.fallbacks ?? []).some((fallback) => fallback.ref === object.metadata.name)) {
        queues.Model.add(objectKey(namespace, model.metadata.name));
      }
    }
  });
  cache.mcpServers.onChange((object, event) => {
    const namespace = object.metadata.namespace ?? "";
    self("MCPServer", object, event);
    // Its discovered tools (status) matter to the agents that use it.
    agents(namespace, agentsUsingMcpServer(view, namespace, object.metadata.name));
  });
  cache.humanQueues.onChange((object, event) => {
    const namespace = object.metadata.namespace ?? "";
    if (!self("HumanQueue", object, event) && event === "update") return;
    agents(namespace, agentsUsingHumanQueue(view, namespace, object.metadata.name));
    if (event !== "update") escalatingQueues(namespace, { humanQueue: object.metadata.name });
  });
  cache.secrets.onChange((object) => {
    const namespace = object.metadata.namespace ?? "";
    if (object.metadata.name === redisSecretName) {
      // Every worker of the namespace reads it.
      agents(
        namespace,
        cache.agents.list(namespace).map((agent) => agent.metadata.name),
      );
      queues.RedisSecret.add(namespace);
      return;
    }
    const users = usersOfSecret(view, namespace, object.metadata.name);
    agents(namespace, users.agents);
    for (const model of users.models) queues.Model.add(objectKey(namespace, model));
    for (const server of users.mcpServers) queues.MCPServer.add(objectKey(namespace, server));
  });
  for (const owned of cache.owned) {
    owned.onChange((object) => {
      const owner = object.metadata.ownerReferences?.find((reference) => reference.controller === true);
      if (owner === undefined) return;
      const key = objectKey(object.metadata.namespace, owner.name);
      if (owner.kind === "Agent") queues.Agent.add(key);
      else if (owner.kind === "MCPServer") queues.MCPServer.add(key);
    });
  }
}

/**
 * Queues every resource of every kind (or those of one namespace), as a periodic resync does; and
 * the namespaces whose `freehold-redis` the operator may write.
 */
export function queueEverything(cache: ClusterCache, queues: KindQueues, namespace?: string): void {
  const all: [keyof KindQueues, readonly KubernetesObject[]][] = [
    ["Agent", cache.agents.list(namespace)],
    ["Model", cache.models.list(namespace)],
    ["MCPServer", cache.mcpServers.list(namespace)],
    ["HumanQueue", cache.humanQueues.list(namespace)],
    ...(namespace === undefined
      ? [["Tenant", cache.tenants.list()] as [keyof KindQueues, readonly KubernetesObject[]]]
      : []),
  ];
  for (const [kind, objects] of all) {
    for (const object of objects)
      queues[kind].add(objectKey(object.metadata.namespace, object.metadata.name));
  }
  const configured = cache.serving().configured;
  const namespaces =
    namespace !== undefined
      ? [namespace]
      : [
          ...(configured === "*" ? [] : configured),
          ...cache.agents.list().map((agent) => agent.metadata.namespace ?? ""),
        ];
  for (const name of new Set(namespaces)) queues.RedisSecret.add(name);
}
