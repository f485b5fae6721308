/**
 * Resolving what an Agent refers to: its Model (and the Models it falls back to), its MCPServers,
 * the agents it calls or hands off to, its HumanQueues and every Secret key its workers will read.
 * Each missing thing becomes a problem that names it ("Model default not found in namespace acme"),
 * grouped by the condition it belongs to.
 *
 * @module
 */
import {
  agentToolCycle,
  type Agent,
  type HumanQueue,
  type McpServer,
  type Model,
  type SecretKeySelector,
} from "@freehold/api";
import { bridgeAuthorizationReference } from "./bridge-address.ts";
import type { ClusterView } from "./cluster-view.ts";
import { falseCondition, trueCondition, type ConditionDraft } from "./conditions.ts";

/** One thing that is missing. */
export interface Problem {
  readonly reason: string;
  readonly message: string;
}

/** Everything an Agent refers to, found or not. */
export interface AgentResolution {
  readonly modelResolved: ConditionDraft;
  readonly toolsResolved: ConditionDraft;
  readonly handoffsResolved: ConditionDraft;
  /** Problems with the Secrets of `spec.runtime.env`. */
  readonly runtimeProblems: readonly Problem[];
  /** The agent's Model first, then every Model it may fall back to. */
  readonly models: readonly Model[];
  readonly mcpServers: readonly McpServer[];
  readonly humanQueues: readonly HumanQueue[];
  /** The agents it calls as tools or hands off to, for tool descriptions. */
  readonly peers: readonly { readonly name: string; readonly description?: string }[];
  /** The Secret keys the worker reads through `FREEHOLD_SECRET_*` variables (API keys, MCP headers, bridge tokens). */
  readonly secretReferences: readonly SecretKeySelector[];
  /** `provider/model` of the agent's Model, when found. */
  readonly modelName: string | undefined;
  /** How many tools the model sees, when every MCP server's tools are known. */
  readonly toolCount: number | undefined;
  /** True when every reference resolved and the workers can start. */
  readonly resolved: boolean;
}

/** Checks that a Secret key exists: a problem naming it, or undefined. */
export function secretProblem(
  cluster: ClusterView,
  namespace: string,
  reference: SecretKeySelector,
  usedBy: string,
): Problem | undefined {
  const secret = cluster.secret(namespace, reference.name);
  if (secret === undefined) {
    return {
      reason: "SecretNotFound",
      message: `Secret ${reference.name} not found in namespace ${namespace} (${usedBy})`,
    };
  }
  if (secret.data?.[reference.key] === undefined) {
    return {
      reason: "SecretKeyNotFound",
      message: `Secret ${reference.name} has no key ${reference.key} (${usedBy})`,
    };
  }
  return undefined;
}

/** A condition from problems: False with the first problem's reason and every message, or True. */
export function conditionOf(
  type: string,
  problems: readonly Problem[],
  resolvedMessage: string,
): ConditionDraft {
  const [first] = problems;
  return first === undefined
    ? trueCondition(type, "Resolved", resolvedMessage)
    : falseCondition(type, first.reason, problems.map((problem) => problem.message).join("; "));
}

function resolveModels(
  agent: Agent,
  namespace: string,
  cluster: ClusterView,
): { models: Model[]; problems: Problem[]; secrets: SecretKeySelector[] } {
  const models: Model[] = [];
  const problems: Problem[] = [];
  const secrets: SecretKeySelector[] = [];
  const seen = new Set<string>();
  const visit = (name: string, referrer: string | undefined): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const model = cluster.model(namespace, name);
    if (model === undefined) {
      problems.push({
        reason: referrer === undefined ? "ModelNotFound" : "FallbackModelNotFound",
        message:
          referrer === undefined
            ? `Model ${name} not found in namespace ${namespace}; apply it or change spec.model.ref`
            : `Model ${name} (a fallback of Model ${referrer}) not found in namespace ${namespace}`,
      });
      return;
    }
    models.push(model);
    const key = model.spec.apiKeySecretRef;
    if (key !== undefined) {
      const problem = secretProblem(cluster, namespace, key, `apiKeySecretRef of Model ${name}`);
      if (problem === undefined) secrets.push(key);
      else problems.push(problem);
    }
    for (const fallback of model.spec.fallbacks ?? []) visit(fallback.ref, name);
  };
  visit(agent.spec.model.ref, undefined);
  return { models, problems, secrets };
}

