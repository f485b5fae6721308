/**
 * What the Tenant translation may look up: the namespaces it lists as they exist (labels, whether
 * they are being deleted), and the Models and MCPServers in them (for the egress their endpoints
 * need). The reconciler answers from its caches; tests from a list of objects
 * ({@link tenantViewFromObjects}).
 *
 * @module
 */
import type { McpServer, Model } from "@freehold/api";
import { parseStored } from "./cluster-view.ts";

/** A namespace as it exists. */
export interface NamespaceState {
  readonly labels: Readonly<Record<string, string>>;
  /** True while it is being deleted. */
  readonly terminating: boolean;
}

/** Read access to what a Tenant translation needs. */
export interface TenantView {
  /** The namespace, or undefined when it does not exist. */
  namespace(name: string): NamespaceState | undefined;
  models(namespace: string): readonly Model[];
  mcpServers(namespace: string): readonly McpServer[];
}

interface RawObject {
  readonly kind?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly deletionTimestamp?: string;
  };
  readonly status?: { readonly phase?: string };
}

/** A namespace object's state: its labels, and whether it is being deleted. */
export function namespaceState(raw: RawObject): NamespaceState {
  return {
    labels: raw.metadata?.labels ?? {},
    terminating: raw.metadata?.deletionTimestamp !== undefined || raw.status?.phase === "Terminating",
  };
}

/**
 * A view over a fixed list of objects: Namespaces, Models and MCPServers.
 *
 * @example
 * ```ts
 * const view = tenantViewFromObjects([{ apiVersion: "v1", kind: "Namespace", metadata: { name: "legacy" } }]);
 * translateTenant(tenant, view, options);
 * ```
 */
export function tenantViewFromObjects(objects: readonly unknown[]): TenantView {
  const namespaces = new Map<string, NamespaceState>();
  const models: Model[] = [];
  const servers: McpServer[] = [];
  for (const object of objects) {
    const raw = object as RawObject;
    const name = raw.metadata?.name;
    if (name === undefined) continue;
    if (raw.kind === "Namespace") namespaces.set(name, namespaceState(raw));
    const model = raw.kind === "Model" ? parseStored("Model", raw) : undefined;
    if (model !== undefined) models.push(model);
    const server = raw.kind === "MCPServer" ? parseStored("MCPServer", raw) : undefined;
    if (server !== undefined) servers.push(server);
  }
  return {
    namespace: (name) => namespaces.get(name),
    models: (namespace) => models.filter((model) => model.metadata.namespace === namespace),
    mcpServers: (namespace) => servers.filter((server) => server.metadata.namespace === namespace),
  };
}
