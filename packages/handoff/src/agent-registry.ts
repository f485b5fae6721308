/**
 * Which agents a namespace has: workers register the agents they serve, so callers (CLI, gateway)
 * can refuse a run for an unknown agent at once, naming the agents that exist, instead of queuing
 * work that no worker will ever take.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import type { RedisClient } from "./redis-client.ts";
import { z } from "zod";
import { namespacePrefix } from "./keys.ts";

/** What is known of an agent. */
export const AgentEntry = z.object({
  name: z.string(),
  description: z.string().optional(),
  /** `spec.a2a.enabled`: the gateway serves the agent's A2A card and JSON-RPC only when true. */
  a2a: z.boolean().default(false),
  registeredAt: z.iso.datetime(),
});
export type AgentEntry = z.infer<typeof AgentEntry>;

export interface AgentRegistry {
  register(
    namespace: string,
    agent: {
      readonly name: string;
      readonly description?: string | undefined;
      /** Whether the agent is exposed over A2A (`spec.a2a.enabled`); default false. */
      readonly a2a?: boolean | undefined;
    },
  ): Promise<void>;
  /** Forgets an agent (it was deleted): new runs for it are refused. */
  unregister(namespace: string, name: string): Promise<void>;
  list(namespace: string): Promise<AgentEntry[]>;
  /** The agent, or an `agent.not-found` error naming the agents of the namespace. */
  require(namespace: string, name: string): Promise<AgentEntry>;
}

function registryKey(namespace: string): string {
  return `${namespacePrefix(namespace)}:agents`;
}

/**
 * @example
 * ```ts
 * const registry = createAgentRegistry(redis);
 * await registry.require("acme", "billing"); // throws agent.not-found with the list of agents
 * ```
 */
export function createAgentRegistry(redis: RedisClient): AgentRegistry {
  const registry: AgentRegistry = {
    async register(namespace, agent) {
      const entry: AgentEntry = {
        name: agent.name,
        ...(agent.description === undefined ? {} : { description: agent.description }),
        a2a: agent.a2a === true,
        registeredAt: new Date().toISOString(),
      };
      await redis.hset(registryKey(namespace), agent.name, JSON.stringify(entry));
    },
    async unregister(namespace, name) {
      await redis.hdel(registryKey(namespace), name);
    },
    async list(namespace) {
      const entries = await redis.hvals(registryKey(namespace));
      return entries
        .map((text) => AgentEntry.parse(JSON.parse(text)))
        .sort((left, right) => left.name.localeCompare(right.name));
    },
    async require(namespace, name) {
      const text = await redis.hget(registryKey(namespace), name);
      if (text !== null) return AgentEntry.parse(JSON.parse(text));
      const known = (await registry.list(namespace)).map((entry) => entry.name);
      throw new FreeholdError(
        "agent.not-found",
        `agent ${name} not found in namespace ${namespace}` +
          (known.length === 0 ? "; no agent is running there" : `; agents: ${known.join(", ")}`),
        { details: { namespace, agent: name, agents: known } },
      );
    },
  };
  return registry;
}
