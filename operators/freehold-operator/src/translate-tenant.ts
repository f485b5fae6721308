/**
 * `translate(Tenant, cluster) → objects`: what a Tenant becomes, as a pure function. Its namespaces
 * (labelled `freehold.dev/tenant=<tenant>`) are made when missing and never taken over when they
 * exist without that label or with another tenant's; in each one it owns: the RoleBinding of the
 * operator's ServiceAccount to `freehold-workload-manager` (first: in a real install everything
 * else is written through it), the RoleBindings of its admins and members, a NetworkPolicy, a
 * ResourceQuota with its CPU and memory divided evenly over its namespaces, and a LimitRange with
 * default requests so that pods without requests are still admitted under the quota.
 *
 * @module
 */
import type { Subject, Tenant } from "@freehold/api";
import { falseCondition, trueCondition, type ConditionDraft } from "./conditions.ts";
import type {
  KubernetesObject,
  LimitRange,
  Namespace,
  RbacSubject,
  ResourceQuota,
  RoleBinding,
} from "./kubernetes-objects.ts";
import { fieldManager, labelKeys, tenantClusterRoles, tenantObjectNames } from "./names.ts";
import { divideQuantity, smallerQuantity } from "./quantity.ts";
import type { Problem } from "./resolve-agent.ts";
import { tenantNetworkPolicy } from "./tenant-network-policy.ts";
import type { TenantView } from "./tenant-view.ts";

/** What the Tenant translation needs from the operator's configuration. */
export interface TenantTranslateOptions {
  /** The operator's namespace: its gateway, operator and Redis pods, and the tenants' canonical credentials. */
  readonly operatorNamespace: string;
  /** The operator's ServiceAccount, bound to `freehold-workload-manager` in each tenant namespace. */
  readonly operatorServiceAccount: string;
  /** Where workers reach Redis, for the egress rule; absent: no Redis rule. */
  readonly workerRedisUrl?: string;
  /** Prometheus's namespaces and the workers' health port: admitted to scrape `/metrics`. */
  readonly metricsScrapers?: { readonly namespaces: readonly string[]; readonly port: number };
}

/** The objects of one namespace the tenant owns. */
export interface TenantNamespaceObjects {
  readonly namespace: string;
  /** Applied first. */
  readonly operatorBinding: RoleBinding;
  /** Applied once the operator's binding exists. */
  readonly objects: readonly KubernetesObject[];
}

/** What a Tenant becomes. */
export interface TenantTranslation {
  /** The namespaces it owns once the new ones are made, in `spec.namespaces` order. */
  readonly namespaces: readonly string[];
  /** Namespaces to create (listed, not existing). */
  readonly newNamespaces: readonly Namespace[];
  readonly namespaceObjects: readonly TenantNamespaceObjects[];
  readonly namespacesReady: ConditionDraft;
  /** Quotas it cannot apply (a CPU or memory that is not a quantity). */
  readonly problems: readonly Problem[];
}

/** The default request of a container without one (capped at the namespace's share of the quota). */
export const defaultRequests = { cpu: "100m", memory: "128Mi" } as const;

/** The labels of everything the operator makes for a tenant (its namespaces included). */
export function tenantLabels(tenant: string): Record<string, string> {
  return {
    [labelKeys.partOf]: "freehold",
    [labelKeys.managedBy]: fieldManager,
    [labelKeys.tenant]: tenant,
  };
}

function rbacSubject(subject: Subject): RbacSubject {
  return subject.user === undefined
    ? { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: subject.group ?? "" }
    : { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: subject.user };
}

function roleBinding(
  name: string,
  namespace: string,
  role: string,
  subjects: readonly RbacSubject[],
  labels: Record<string, string>,
): RoleBinding {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name, namespace, labels },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
    subjects,
  };
}

interface NamespaceClaim {
  readonly name: string;
  readonly owned: boolean;
  readonly isNew: boolean;
  readonly problem?: Problem;
}

function claim(tenant: string, name: string, view: TenantView): NamespaceClaim {
  const existing = view.namespace(name);
  if (existing === undefined) return { name, owned: true, isNew: true };
  const owner = existing.labels[labelKeys.tenant];
  if (owner === undefined) {
    return {
      name,
      owned: false,
      isNew: false,
      problem: {
        reason: "NamespaceExists",
        message: `namespace ${name} exists and belongs to no tenant; the operator never takes over a namespace: label it ${labelKeys.tenant}=${tenant} to hand it to tenant ${tenant}, or remove it from spec.namespaces`,
      },
    };
  }
  if (owner !== tenant) {
    return {
      name,
      owned: false,
      isNew: false,
      problem: {
        reason: "NamespaceOwnedByOtherTenant",
        message: `namespace ${name} belongs to tenant ${owner} (label ${labelKeys.tenant}); remove it from spec.namespaces`,
      },
    };
  }
  if (existing.terminating) {
    return {
      name,
      owned: false,
      isNew: false,
      problem: {
        reason: "NamespaceTerminating",
        message: `namespace ${name} is being deleted; it is made again once it is gone`,
      },
    };
  }
  return { name, owned: true, isNew: false };
}

interface QuotaShares {
  /** `requests.cpu`, `requests.memory` of each namespace's ResourceQuota. */
  readonly hard: Readonly<Record<string, string>>;
  /** The LimitRange's default requests. */
  readonly requests: Readonly<Record<string, string>>;
  readonly problems: readonly Problem[];
}

