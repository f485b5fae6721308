/**
 * From informer events to work-queue keys. Events only say which keys to look at; reconcilers read
 * the current state. A resource is queued when its generation, deletion or finalizers changed (not
 * for its own status writes), and so is everything that depends on it: the agents that use a
 * Model, MCPServer, HumanQueue, Agent or Secret; the Models falling back to a Model; the
 * HumanQueues escalating to a queue or agent; the owner of a changed Deployment, Service, ...
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
import { objectKey } from "./names.ts";
import type { WorkQueue } from "./work-queue.ts";

/** The work queue of each kind. */
export interface KindQueues {
  readonly Agent: WorkQueue;
  readonly Model: WorkQueue;
  readonly MCPServer: WorkQueue;
  readonly HumanQueue: WorkQueue;
}

function signature(object: KubernetesObject): string {
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

  cache.agents.onChange((object, event) => {
    const namespace = object.metadata.namespace ?? "";
    if (!self("Agent", object, event) && event === "update") return;
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

/** Queues every resource of every kind, as a periodic resync does. */
export function queueEverything(cache: ClusterCache, queues: KindQueues): void {
  const all: [keyof KindQueues, readonly KubernetesObject[]][] = [
    ["Agent", cache.agents.list()],
    ["Model", cache.models.list()],
    ["MCPServer", cache.mcpServers.list()],
    ["HumanQueue", cache.humanQueues.list()],
  ];
  for (const [kind, objects] of all) {
    for (const object of objects)
      queues[kind].add(objectKey(object.metadata.namespace, object.metadata.name));
  }
}
