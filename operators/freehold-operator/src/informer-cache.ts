/**
 * An informer: the list + watch of one resource type kept in a local cache, calling listeners on
 * every add, update and delete. Built on client-node's `ListWatch` (which relists when a watch
 * expires); when the watch fails, it restarts with backoff. Reconcilers read the cache, never the
 * events.
 *
 * @module
 */
import {
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesObject as ClientObject,
} from "@kubernetes/client-node";
import { backoffDelay } from "@freehold/mcp";
import type { KubernetesClient } from "./kubernetes-client.ts";
import type { KubernetesObject } from "./kubernetes-objects.ts";
import { resourcePath, type ResourceType } from "./resource-types.ts";

/** What happened to an object. */
export type InformerEvent = "add" | "update" | "delete";

/** The cached objects of one resource type. */
export interface InformerCache<T extends KubernetesObject> {
  readonly resource: ResourceType;
  get(namespace: string, name: string): T | undefined;
  /** Every object, or those of one namespace. */
  list(namespace?: string): readonly T[];
  /** Called for every add, update and delete, after the cache changed. */
  onChange(listener: (object: T, event: InformerEvent) => void): void;
  /** Lists and starts watching; resolves once the first list is in the cache (retrying until it is). */
  start(): Promise<void>;
  /** True once the first list is in the cache. */
  synced(): boolean;
  stop(): Promise<void>;
}

/** Options of {@link createInformerCache}. */
export interface InformerCacheOptions {
  readonly kubeConfig: KubeConfig;
  readonly client: KubernetesClient;
  readonly resource: ResourceType;
  /** Watch one namespace only. Default: every namespace. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  /** Where watch failures are reported. */
  readonly log?: (line: string) => void;
}

/**
 * @example
 * ```ts
 * const agents = createInformerCache<StoredAgent>({ kubeConfig, client, resource: resourceTypes.agents });
 * agents.onChange((agent) => queue.add(objectKey(agent.metadata.namespace, agent.metadata.name)));
 * await agents.start();
 * ```
 */
export function createInformerCache<T extends KubernetesObject>(
  options: InformerCacheOptions,
): InformerCache<T> {
  const { resource, client } = options;
  let isSynced = false;
  let markSynced: () => void = () => undefined;
  const firstList = new Promise<void>((resolve) => {
    markSynced = resolve;
  });
  const listFunction = async (): Promise<{
    items: ClientObject[];
    metadata: { resourceVersion?: string };
  }> => {
    const list = await client.list<KubernetesObject>(resource, {
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
      ...(options.labelSelector === undefined ? {} : { labelSelector: options.labelSelector }),
    });
    // A list's items carry no apiVersion and kind; the cache's consumers expect them.
    const items = list.items.map((item) => ({
      ...item,
      apiVersion: resource.apiVersion,
      kind: resource.kind,
    }));
    isSynced = true;
    markSynced();
    return { items: items as unknown as ClientObject[], metadata: list.metadata };
  };
  const informer = new ListWatch<ClientObject>(
    resourcePath(resource, options.namespace),
    new Watch(options.kubeConfig),
    listFunction,
    false,
    options.labelSelector,
  );
  const listeners: ((object: T, event: InformerEvent) => void)[] = [];
  let stopped = false;
  let failures = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  const dispatch = (event: InformerEvent) => (object: ClientObject) => {
    failures = 0;
    for (const listener of listeners) listener(object as unknown as T, event);
  };
  informer.on("add", dispatch("add"));
  informer.on("update", dispatch("update"));
  informer.on("delete", dispatch("delete"));
  informer.on("error", (error: unknown) => {
    if (stopped) return;
    const delay = backoffDelay(failures);
    failures += 1;
    options.log?.(
      `watch of ${resource.plural} failed (${error instanceof Error ? error.message : String(error)}); restarting in ${Math.round(delay)} ms`,
    );
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (!stopped) informer.start().catch(() => undefined);
    }, delay);
  });
  return {
    resource,
    get: (namespace, name) =>
      informer.get(name, resource.namespaced ? namespace : undefined) as unknown as T | undefined,
    list: (namespace) => informer.list(namespace) as unknown as readonly T[],
    onChange(listener) {
      listeners.push(listener);
    },
    async start() {
      stopped = false;
      await informer.start();
      await firstList;
    },
    synced: () => isSynced,
    async stop() {
      stopped = true;
      if (restartTimer !== undefined) clearTimeout(restartTimer);
      await informer.stop();
    },
  };
}
