/**
 * The runtime's configuration: the resources a worker needs, resolved. The operator renders it into
 * an agent's ConfigMap; `freehold dev` builds it from a folder of manifests. Secrets are never in
 * it: a worker reads each Secret key from an environment variable named by {@link secretEnvName}.
 *
 * @module
 */
import { z } from "zod";
import { Agent } from "./agent.ts";
import { HumanQueue } from "./human-queue.ts";
import { McpServer } from "./mcp-server.ts";
import { Model } from "./model.ts";
import { DnsLabel, type SecretKeySelector } from "./names.ts";

export const RuntimeConfig = z.object({
  schemaVersion: z.literal(1),
  namespace: DnsLabel,
  /** The agents this worker serves (the operator: one; `freehold dev`: all of the folder). */
  agents: z.array(Agent.schema).min(1),
  /** Every agent of the namespace that a served agent may hand off to or call, for tool descriptions. */
  peers: z.array(z.object({ name: DnsLabel, description: z.string().optional() })).default([]),
  models: z.array(Model.schema),
  mcpServers: z.array(McpServer.schema),
  humanQueues: z.array(HumanQueue.schema).default([]),
});
export type RuntimeConfig = z.infer<typeof RuntimeConfig>;

/**
 * The environment variable that carries a Secret key's value into a worker:
 * `FREEHOLD_SECRET_<NAME>_<KEY>`, upper-cased, other characters as `_`.
 *
 * @example
 * ```ts
 * secretEnvName({ name: "openai", key: "api-key" }); // "FREEHOLD_SECRET_OPENAI_API_KEY"
 * ```
 */
export function secretEnvName(reference: SecretKeySelector): string {
  const part = (text: string): string => text.toUpperCase().replace(/[^A-Z0-9]/g, "_");
  return `FREEHOLD_SECRET_${part(reference.name)}_${part(reference.key)}`;
}
