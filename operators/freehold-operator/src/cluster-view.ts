/**
 * What a translation may look up besides the resource itself: the other Freehold resources and the
 * Secrets of the namespace. The controller answers from its informer caches; tests answer from a
 * list of objects ({@link clusterViewFromObjects}).
 *
 * @module
 */
import {
  findResourceKind,
  type Agent,
  type HumanQueue,
  type McpServer,
  type Model,
  type Tenant,
} from "@freehold/api";

/** A Secret as translations see it: which keys it has and their (base64) values, to hash. */
export interface SecretData {
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly data?: Readonly<Record<string, string>>;
}

/** Read access to the cluster's current state. */
export interface ClusterView {
  agent(namespace: string, name: string): Agent | undefined;
  model(namespace: string, name: string): Model | undefined;
  mcpServer(namespace: string, name: string): McpServer | undefined;
  humanQueue(namespace: string, name: string): HumanQueue | undefined;
  secret(namespace: string, name: string): SecretData | undefined;
  /** Every Agent of a namespace (the users of an MCPServer, for its bridge's NetworkPolicy). */
  agents(namespace: string): readonly Agent[];
  /** Whether KEDA's ScaledObject CRD is installed. */
  readonly kedaAvailable: boolean;
}

/** The Freehold kinds a view holds, by `kind`. */
export interface StoredKinds {
  readonly Agent: Agent;
  readonly Model: Model;
  readonly MCPServer: McpServer;
  readonly HumanQueue: HumanQueue;
  readonly Tenant: Tenant;
}

interface RawObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: unknown;
  readonly status?: unknown;
}

/**
 * Parses an object read from the API server with its kind's schema: the typed resource, or
 * undefined when its spec does not parse. A status the schema does not know is dropped rather than
 * failing the whole object.
 *
 * @example
 * ```ts
 * const agent = parseStored("Agent", await read(...));
 * ```
 */
export function parseStored<Kind extends keyof StoredKinds>(
  kind: Kind,
  raw: unknown,
): StoredKinds[Kind] | undefined {
  const resourceKind = findResourceKind(kind);
  if (resourceKind === undefined || typeof raw !== "object" || raw === null) return undefined;
  const { apiVersion, metadata, spec, status } = raw as RawObject;
  const whole = resourceKind.schema.safeParse({ apiVersion, kind, metadata, spec, status });
  if (whole.success) return whole.data as StoredKinds[Kind];
  const withoutStatus = resourceKind.schema.safeParse({ apiVersion, kind, metadata, spec });
  return withoutStatus.success ? (withoutStatus.data as StoredKinds[Kind]) : undefined;
}

/**
 * A view over a fixed list of objects (Freehold resources and Secrets), e.g. parsed manifests.
 * Objects without a namespace are taken to be in `defaultNamespace`.
 *
 * @example
 * ```ts
 * const cluster = clusterViewFromObjects([...parseManifests(yaml)], { defaultNamespace: "acme" });
 * translateAgent(agent, cluster, options);
 * ```
 */
export function clusterViewFromObjects(
  objects: readonly unknown[],
  options: { readonly defaultNamespace?: string; readonly kedaAvailable?: boolean } = {},
): ClusterView {
  const agents = new Map<string, Agent>();
  const models = new Map<string, Model>();
  const servers = new Map<string, McpServer>();
  const queues = new Map<string, HumanQueue>();
  const secrets = new Map<string, SecretData>();
  for (const object of objects) {
    const raw = object as RawObject;
    const name = raw.metadata?.name;
    if (name === undefined) continue;
    const key = `${raw.metadata?.namespace ?? options.defaultNamespace ?? "default"}/${name}`;
    const remember = <T>(map: Map<string, T>, value: T | undefined): void => {
      if (value !== undefined) map.set(key, value);
    };
    if (raw.kind === "Secret") remember(secrets, raw as SecretData);
    else if (raw.kind === "Agent") remember(agents, parseStored("Agent", raw));
    else if (raw.kind === "Model") remember(models, parseStored("Model", raw));
    else if (raw.kind === "MCPServer") remember(servers, parseStored("MCPServer", raw));
    else if (raw.kind === "HumanQueue") remember(queues, parseStored("HumanQueue", raw));
  }
  return {
    agent: (namespace, name) => agents.get(`${namespace}/${name}`),
    model: (namespace, name) => models.get(`${namespace}/${name}`),
    mcpServer: (namespace, name) => servers.get(`${namespace}/${name}`),
    humanQueue: (namespace, name) => queues.get(`${namespace}/${name}`),
    secret: (namespace, name) => secrets.get(`${namespace}/${name}`),
    agents: (namespace) =>
      [...agents.entries()].filter(([key]) => key.startsWith(`${namespace}/`)).map(([, agent]) => agent),
    kedaAvailable: options.kedaAvailable ?? false,
  };
}