function quotaShares(tenant: Tenant): QuotaShares {
  const quotas = tenant.spec.quotas ?? {};
  const hard: Record<string, string> = {};
  const requests: Record<string, string> = {};
  const problems: Problem[] = [];
  for (const kind of ["cpu", "memory"] as const) {
    const total = quotas[kind];
    if (total === undefined) continue;
    const share = divideQuantity(total, tenant.spec.namespaces.length, kind);
    if (share === undefined) {
      problems.push({
        reason: "InvalidQuota",
        message: `spec.quotas.${kind} ${JSON.stringify(total)} is not a Kubernetes quantity (e.g. ${kind === "cpu" ? "16 or 500m" : "64Gi or 512Mi"}); fix it to get a ResourceQuota`,
      });
      continue;
    }
    hard[`requests.${kind}`] = share;
    requests[kind] = smallerQuantity(defaultRequests[kind], share);
  }
  return { hard, requests, problems };
}

function quotaObjects(
  shares: QuotaShares,
  namespace: string,
  labels: Record<string, string>,
): KubernetesObject[] {
  if (Object.keys(shares.hard).length === 0) return [];
  const quota: ResourceQuota = {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name: tenantObjectNames.tenant, namespace, labels },
    spec: { hard: shares.hard },
  };
  const limits: LimitRange = {
    apiVersion: "v1",
    kind: "LimitRange",
    metadata: { name: tenantObjectNames.tenant, namespace, labels },
    spec: { limits: [{ type: "Container", defaultRequest: shares.requests }] },
  };
  return [quota, limits];
}

/**
 * Translates a Tenant.
 *
 * @example
 * ```ts
 * const translation = translateTenant(tenant, view, { operatorNamespace: "freehold-system", operatorServiceAccount: "freehold-operator" });
 * translation.namespacesReady; // { type: "NamespacesReady", status: "True", ... }
 * ```
 */
export function translateTenant(
  tenant: Tenant,
  view: TenantView,
  options: TenantTranslateOptions,
): TenantTranslation {
  const name = tenant.metadata.name;
  const labels = tenantLabels(name);
  const claims = tenant.spec.namespaces.map((namespace) => claim(name, namespace, view));
  const owned = claims.filter((item) => item.owned).map((item) => item.name);
  const conflicts = claims.flatMap((item) => (item.problem === undefined ? [] : [item.problem]));
  const shares = quotaShares(tenant);
  const admins = (tenant.spec.admins ?? []).map(rbacSubject);
  const members = (tenant.spec.members ?? []).map(rbacSubject);
  const namespaceObjects = owned.map((namespace): TenantNamespaceObjects => {
    return {
      namespace,
      operatorBinding: roleBinding(
        tenantObjectNames.operator,
        namespace,
        tenantClusterRoles.workloadManager,
        [
          {
            kind: "ServiceAccount",
            name: options.operatorServiceAccount,
            namespace: options.operatorNamespace,
          },
        ],
        labels,
      ),
      objects: [
        ...(admins.length === 0
          ? []
          : [roleBinding(tenantObjectNames.admins, namespace, tenantClusterRoles.admin, admins, labels)]),
        ...(members.length === 0
          ? []
          : [roleBinding(tenantObjectNames.members, namespace, tenantClusterRoles.member, members, labels)]),
        ...(tenant.spec.isolation.networkPolicy
          ? [
              tenantNetworkPolicy({
                namespace,
                tenantNamespaces: owned,
                operatorNamespace: options.operatorNamespace,
                redisUrl: options.workerRedisUrl,
                ...(options.metricsScrapers === undefined
                  ? {}
                  : { metricsScrapers: options.metricsScrapers }),
                models: view.models(namespace),
                mcpServers: view.mcpServers(namespace),
                labels,
              }),
            ]
          : []),
        ...quotaObjects(shares, namespace, labels),
      ],
    };
  });
  const [firstConflict] = conflicts;
  return {
    namespaces: owned,
    newNamespaces: claims
      .filter((item) => item.isNew)
      .map((item) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name: item.name, labels } })),
    namespaceObjects,
    namespacesReady:
      firstConflict === undefined
        ? trueCondition(
            "NamespacesReady",
            "NamespacesOwned",
            `${owned.length} namespace${owned.length === 1 ? "" : "s"}: ${owned.join(", ")}`,
          )
        : falseCondition(
            "NamespacesReady",
            firstConflict.reason,
            conflicts.map((problem) => problem.message).join("; "),
          ),
    problems: shares.problems,
  };
}

/**
 * The Ready condition of a Tenant: its namespaces are its own, its Redis user is set up and its
 * quotas apply.
 *
 * @example
 * ```ts
 * tenantReadyCondition(translation.namespacesReady, redisUserReady, translation.problems);
 * ```
 */
export function tenantReadyCondition(
  namespacesReady: ConditionDraft,
  redisUserReady: ConditionDraft,
  problems: readonly Problem[],
): ConditionDraft {
  const failing = [
    ...[namespacesReady, redisUserReady]
      .filter((condition) => condition.status !== "True")
      .map((condition) => ({ reason: condition.reason, message: `${condition.type}: ${condition.message}` })),
    ...problems,
  ];
  const [first] = failing;
  return first === undefined
    ? trueCondition(
        "Ready",
        "TenantReady",
        "namespaces, role bindings, policies and the Redis user are in place",
      )
    : falseCondition("Ready", first.reason, failing.map((problem) => problem.message).join("; "));
}