function resolveTools(
  agent: Agent,
  namespace: string,
  cluster: ClusterView,
): {
  servers: McpServer[];
  peers: string[];
  problems: Problem[];
  secrets: SecretKeySelector[];
  toolCount: number | undefined;
} {
  const servers: McpServer[] = [];
  const peers: string[] = [];
  const problems: Problem[] = [];
  const secrets: SecretKeySelector[] = [];
  let toolCount: number | undefined = 0;
  for (const tool of agent.spec.tools ?? []) {
    if (tool.agent !== undefined) {
      if (cluster.agent(namespace, tool.agent) === undefined) {
        problems.push({
          reason: "AgentNotFound",
          message: `Agent ${tool.agent} (used as a tool) not found in namespace ${namespace}`,
        });
      } else {
        peers.push(tool.agent);
        if (toolCount !== undefined) toolCount += 1;
      }
      continue;
    }
    if (tool.mcpServer === undefined) continue;
    const server = cluster.mcpServer(namespace, tool.mcpServer);
    if (server === undefined) {
      problems.push({
        reason: "MCPServerNotFound",
        message: `MCPServer ${tool.mcpServer} not found in namespace ${namespace}; apply it or remove it from spec.tools`,
      });
      continue;
    }
    servers.push(server);
    const offered = server.status?.tools?.map((offeredTool) => offeredTool.name);
    const missing = offered === undefined ? [] : (tool.allow ?? []).filter((name) => !offered.includes(name));
    if (missing.length > 0) {
      problems.push({
        reason: "ToolNotOffered",
        message: `MCPServer ${tool.mcpServer} does not offer ${missing.join(", ")} (it lists ${offered?.join(", ") || "no tools"})`,
      });
    }
    const allowed = tool.allow?.length ?? offered?.length;
    toolCount = toolCount === undefined || allowed === undefined ? undefined : toolCount + allowed;
    const http = server.spec.stdio === undefined ? (server.spec.http ?? server.spec.sse) : undefined;
    if (server.spec.stdio !== undefined) {
      // The bridge's token, which the operator makes: the workers send it as Authorization.
      const reference = bridgeAuthorizationReference(tool.mcpServer);
      const problem = secretProblem(
        cluster,
        namespace,
        reference,
        `the bridge token of MCPServer ${tool.mcpServer}, made by the operator`,
      );
      if (problem === undefined) secrets.push(reference);
      else problems.push(problem);
    }
    for (const header of http?.headers ?? []) {
      if (header.secretKeyRef === undefined) continue;
      const problem = secretProblem(
        cluster,
        namespace,
        header.secretKeyRef,
        `header ${header.name} of MCPServer ${tool.mcpServer}`,
      );
      if (problem === undefined) secrets.push(header.secretKeyRef);
      else problems.push(problem);
    }
  }
  const cycle = agentToolCycle(agent.metadata.name, (name) =>
    name === agent.metadata.name
      ? agentToolsOf(agent)
      : (() => {
          const other = cluster.agent(namespace, name);
          return other === undefined ? undefined : agentToolsOf(other);
        })(),
  );
  if (cycle !== undefined) {
    problems.push({
      reason: "AgentToolCycle",
      message: `agents used as tools form a cycle: ${cycle.join(" -> ")}; remove one of them from the spec.tools of the agent before it`,
    });
  }
  return { servers, peers, problems, secrets, toolCount };
}

/** The agents an agent calls as tools. */
function agentToolsOf(agent: Agent): string[] {
  return (agent.spec.tools ?? []).flatMap((tool) => (tool.agent === undefined ? [] : [tool.agent]));
}

