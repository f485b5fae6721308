/**
 * The names, labels and owner references the operator puts on what it makes. Every object it
 * applies carries `app.kubernetes.io/managed-by: freehold-operator`, which is also how its caches
 * select what it owns.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { apiVersion } from "@freehold/api";
import type { OwnerReference } from "./kubernetes-objects.ts";

/** The field manager of every server-side apply, and the `source.component` of Events. */
export const fieldManager = "freehold-operator";

/** Label keys and values. */
export const labelKeys = {
  name: "app.kubernetes.io/name",
  instance: "app.kubernetes.io/instance",
  component: "app.kubernetes.io/component",
  partOf: "app.kubernetes.io/part-of",
  managedBy: "app.kubernetes.io/managed-by",
  agent: "freehold.dev/agent",
  mcpServer: "freehold.dev/mcp-server",
  /** On a tenant's namespaces and on what the operator makes for the tenant: the tenant's name. */
  tenant: "freehold.dev/tenant",
  /** Set by the API server on every namespace: its name (what network policies select namespaces by). */
  namespaceName: "kubernetes.io/metadata.name",
} as const;

/** The label selector of everything the operator manages. */
export const managedSelector = `${labelKeys.managedBy}=${fieldManager}`;

/** Annotation keys. */
export const annotationKeys = {
  /** On pod templates: a hash of the rendered config and the Secret values it uses; a change rolls the pods. */
  configHash: "freehold.dev/config-hash",
} as const;

/** The finalizer the operator puts on an Agent when it must clean up the agent's entries in Redis. */
export const agentFinalizer = "freehold.dev/agent-registry";

/** The finalizer on a Tenant: its Redis user, tenancy keys and credential are removed before it goes. */
export const tenantFinalizer = "freehold.dev/tenant-cleanup";

/** The Secret in each served namespace that workers read `FREEHOLD_REDIS_URL` from (keys `url`, `username`, `password`). */
export const redisSecretName = "freehold-redis";

/**
 * The tenant's canonical Redis credential (key `password`), a Secret in the operator's namespace;
 * deleting it rotates the password.
 *
 * @example
 * ```ts
 * tenantCredentialSecretName("acme"); // "freehold-tenant-acme-redis"
 * ```
 */
export function tenantCredentialSecretName(tenant: string): string {
  return `freehold-tenant-${tenant}-redis`;
}

/** The names of what the operator makes in each of a tenant's namespaces. */
export const tenantObjectNames = {
  /** RoleBinding of `spec.admins` to the ClusterRole `freehold-tenant-admin`. */
  admins: "freehold-tenant-admins",
  /** RoleBinding of `spec.members` to the ClusterRole `freehold-tenant-member`. */
  members: "freehold-tenant-members",
  /** RoleBinding of the operator's ServiceAccount to the ClusterRole `freehold-workload-manager`. */
  operator: "freehold-operator",
  /** NetworkPolicy, ResourceQuota and LimitRange. */
  tenant: "freehold-tenant",
} as const;

/** The ClusterRoles the chart ships, which the tenant's RoleBindings refer to. */
export const tenantClusterRoles = {
  admin: "freehold-tenant-admin",
  member: "freehold-tenant-member",
  workloadManager: "freehold-workload-manager",
} as const;

/** A resource the operator owns children for. */
export interface Owner {
  readonly kind: "Agent" | "MCPServer";
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly uid?: string };
}

const maxNameLength = 63;

/**
 * The name of a child object: `<name>-<suffix>`; when that is longer than 63 characters, the name is
 * cut and a short hash of the whole keeps it unique.
 *
 * @example
 * ```ts
 * childName("billing", "agent"); // "billing-agent"
 * ```
 */
export function childName(name: string, suffix: string): string {
  const full = `${name}-${suffix}`;
  if (full.length <= maxNameLength) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 8);
  const room = maxNameLength - suffix.length - hash.length - 2;
  return `${name.slice(0, room).replace(/-+$/, "")}-${hash}-${suffix}`;
}

/** The labels of the children of an owner. */
export function ownerLabels(owner: Owner): Record<string, string> {
  const agent = owner.kind === "Agent";
  return {
    [labelKeys.name]: agent ? "freehold-worker" : "freehold-mcp-bridge",
    [labelKeys.instance]: owner.metadata.name,
    [labelKeys.component]: agent ? "agent" : "mcp-server",
    [labelKeys.partOf]: "freehold",
    [labelKeys.managedBy]: fieldManager,
    [agent ? labelKeys.agent : labelKeys.mcpServer]: owner.metadata.name,
  };
}

/** The pod selector of an owner's Deployment and Service (immutable once created). */
export function ownerSelector(owner: Owner): Record<string, string> {
  return { [owner.kind === "Agent" ? labelKeys.agent : labelKeys.mcpServer]: owner.metadata.name };
}

/**
 * The controller reference to an owner: Kubernetes' garbage collector deletes the child when the
 * owner goes.
 */
export function ownerReference(owner: Owner): OwnerReference {
  return {
    apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** `namespace/name`: the key of the work queues. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === "" ? name : `${namespace}/${name}`;
}

/** Splits a work-queue key into namespace and name. */
export function splitObjectKey(key: string): { readonly namespace: string; readonly name: string } {
  const slash = key.indexOf("/");
  return slash === -1
    ? { namespace: "", name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
