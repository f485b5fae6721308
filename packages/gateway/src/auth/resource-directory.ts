/**
 * What authorization needs to know of a namespace's resources beyond RBAC: a HumanQueue's
 * `spec.members` (only they see and work its items) and an Agent's tool entries
 * (`allowSelfApproval`). From the manifests `freehold dev` serves, or read from the API server in a
 * cluster (remembered for a few seconds).
 *
 * @module
 */
import { AgentSpec, Condition, HumanQueueSpec, type AgentTool, type Subject } from "@freehold/api";
import { z } from "zod";
import type { KubernetesClient } from "./kubernetes-client.ts";

/** The HumanQueues' members and Agents' tools of the namespaces the gateway serves. */
export interface ResourceDirectory {
  /** The queue's `spec.members`; `undefined` when the queue sets none (or is unknown). */
  queueMembers(namespace: string, queue: string): Promise<readonly Subject[] | undefined>;
  /** The namespace's HumanQueues, by name (at most {@link maxListedQueues}). */
  humanQueues(namespace: string): Promise<readonly DirectoryQueue[]>;
  /** The agent's tool entries; `[]` when the agent is unknown. */
  agentTools(namespace: string, agent: string): Promise<readonly AgentTool[]>;
  /** What the directory knows of an agent: its model, tools, handoffs and (in a cluster) conditions. */
  agent(namespace: string, agent: string): Promise<DirectoryAgent | undefined>;
}

/** An Agent as the directory knows it. */
export interface DirectoryAgent {
  /** The Model it names. */
  readonly model?: string | undefined;
  /** The MCP servers and agents it calls as tools. */
  readonly tools: readonly string[];
  /** The agents and human queues it may hand to. */
  readonly handoffs: readonly string[];
  /** Its status conditions (Ready, …), when the operator wrote them. */
  readonly conditions?: readonly Condition[] | undefined;
}

const Described = z.object({
  spec: z
    .object({
      model: z.object({ ref: z.string() }).optional(),
      tools: z.array(z.object({ mcpServer: z.string().optional(), agent: z.string().optional() })).optional(),
      handoffs: z
        .array(z.object({ agent: z.string().optional(), humanQueue: z.string().optional() }))
        .optional(),
    })
    .optional(),
  status: z.object({ conditions: z.array(Condition).optional() }).optional(),
});

/** An Agent's manifest (spec, and status when there is one) as {@link DirectoryAgent}. */
function describeAgent(resource: unknown): DirectoryAgent | undefined {
  const parsed = Described.safeParse(resource);
  if (!parsed.success || parsed.data.spec === undefined) return undefined;
  const { spec, status } = parsed.data;
  return {
    model: spec.model?.ref,
    tools: (spec.tools ?? []).flatMap((tool) =>
      tool.mcpServer !== undefined
        ? [tool.mcpServer]
        : tool.agent !== undefined
          ? [`agent ${tool.agent}`]
          : [],
    ),
    handoffs: (spec.handoffs ?? []).flatMap((handoff) =>
      handoff.agent !== undefined
        ? [handoff.agent]
        : handoff.humanQueue !== undefined
          ? [`people ${handoff.humanQueue}`]
          : [],
    ),
    conditions: status?.conditions,
  };
}

/** A HumanQueue as the directory knows it. */
export interface DirectoryQueue {
  readonly name: string;
  readonly description?: string | undefined;
  /** Absent: the queue sets no members (anyone with the role works it). */
  readonly members?: readonly Subject[] | undefined;
  /** How soon its items must be claimed and resolved. */
  readonly sla?: HumanQueueSpec["sla"];
}

/** The most HumanQueues a namespace lists (one page of the API server's list). */
export const maxListedQueues = 500;

/** A resource as the directory takes it: a parsed manifest. */
export interface DirectoryResource {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string | undefined };
  readonly spec?: unknown;
}

/** A directory that can be told of resources (manifests; tests). */
export interface ManifestDirectory extends ResourceDirectory {
  /** Adds or replaces Agents and HumanQueues (other kinds are ignored). */
  add(resources: readonly DirectoryResource[], namespace?: string): void;
}

/**
 * The directory of a set of manifests.
 *
 * @example
 * ```ts
 * const directory = createManifestDirectory();
 * directory.add(resources, "acme");
 * await directory.queueMembers("acme", "billing-desk"); // [{ user: "ann" }]
 * ```
 */
