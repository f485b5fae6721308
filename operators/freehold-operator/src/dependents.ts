/**
 * Which resources depend on a changed one, so that a change requeues them: the agents that use a
 * Model (directly or as a fallback), an MCPServer, a HumanQueue, another Agent or a Secret, and the
 * Models and MCPServers that read a Secret (a stdio server reads its bridge token's).
 *
 * @module
 */
import type { Agent, McpServer, Model } from "@freehold/api";
import { bridgeTokenSecretName } from "./bridge-address.ts";
import type { ClusterView } from "./cluster-view.ts";

/** A cluster view that can also list a namespace's Models and MCPServers. */
export interface ListingClusterView extends ClusterView {
  models(namespace: string): readonly Model[];
  mcpServers(namespace: string): readonly McpServer[];
}

function modelChain(cluster: ClusterView, namespace: string, start: string): Set<string> {
  const seen = new Set<string>();
  const pending = [start];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (seen.has(name)) continue;
    seen.add(name);
    for (const fallback of cluster.model(namespace, name)?.spec.fallbacks ?? []) pending.push(fallback.ref);
  }
  return seen;
}

function names(agents: readonly Agent[]): string[] {
  return agents.map((agent) => agent.metadata.name);
}

/** Agents whose Model, or a Model it falls back to, is `model`. */
export function agentsUsingModel(cluster: ListingClusterView, namespace: string, model: string): string[] {
  return names(
    cluster
      .agents(namespace)
      .filter((agent) => modelChain(cluster, namespace, agent.spec.model.ref).has(model)),
  );
}

/** Agents with `server` in their tools. */
export function agentsUsingMcpServer(cluster: ClusterView, namespace: string, server: string): string[] {
  return names(
    cluster
      .agents(namespace)
      .filter((agent) => (agent.spec.tools ?? []).some((tool) => tool.mcpServer === server)),
  );
}

/** Agents that hand off to `queue`. */
export function agentsUsingHumanQueue(
  cluster: ListingClusterView,
  namespace: string,
  queue: string,
): string[] {
  return names(
    cluster
      .agents(namespace)
      .filter((agent) => (agent.spec.handoffs ?? []).some((handoff) => handoff.humanQueue === queue)),
  );
}

/** Agents that call `target` as a tool or hand off to it. */
export function agentsUsingAgent(cluster: ListingClusterView, namespace: string, target: string): string[] {
  return names(
    cluster
      .agents(namespace)
      .filter(
        (agent) =>
          (agent.spec.tools ?? []).some((tool) => tool.agent === target) ||
          (agent.spec.handoffs ?? []).some((handoff) => handoff.agent === target),
      ),
  );
}

function serverUsesSecret(server: McpServer, secret: string): boolean {
  if (server.spec.stdio !== undefined && secret === bridgeTokenSecretName(server.metadata.name)) return true;
  return [
    ...(server.spec.http?.headers ?? []),
    ...(server.spec.sse?.headers ?? []),
    ...(server.spec.stdio?.env ?? []),
  ].some((value) => value.secretKeyRef?.name === secret);
}

/** The Models, MCPServers and Agents of a namespace that read a Secret. */
export function usersOfSecret(
  cluster: ListingClusterView,
  namespace: string,
  secret: string,
): { readonly agents: string[]; readonly models: string[]; readonly mcpServers: string[] } {
  const models = cluster
    .models(namespace)
    .filter((model) => model.spec.apiKeySecretRef?.name === secret)
    .map((model) => model.metadata.name);
  const mcpServers = cluster
    .mcpServers(namespace)
    .filter((server) => serverUsesSecret(server, secret))
    .map((server) => server.metadata.name);
  const agents = cluster.agents(namespace).filter((agent) => {
    if ((agent.spec.runtime.env ?? []).some((variable) => variable.secretKeyRef?.name === secret))
      return true;
    const chain = modelChain(cluster, namespace, agent.spec.model.ref);
    if (models.some((model) => chain.has(model))) return true;
    return (agent.spec.tools ?? []).some(
      (tool) => tool.mcpServer !== undefined && mcpServers.includes(tool.mcpServer),
    );
  });
  return { agents: names(agents), models, mcpServers };
}
