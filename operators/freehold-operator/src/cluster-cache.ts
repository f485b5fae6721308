/**
 * The operator's informers: the Freehold resources, Tenants and the namespaces labelled for one,
 * the Secrets of the namespaces it serves (one informer per namespace, following the served set),
 * and the objects the operator owns (selected by `app.kubernetes.io/managed-by: freehold-operator`),
 * with a cluster view over them that parses each stored version once.
 *
 * @module
 */
import type { Tenant } from "@freehold/api";
import type { KubeConfig } from "@kubernetes/client-node";
import { parseStored, type SecretData, type StoredKinds } from "./cluster-view.ts";
import type { ListingClusterView } from "./dependents.ts";
import { createInformerCache, type InformerCache } from "./informer-cache.ts";
import type { KubernetesClient } from "./kubernetes-client.ts";
import type { Deployment, KubernetesObject, Namespace } from "./kubernetes-objects.ts";
import { labelKeys, managedSelector } from "./names.ts";
import { createNamespacedInformers, type NamespacedInformers } from "./namespaced-informers.ts";
import { resourceTypes } from "./resource-types.ts";
import {
  namespaceService,
  servedSecretNamespaces,
  type ConfiguredNamespaces,
  type NamespaceService,
  type ServingState,
} from "./served-namespaces.ts";
import type { ObjectWithStatus } from "./status-update.ts";

/** Every informer of the operator. */
export interface ClusterCache {
  readonly agents: InformerCache<ObjectWithStatus>;
  readonly models: InformerCache<ObjectWithStatus>;
  readonly mcpServers: InformerCache<ObjectWithStatus>;
  readonly humanQueues: InformerCache<ObjectWithStatus>;
  readonly tenants: InformerCache<ObjectWithStatus>;
  /** Namespaces with a `freehold.dev/tenant` label. */
  readonly namespaces: InformerCache<Namespace>;
  /** Secrets of the served namespaces and of the operator's own. */
  readonly secrets: NamespacedInformers<KubernetesObject & SecretData>;
  /** The owned kinds of Agents and MCPServers, Deployments first (NetworkPolicies: the same informer as in `tenantOwned`). */
  readonly owned: readonly InformerCache<KubernetesObject>[];
  /** What the operator makes in tenant namespaces: RoleBindings, NetworkPolicies, ResourceQuotas, LimitRanges. */
  readonly tenantOwned: readonly InformerCache<KubernetesObject>[];
  readonly deployments: InformerCache<Deployment>;
  /** The view translations read. */
  readonly view: ListingClusterView;
  /** A Tenant, parsed; undefined when missing or invalid. */
  tenant(name: string): Tenant | undefined;
  /** What decides which namespaces are served, now. */
  serving(): ServingState;
  /** How a namespace is served, now. */
  serviceOf(namespace: string): NamespaceService;
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
  /** `FREEHOLD_NAMESPACES`: served without a Tenant. Default: none. */
  readonly servedNamespaces?: ConfiguredNamespaces;
  /** The operator's namespace, whose Secrets (the tenants' canonical credentials) it reads. */
  readonly operatorNamespace: string;
  readonly log: (line: string) => void;
}

/**
 * @example
 * ```ts
 * const cache = createClusterCache({ kubeConfig, client, kedaAvailable: false, operatorNamespace: "freehold-system", log });
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
  const cluster = { kubeConfig: options.kubeConfig, client: options.client, log: options.log };
  const tenants = createInformerCache<ObjectWithStatus>({ ...cluster, resource: resourceTypes.tenants });
  const namespaces = createInformerCache<Namespace>({
    ...cluster,
    resource: resourceTypes.namespaces,
    labelSelector: labelKeys.tenant,
  });
  const secrets = createNamespacedInformers<KubernetesObject & SecretData>({
    ...cluster,
    resource: resourceTypes.secrets,
  });
  const managed = { ...base, labelSelector: managedSelector };
  const deployments = createInformerCache<Deployment>({ ...managed, resource: resourceTypes.deployments });
  const tenantOwned: InformerCache<KubernetesObject>[] = [
    resourceTypes.roleBindings,
    resourceTypes.networkPolicies,
    resourceTypes.resourceQuotas,
    resourceTypes.limitRanges,
  ].map((resource) => createInformerCache({ ...cluster, labelSelector: managedSelector, resource }));
  const networkPolicies = tenantOwned.filter((cache) => cache.resource === resourceTypes.networkPolicies);
  const owned: InformerCache<KubernetesObject>[] = [
    deployments,
    createInformerCache({ ...managed, resource: resourceTypes.services }),
    createInformerCache({ ...managed, resource: resourceTypes.configMaps }),
    createInformerCache({ ...managed, resource: resourceTypes.serviceAccounts }),
    createInformerCache({ ...managed, resource: resourceTypes.horizontalPodAutoscalers }),
    ...(options.kedaAvailable
      ? [
          createInformerCache({ ...managed, resource: resourceTypes.scaledObjects }),
          createInformerCache({ ...managed, resource: resourceTypes.triggerAuthentications }),
        ]
      : []),
    // Stdio bridges' NetworkPolicies: the tenants' informer (one watch), pruned by owner reference.
    ...networkPolicies,
  ];
  const all: InformerCache<KubernetesObject>[] = [
    ...new Set([agents, models, mcpServers, humanQueues, tenants, namespaces, ...owned, ...tenantOwned]),
  ];

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

  const serving = (): ServingState => ({
    tenants: tenants.list().flatMap((raw) => {
      const tenant = parse("Tenant", raw);
      return tenant === undefined
        ? []
        : [
            {
              name: tenant.metadata.name,
              namespaces: tenant.spec.namespaces,
              deleting: raw.metadata.deletionTimestamp !== undefined,
            },
          ];
    }),
    tenantLabel: (namespace) => namespaces.get("", namespace)?.metadata.labels?.[labelKeys.tenant],
    configured: options.servedNamespaces ?? [],
  });
  let started = false;
  /** Watches the Secrets of exactly the namespaces served now (within the one watched namespace, if any). */
  const followServed = (): void => {
    if (!started) return;
    const served = servedSecretNamespaces(serving(), options.operatorNamespace);
    if (options.namespace === undefined) {
      secrets.watch(served);
      return;
    }
    const only = options.namespace;
    secrets.watch(
      new Set(
        [only, options.operatorNamespace].filter((namespace) => served === "*" || served.has(namespace)),
      ),
    );
  };
  tenants.onChange(followServed);
  namespaces.onChange(followServed);

  return {
    agents,
    models,
    mcpServers,
    humanQueues,
    tenants,
    namespaces,
    secrets,
    owned,
    tenantOwned,
    deployments,
    view,
    tenant: (name) => parse("Tenant", tenants.get("", name)),
    serving,
    serviceOf: (namespace) => namespaceService(namespace, serving()),
    async start() {
      await Promise.all(all.map((cache) => cache.start()));
      started = true;
      followServed();
    },
    synced: () => all.every((cache) => cache.synced()),
    async stop() {
      started = false;
      await Promise.all([...all.map((cache) => cache.stop()), secrets.stop()]);
    },
  };
}
