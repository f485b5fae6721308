/**
 * The API resources the operator reads and writes, and their REST paths.
 *
 * @module
 */
import { apiVersion as freeholdApiVersion } from "@freehold/api";

/** An API resource: what a REST path needs. */
export interface ResourceType {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

function type(apiVersion: string, kind: string, plural: string, namespaced = true): ResourceType {
  return { apiVersion, kind, plural, namespaced };
}

/** Every resource type the operator touches, by a short name. */
export const resourceTypes = {
  agents: type(freeholdApiVersion, "Agent", "agents"),
  models: type(freeholdApiVersion, "Model", "models"),
  mcpServers: type(freeholdApiVersion, "MCPServer", "mcpservers"),
  humanQueues: type(freeholdApiVersion, "HumanQueue", "humanqueues"),
  tenants: type(freeholdApiVersion, "Tenant", "tenants", false),
  namespaces: type("v1", "Namespace", "namespaces", false),
  secrets: type("v1", "Secret", "secrets"),
  configMaps: type("v1", "ConfigMap", "configmaps"),
  services: type("v1", "Service", "services"),
  serviceAccounts: type("v1", "ServiceAccount", "serviceaccounts"),
  events: type("v1", "Event", "events"),
  deployments: type("apps/v1", "Deployment", "deployments"),
  horizontalPodAutoscalers: type("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
  scaledObjects: type("keda.sh/v1alpha1", "ScaledObject", "scaledobjects"),
  triggerAuthentications: type("keda.sh/v1alpha1", "TriggerAuthentication", "triggerauthentications"),
  leases: type("coordination.k8s.io/v1", "Lease", "leases"),
  roleBindings: type("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings"),
  networkPolicies: type("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies"),
  resourceQuotas: type("v1", "ResourceQuota", "resourcequotas"),
  limitRanges: type("v1", "LimitRange", "limitranges"),
} as const satisfies Record<string, ResourceType>;

/** The type of an object from its apiVersion and kind, among {@link resourceTypes}. */
export function resourceTypeOf(object: { readonly apiVersion: string; readonly kind: string }): ResourceType {
  const found = Object.values(resourceTypes).find(
    (candidate) => candidate.apiVersion === object.apiVersion && candidate.kind === object.kind,
  );
  if (found === undefined) throw new Error(`unknown resource type ${object.apiVersion} ${object.kind}`);
  return found;
}

/**
 * The REST path of a resource's collection, one object, or a subresource.
 *
 * @example
 * ```ts
 * resourcePath(resourceTypes.agents, "acme", "billing", "status"); // "/apis/freehold.dev/v1alpha1/namespaces/acme/agents/billing/status"
 * resourcePath(resourceTypes.secrets); // "/api/v1/secrets" (every namespace)
 * ```
 */
export function resourcePath(
  resource: ResourceType,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const root = resource.apiVersion.includes("/")
    ? `/apis/${resource.apiVersion}`
    : `/api/${resource.apiVersion}`;
  const scope =
    resource.namespaced && namespace !== undefined && namespace !== "" ? `/namespaces/${namespace}` : "";
  const object = name === undefined ? "" : `/${encodeURIComponent(name)}`;
  const sub = subresource === undefined ? "" : `/${subresource}`;
  return `${root}${scope}/${resource.plural}${object}${sub}`;
}
