/**
 * The runtime configuration of one Agent's workers: the exact `RuntimeConfig` that
 * `freehold worker --config` reads, with only what the agent refers to, stdio MCPServers replaced by
 * their bridge's URL and token header (`Authorization` from the Secret `<server>-mcp-token`), metadata cut to name and namespace and the scaling settings
 * (`spec.runtime.replicas`, `spec.runtime.autoscaling`) left out, so the text (and its hash) changes
 * only when something the worker uses changes: scaling never rolls the workers.
 *
 * @module
 */
import { RuntimeConfig, type Agent, type SecretKeySelector } from "@freehold/api";
import { bridgeHttpSpec } from "./bridge-address.ts";
import { canonicalJson, digest, shortHash } from "./canonical-json.ts";
import type { ClusterView } from "./cluster-view.ts";
import type { AgentResolution } from "./resolve-agent.ts";

/** A rendered configuration. */
export interface RenderedRuntimeConfig {
  /** The configuration as written (the worker's parse adds the schema's defaults). */
  readonly config: RuntimeConfig;
  /** The ConfigMap's `config.json`: canonical JSON. */
  readonly json: string;
  /** A hash of the JSON and of every Secret value the workers read: a change rolls them. */
  readonly hash: string;
}

interface Stored {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string | undefined };
  readonly spec: unknown;
}

function trimmed<T extends Stored>(resource: T, namespace: string): T {
  return {
    apiVersion: resource.apiVersion,
    kind: resource.kind,
    metadata: { name: resource.metadata.name, namespace },
    spec: resource.spec,
  } as T;
}

/** The Secret keys an agent's pod reads: the worker's `FREEHOLD_SECRET_*` and `spec.runtime.env`. */
export function podSecretReferences(agent: Agent, resolution: AgentResolution): SecretKeySelector[] {
  return [
    ...resolution.secretReferences,
    ...(agent.spec.runtime.env ?? []).flatMap((variable) =>
      variable.secretKeyRef === undefined ? [] : [variable.secretKeyRef],
    ),
  ];
}

/**
 * The digests of Secret values, in a stable order: what stands for the values in a hash. The values
 * themselves never leave the Secret.
 */
export function secretDigests(
  cluster: ClusterView,
  namespace: string,
  references: readonly SecretKeySelector[],
): string[] {
  return references
    .map((reference) => {
      const value = cluster.secret(namespace, reference.name)?.data?.[reference.key] ?? "";
      return `${reference.name}/${reference.key}=${digest(value)}`;
    })
    .sort();
}

/**
 * Renders the worker configuration of a resolved Agent. `podSecrets` are Secret keys the pod reads
 * besides the agent's own (the namespace's Redis credential): they are hashed too, so a new value
 * rolls the workers.
 *
 * @throws ZodError when the result is not a valid RuntimeConfig (a bug: the inputs were parsed).
 * @example
 * ```ts
 * const rendered = renderRuntimeConfig(agent, resolveAgent(agent, cluster), cluster);
 * rendered.json; // '{\n  "agents": [ ...'
 * ```
 */
export function renderRuntimeConfig(
  agent: Agent,
  resolution: AgentResolution,
  cluster: ClusterView,
  podSecrets: readonly SecretKeySelector[] = [],
): RenderedRuntimeConfig {
  const namespace = agent.metadata.namespace ?? "default";
  const { replicas: _replicas, autoscaling: _autoscaling, ...runtime } = agent.spec.runtime;
  const config = {
    schemaVersion: 1,
    namespace,
    agents: [{ ...trimmed(agent, namespace), spec: { ...agent.spec, runtime } }],
    peers: resolution.peers,
    models: resolution.models
      .map((model) => trimmed(model, namespace))
      .sort((left, right) => left.metadata.name.localeCompare(right.metadata.name)),
    mcpServers: resolution.mcpServers
      .map((server) => {
        const stored = trimmed(server, namespace);
        if (server.spec.stdio === undefined) return stored;
        const { stdio: _stdio, ...rest } = server.spec;
        return { ...stored, spec: { ...rest, http: bridgeHttpSpec(namespace, server.metadata.name) } };
      })
      .sort((left, right) => left.metadata.name.localeCompare(right.metadata.name)),
    humanQueues: resolution.humanQueues
      .map((queue) => trimmed(queue, namespace))
      .sort((left, right) => left.metadata.name.localeCompare(right.metadata.name)),
  };
  // The worker parses the file with the same schema; a failure here is a bug, not a user's mistake.
  RuntimeConfig.parse(config);
  const json = `${canonicalJson(config)}\n`;
  const hash = shortHash([
    json,
    ...secretDigests(cluster, namespace, [...podSecretReferences(agent, resolution), ...podSecrets]),
  ]);
  return { config: config as RuntimeConfig, json, hash };
}