export function createManifestDirectory(): ManifestDirectory {
  const queues = new Map<string, HumanQueueSpec>();
  const agents = new Map<string, AgentSpec>();
  const key = (namespace: string, name: string): string => `${namespace}/${name}`;
  return {
    add(resources, namespace) {
      for (const resource of resources) {
        const where = resource.metadata.namespace ?? namespace ?? "default";
        if (resource.kind === "HumanQueue")
          queues.set(key(where, resource.metadata.name), HumanQueueSpec.parse(resource.spec ?? {}));
        if (resource.kind === "Agent")
          agents.set(key(where, resource.metadata.name), AgentSpec.parse(resource.spec));
      }
    },
    queueMembers: (namespace, queue) => Promise.resolve(queues.get(key(namespace, queue))?.members),
    humanQueues: (namespace) =>
      Promise.resolve(
        [...queues]
          .filter(([where]) => where.startsWith(`${namespace}/`))
          .map(([where, spec]) => ({
            name: where.slice(namespace.length + 1),
            description: spec.description,
            members: spec.members,
            sla: spec.sla,
          }))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
          .slice(0, maxListedQueues),
      ),
    agentTools: (namespace, agent) => Promise.resolve(agents.get(key(namespace, agent))?.tools ?? []),
    agent: (namespace, agent) => {
      const spec = agents.get(key(namespace, agent));
      return Promise.resolve(spec === undefined ? undefined : describeAgent({ spec }));
    },
  };
}

const Members = z.object({ spec: z.object({ members: z.array(z.custom<Subject>()).optional() }).optional() });
const QueueList = z.object({
  items: z
    .array(
      z.object({
        metadata: z.object({ name: z.string() }),
        spec: z
          .object({
            description: z.string().optional(),
            members: z.array(z.custom<Subject>()).optional(),
            sla: z
              .object({ claimWithinSeconds: z.int(), resolveWithinSeconds: z.int().optional() })
              .optional(),
          })
          .optional(),
      }),
    )
    .optional(),
});
const Tools = z.object({ spec: z.object({ tools: z.array(z.custom<AgentTool>()).optional() }).optional() });

/**
 * The directory of a cluster: HumanQueues and Agents read with the gateway's ServiceAccount
 * (`get` on `humanqueues` and `agents`, `list` on `humanqueues`), each remembered for `cacheMs`.
 *
 * @example
 * ```ts
 * const directory = createKubernetesDirectory({ client });
 * ```
 */
export function createKubernetesDirectory(options: {
  readonly client: KubernetesClient;
  readonly cacheMs?: number;
}): ResourceDirectory {
  const cacheMs = options.cacheMs ?? 5000;
  const cache = new Map<string, { readonly value: unknown; readonly until: number }>();
  /** One resource, or (without `name`) one page of the namespace's list. */
  const read = async (namespace: string, plural: string, name: string | undefined): Promise<unknown> => {
    const path =
      `/apis/freehold.dev/v1alpha1/namespaces/${encodeURIComponent(namespace)}/${plural}` +
      (name === undefined ? `?limit=${maxListedQueues}` : `/${encodeURIComponent(name)}`);
    const cached = cache.get(path);
    if (cached !== undefined && cached.until > Date.now()) return cached.value;
    const value = (await options.client.call("GET", path)) ?? {};
    if (cache.size >= 10_000) cache.clear();
    cache.set(path, { value, until: Date.now() + cacheMs });
    return value;
  };
  return {
    async queueMembers(namespace, queue) {
      return Members.parse(await read(namespace, "humanqueues", queue)).spec?.members;
    },
    async humanQueues(namespace) {
      const list = QueueList.parse(await read(namespace, "humanqueues", undefined));
      return (list.items ?? [])
        .map((queue) => ({
          name: queue.metadata.name,
          description: queue.spec?.description,
          members: queue.spec?.members,
          sla: queue.spec?.sla,
        }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    async agentTools(namespace, agent) {
      return Tools.parse(await read(namespace, "agents", agent)).spec?.tools ?? [];
    },
    async agent(namespace, agent) {
      return describeAgent(await read(namespace, "agents", agent));
    },
  };
}
