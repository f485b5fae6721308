/**
 * Informers of one resource type in a changing set of namespaces: one informer per namespace,
 * started when a namespace joins the set and stopped when it leaves, or one for every namespace
 * (`*`). The operator reads Secrets this way: only those of the namespaces it serves (and its own),
 * never every Secret of the cluster.
 *
 * @module
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { createInformerCache, type InformerCache, type InformerEvent } from "./informer-cache.ts";
import type { KubernetesClient } from "./kubernetes-client.ts";
import type { KubernetesObject } from "./kubernetes-objects.ts";
import type { ResourceType } from "./resource-types.ts";

/** The cached objects of one resource type in the watched namespaces. */
export interface NamespacedInformers<T extends KubernetesObject> {
  readonly resource: ResourceType;
  get(namespace: string, name: string): T | undefined;
  /** Every cached object, or those of one namespace. */
  list(namespace?: string): readonly T[];
  /** Called for every add, update and delete in any watched namespace. */
  onChange(listener: (object: T, event: InformerEvent) => void): void;
  /** Called once a namespace's informer has its first list (with `*` for the every-namespace one). */
  onSynced(listener: (namespace: string) => void): void;
  /** Watches exactly these namespaces, or every namespace with `*`. */
  watch(namespaces: ReadonlySet<string> | "*"): void;
  /** The namespaces watched now. */
  watched(): ReadonlySet<string> | "*";
  /** True once the namespace's objects are in the cache. */
  syncedIn(namespace: string): boolean;
  stop(): Promise<void>;
}

/** Options of {@link createNamespacedInformers}. */
export interface NamespacedInformersOptions {
  readonly kubeConfig: KubeConfig;
  readonly client: KubernetesClient;
  readonly resource: ResourceType;
  readonly log?: (line: string) => void;
}

const everyNamespace = "*";

/**
 * @example
 * ```ts
 * const secrets = createNamespacedInformers<Secret>({ kubeConfig, client, resource: resourceTypes.secrets });
 * secrets.watch(new Set(["freehold-system", "acme"]));
 * secrets.get("acme", "freehold-redis");
 * ```
 */
export function createNamespacedInformers<T extends KubernetesObject>(
  options: NamespacedInformersOptions,
): NamespacedInformers<T> {
  const informers = new Map<string, InformerCache<T>>();
  const synced = new Set<string>();
  const changeListeners: ((object: T, event: InformerEvent) => void)[] = [];
  const syncedListeners: ((namespace: string) => void)[] = [];
  let stopped = false;

  const begin = (namespace: string): void => {
    const informer = createInformerCache<T>({
      kubeConfig: options.kubeConfig,
      client: options.client,
      resource: options.resource,
      ...(namespace === everyNamespace ? {} : { namespace }),
      ...(options.log === undefined ? {} : { log: options.log }),
    });
    informer.onChange((object, event) => {
      if (informers.get(namespace) !== informer) return;
      for (const listener of changeListeners) listener(object, event);
    });
    informers.set(namespace, informer);
    informer
      .start()
      .then(() => {
        if (informers.get(namespace) !== informer) return;
        synced.add(namespace);
        for (const listener of syncedListeners) listener(namespace);
      })
      .catch((error: unknown) => {
        options.log?.(
          `${options.resource.plural} of ${namespace === everyNamespace ? "every namespace" : `namespace ${namespace}`} could not be listed: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
  };

  const end = (namespace: string): void => {
    const informer = informers.get(namespace);
    if (informer === undefined) return;
    informers.delete(namespace);
    synced.delete(namespace);
    void informer.stop();
  };

  const informerOf = (namespace: string): InformerCache<T> | undefined =>
    informers.get(everyNamespace) ?? informers.get(namespace);

  return {
    resource: options.resource,
    get: (namespace, name) => informerOf(namespace)?.get(namespace, name),
    list: (namespace) =>
      namespace === undefined
        ? [...informers.values()].flatMap((informer) => informer.list())
        : (informerOf(namespace)?.list(namespace) ?? []),
    onChange(listener) {
      changeListeners.push(listener);
    },
    onSynced(listener) {
      syncedListeners.push(listener);
    },
    watch(namespaces) {
      if (stopped) return;
      const wanted = namespaces === everyNamespace ? new Set([everyNamespace]) : namespaces;
      for (const namespace of [...informers.keys()]) if (!wanted.has(namespace)) end(namespace);
      for (const namespace of wanted) if (!informers.has(namespace)) begin(namespace);
    },
    watched: () => (informers.has(everyNamespace) ? everyNamespace : new Set(informers.keys())),
    syncedIn: (namespace) => synced.has(everyNamespace) || synced.has(namespace),
    async stop() {
      stopped = true;
      const all = [...informers.values()];
      informers.clear();
      synced.clear();
      await Promise.all(all.map((informer) => informer.stop()));
    },
  };
}
