/**
 * Which namespaces the operator serves, and how. A namespace is a tenant's when it carries the label
 * `freehold.dev/tenant=<tenant>` and that Tenant (not being deleted) lists it; it is served in
 * single-tenant mode when it carries no tenant label and `FREEHOLD_NAMESPACES` lists it (or is `*`).
 * Anything else is not served: its Agents and MCPServers get no workers. A namespace labelled for a
 * tenant is never served in single-tenant mode, even after that tenant is gone.
 *
 * @module
 */
import { labelKeys } from "./names.ts";

/** `FREEHOLD_NAMESPACES`: namespaces served without a Tenant, or `*` for every namespace. */
export type ConfiguredNamespaces = readonly string[] | "*";

/** How a namespace is served. */
export type NamespaceService =
  | { readonly kind: "tenant"; readonly tenant: string }
  | { readonly kind: "single" }
  | { readonly kind: "none"; readonly reason: string };

/** A tenant as serving sees it. */
export interface ServingTenant {
  readonly name: string;
  readonly namespaces: readonly string[];
  readonly deleting: boolean;
}

/** What decides who serves a namespace. */
export interface ServingState {
  readonly tenants: readonly ServingTenant[];
  /** The `freehold.dev/tenant` label of a namespace, when it has one. */
  readonly tenantLabel: (namespace: string) => string | undefined;
  readonly configured: ConfiguredNamespaces;
}

/**
 * How a namespace is served.
 *
 * @example
 * ```ts
 * namespaceService("acme", { tenants: [{ name: "acme", namespaces: ["acme"], deleting: false }], tenantLabel: () => "acme", configured: [] });
 * // { kind: "tenant", tenant: "acme" }
 * ```
 */
export function namespaceService(namespace: string, state: ServingState): NamespaceService {
  const label = state.tenantLabel(namespace);
  if (label !== undefined) {
    const tenant = state.tenants.find((candidate) => candidate.name === label);
    if (tenant !== undefined && !tenant.deleting && tenant.namespaces.includes(namespace)) {
      return { kind: "tenant", tenant: label };
    }
    const why =
      tenant === undefined
        ? "which does not exist"
        : tenant.deleting
          ? "which is being deleted"
          : "which does not list it in spec.namespaces";
    return {
      kind: "none",
      reason: `namespace ${namespace} is labelled ${labelKeys.tenant}=${label} for tenant ${label}, ${why}; the operator serves it again once that Tenant lists it`,
    };
  }
  if (state.configured === "*" || state.configured.includes(namespace)) return { kind: "single" };
  return {
    kind: "none",
    reason: `namespace ${namespace} belongs to no Tenant and is not in the operator's FREEHOLD_NAMESPACES; list it in a Tenant's spec.namespaces (or in the chart's single-tenant namespaces)`,
  };
}

/**
 * The namespaces whose Secrets the operator reads: every served namespace and its own (the tenants'
 * canonical credentials), or `*` when every namespace is served.
 *
 * @example
 * ```ts
 * servedSecretNamespaces(state, "freehold-system"); // Set { "freehold-system", "acme", "acme-staging" }
 * ```
 */
export function servedSecretNamespaces(
  state: ServingState,
  operatorNamespace: string,
): ReadonlySet<string> | "*" {
  if (state.configured === "*") return "*";
  const served = new Set<string>([operatorNamespace]);
  for (const namespace of state.configured) {
    if (namespaceService(namespace, state).kind === "single") served.add(namespace);
  }
  for (const tenant of state.tenants) {
    for (const namespace of tenant.namespaces) {
      if (namespaceService(namespace, state).kind === "tenant") served.add(namespace);
    }
  }
  return served;
}

/**
 * Reads `FREEHOLD_NAMESPACES`: comma-separated names, `*`, or nothing.
 *
 * @example
 * ```ts
 * parseConfiguredNamespaces("team-a, team-b"); // ["team-a", "team-b"]
 * ```
 */
export function parseConfiguredNamespaces(text: string | undefined): ConfiguredNamespaces {
  const trimmed = (text ?? "").trim();
  if (trimmed === "*") return "*";
  return trimmed
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
}
