/**
 * The operator's informers: the Freehold resources, the Secrets they read, and the objects the
 * operator owns (selected by `app.kubernetes.io/managed-by: freehold-operator`), with a cluster view
 * over them that parses each stored version once.
 *
 * @module
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { parseStored, type SecretData, type StoredKinds } from "./cluster-view.ts";
import type { ListingClusterView } from "./dependents.ts";
import { createInformerCache, type InformerCache } from "./informer-cache.ts";
import type { KubernetesClient } from "./kubernetes-client.ts";
import type { Deployment, KubernetesObject } from "./kubernetes-objects.ts";
import { managedSelector } from "./names.ts";
import { resourceTypes } from "./resource-types.ts";
import type { ObjectWithStatus } from "./status-update.ts";

/** Every informer of the operator. */
export interface ClusterCache {
  readonly agents: InformerCache<ObjectWithStatus>;
  readonly models: InformerCache<ObjectWithStatus>;
  readonly mcpServers: InformerCache<ObjectWithStatus>;
  readonly humanQueues: InformerCache<ObjectWithStatus>;
  readonly secrets: InformerCache<KubernetesObject & SecretData>;
  /** The owned kinds, Deployments first. */
  readonly owned: readonly InformerCache<KubernetesObject>[];
  readonly deployments: InformerCache<Deployment>;
  /** The view translations read. */
  readonly view: ListingClusterView;
  start(): Promise<void>;
  synced(): boolean;
  stop(): Promise<void>;
}

/** Options of {@link createClusterCache}. */
export interface ClusterCacheOptions {
  readonly kubeConfig: KubeConfig;
  readonly client: KubernetesClient;
  /** Watch one namespace only. */
  readonly namespace?: string;
  /** Whether KEDA's ScaledObjects are served (then they are watched too). */
  readonly kedaAvailable: boolean;
  readonly log: (line: string) => void;
}

/**
 * @example
 * ```ts
 * const cache = createClusterCache({ kubeConfig, client, kedaAvailable: false, log });
 * await cache.start();
 * cache.view.agent("acme", "billing");
 * ```
 */
export function createClusterCache(options: ClusterCacheOptions): ClusterCache {
  const base = {
    kubeConfig: options.kubeConfig,
    client: options.client,
    log: options.log,
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
  };
  const agents = createInformerCache<ObjectWithStatus>({ ...base, resource: resourceTypes.agents });
  const models = createInformerCache<ObjectWithStatus>({ ...base, resource: resourceTypes.models });
  const mcpServers = createInformerCache<ObjectWithStatus>({ ...base, resource: resourceTypes.mcpServers });
  const humanQueues = createInformerCache<ObjectWithStatus>({ ...base, resource: resourceTypes.humanQueues });
  const secrets = createInformerCache<KubernetesObject & SecretData>({
    ...base,
    resource: resourceTypes.secrets,
  });
  const managed = { ...base, labelSelector: managedSelector };
  const deployments = createInformerCache<Deployment>({ ...managed, resource: resourceTypes.deployments });
  const owned: InformerCache<KubernetesObject>[] = [
    deployments,
    createInformerCache({ ...managed, resource: resourceTypes.services }),
    createInformerCache({ ...managed, resource: resourceTypes.configMaps }),
    createInformerCache({ ...managed, resource: resourceTypes.serviceAccounts }),
    createInformerCache({ ...managed, resource: resourceTypes.horizontalPodAutoscalers }),
    ...(options.kedaAvailable
      ? [createInformerCache({ ...managed, resource: resourceTypes.scaledObjects })]
      : []),
  ];
  const all: InformerCache<KubernetesObject>[] = [agents, models, mcpServers, humanQueues, secrets, ...owned];

  const parsed = new WeakMap<object, unknown>();
  const parse = <Kind extends keyof StoredKinds>(
    kind: Kind,
    raw: object | undefined,
  ): StoredKinds[Kind] | undefined => {
    if (raw === undefined) return undefined;
    if (parsed.has(raw)) return parsed.get(raw) as StoredKinds[Kind] | undefined;
    const value = parseStored(kind, raw);
    parsed.set(raw, value);
    return value;
  };
  const parseAll = <Kind extends keyof StoredKinds>(
    kind: Kind,
    raws: readonly object[],
  ): StoredKinds[Kind][] =>
    raws.flatMap((raw) => {
      const value = parse(kind, raw);
      return value === undefined ? [] : [value];
    });

  const view: ListingClusterView = {
    agent: (namespace, name) => parse("Agent", agents.get(namespace, name)),
    model: (namespace, name) => parse("Model", models.get(namespace, name)),
    mcpServer: (namespace, name) => parse("MCPServer", mcpServers.get(namespace, name)),
    humanQueue: (namespace, name) => parse("HumanQueue", humanQueues.get(namespace, name)),
    secret: (namespace, name) => secrets.get(namespace, name),
    agents: (namespace) => parseAll("Agent", agents.list(namespace)),
    models: (namespace) => parseAll("Model", models.list(namespace)),
    mcpServers: (namespace) => parseAll("MCPServer", mcpServers.list(namespace)),
    kedaAvailable: options.kedaAvailable,
  };

  return {
    agents,
    models,
    mcpServers,
    humanQueues,
    secrets,
    owned,
    deployments,
    view,
    async start() {
      await Promise.all(all.map((cache) => cache.start()));
    },
    synced: () => all.every((cache) => cache.synced()),
    async stop() {
      await Promise.all(all.map((cache) => cache.stop()));
    },
  };
}
