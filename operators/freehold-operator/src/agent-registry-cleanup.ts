/**
 * Outside state of an Agent: runtime workers register the agents they serve in the namespace's
 * agent registry in Redis (the gateway and CLI refuse runs for agents not in it). When an Agent is
 * deleted, its entry must go, or callers keep queuing runs that no worker will take; that is why
 * Agents get a finalizer when the operator has Redis.
 *
 * @module
 */
import { createAgentRegistry } from "@freehold/handoff";
import type { RedisClient } from "@freehold/handoff";

/**
 * Removes an agent from its namespace's registry.
 *
 * @example
 * ```ts
 * await unregisterAgent(redis, "acme", "billing");
 * ```
 */
export async function unregisterAgent(redis: RedisClient, namespace: string, name: string): Promise<void> {
  await createAgentRegistry(redis).unregister(namespace, name);
}