function resolveHandoffs(
  agent: Agent,
  namespace: string,
  cluster: ClusterView,
): { queues: HumanQueue[]; peers: string[]; problems: Problem[] } {
  const queues: HumanQueue[] = [];
  const peers: string[] = [];
  const problems: Problem[] = [];
  for (const handoff of agent.spec.handoffs ?? []) {
    if (handoff.agent !== undefined) {
      if (cluster.agent(namespace, handoff.agent) === undefined) {
        problems.push({
          reason: "AgentNotFound",
          message: `Agent ${handoff.agent} (a handoff target) not found in namespace ${namespace}`,
        });
      } else {
        peers.push(handoff.agent);
      }
    }
    if (handoff.humanQueue !== undefined) {
      const queue = cluster.humanQueue(namespace, handoff.humanQueue);
      if (queue === undefined) {
        problems.push({
          reason: "HumanQueueNotFound",
          message: `HumanQueue ${handoff.humanQueue} not found in namespace ${namespace}; apply it or remove it from spec.handoffs`,
        });
      } else {
        queues.push(queue);
      }
    }
  }
  return { queues, peers, problems };
}

function describeList(items: readonly string[], none: string): string {
  return items.length === 0 ? none : items.join(", ");
}

function uniqueReferences(references: readonly SecretKeySelector[]): SecretKeySelector[] {
  const byKey = new Map(references.map((reference) => [`${reference.name}/${reference.key}`, reference]));
  return [...byKey.entries()].sort(([left], [right]) => left.localeCompare(right)).map(([, ref]) => ref);
}

/**
 * Resolves every reference of an Agent against the cluster.
 *
 * @example
 * ```ts
 * const resolution = resolveAgent(agent, cluster);
 * resolution.modelResolved; // { type: "ModelResolved", status: "False", reason: "ModelNotFound", message: "Model default not found ..." }
 * ```
 */
export function resolveAgent(agent: Agent, cluster: ClusterView): AgentResolution {
  const namespace = agent.metadata.namespace ?? "default";
  const models = resolveModels(agent, namespace, cluster);
  const tools = resolveTools(agent, namespace, cluster);
  const handoffs = resolveHandoffs(agent, namespace, cluster);
  const runtimeProblems = (agent.spec.runtime.env ?? []).flatMap((variable) => {
    if (variable.secretKeyRef === undefined) return [];
    const problem = secretProblem(
      cluster,
      namespace,
      variable.secretKeyRef,
      `environment variable ${variable.name} in spec.runtime.env`,
    );
    return problem === undefined ? [] : [problem];
  });
  const [model] = models.models;
  const modelResolved = conditionOf(
    "ModelResolved",
    models.problems,
    model === undefined
      ? ""
      : `Model ${model.metadata.name} (${model.spec.provider} ${model.spec.model})` +
          (models.models.length > 1
            ? `, falls back to ${models.models
                .slice(1)
                .map((fallback) => fallback.metadata.name)
                .join(", ")}`
            : ""),
  );
  const toolsResolved = conditionOf(
    "ToolsResolved",
    tools.problems,
    describeList(
      [
        ...tools.servers.map((server) => `MCPServer ${server.metadata.name}`),
        ...tools.peers.map((peer) => `agent ${peer}`),
      ],
      "no tools",
    ),
  );
  const handoffsResolved = conditionOf(
    "HandoffsResolved",
    handoffs.problems,
    describeList(
      [
        ...handoffs.peers.map((peer) => `agent ${peer}`),
        ...handoffs.queues.map((queue) => `HumanQueue ${queue.metadata.name}`),
      ],
      "no handoffs",
    ),
  );
  const peerNames = [...new Set([...tools.peers, ...handoffs.peers])].sort();
  const handoffCount = (agent.spec.handoffs ?? []).length;
  return {
    modelResolved,
    toolsResolved,
    handoffsResolved,
    runtimeProblems,
    models: models.models,
    mcpServers: tools.servers,
    humanQueues: handoffs.queues,
    peers: peerNames.map((name) => {
      const description = cluster.agent(namespace, name)?.spec.description;
      return description === undefined ? { name } : { name, description };
    }),
    secretReferences: uniqueReferences([...models.secrets, ...tools.secrets]),
    modelName: model === undefined ? undefined : `${model.spec.provider}/${model.spec.model}`,
    toolCount: tools.toolCount === undefined ? undefined : tools.toolCount + handoffCount,
    resolved:
      models.problems.length === 0 &&
      tools.problems.length === 0 &&
      handoffs.problems.length === 0 &&
      runtimeProblems.length === 0,
  };
}
