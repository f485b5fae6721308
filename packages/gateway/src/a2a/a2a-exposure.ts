/**
 * Which agents and tasks a caller may reach over A2A: an agent only when its manifest sets
 * `spec.a2a.enabled` (the registry carries it), and a task only when its run started on the agent
 * in the URL. Everything else is "not found", with the same answer whether the agent or run
 * exists or not, so the A2A endpoints reveal nothing about agents that are not exposed.
 *
 * @module
 */
import { FreeholdError, isFreeholdError, type RunState } from "@freehold/api";
import type { AgentEntry } from "@freehold/handoff";
import type { GatewayParts } from "../gateway-parts.ts";

/** The code of an agent that does not exist or is not exposed over A2A (404). */
export const a2aAgentNotFoundCode = "a2a.agent-not-found";

/**
 * The registry entry of an agent exposed over A2A, or an `a2a.agent-not-found` error (404) that
 * says how to expose it.
 *
 * @example
 * ```ts
 * const entry = await requireExposedAgent(parts, "acme", "billing"); // 404 unless spec.a2a.enabled
 * ```
 */
export async function requireExposedAgent(
  parts: GatewayParts,
  namespace: string,
  agent: string,
): Promise<AgentEntry> {
  let entry: AgentEntry | undefined;
  try {
    entry = await parts.registry.require(namespace, agent);
  } catch (error) {
    if (!isFreeholdError(error) || error.code !== "agent.not-found") throw error;
  }
  if (entry?.a2a === true) return entry;
  throw agentNotExposedError(namespace, agent);
}

/** The 404 of an agent that does not exist, is not exposed, or is in a namespace the caller cannot read. */
export function agentNotExposedError(namespace: string, agent: string): FreeholdError {
  return new FreeholdError(
    a2aAgentNotFoundCode,
    `no agent ${agent} is exposed over A2A in namespace ${namespace}; an Agent is served over A2A ` +
      "only when its manifest sets spec.a2a.enabled: true",
    { details: { namespace, agent } },
  );
}

/**
 * The run of a task, if it started on `agent`; otherwise the A2A task-not-found error
 * (`run.not-found`, JSON-RPC -32001), the same as for a run that does not exist.
 *
 * @example
 * ```ts
 * const run = await requireAgentTask(parts, "acme", "billing", taskId); // another agent's run: -32001
 * ```
 */
export async function requireAgentTask(
  parts: GatewayParts,
  namespace: string,
  agent: string,
  taskId: string,
): Promise<RunState> {
  const run = await parts.store.get(namespace, taskId);
  if (run !== undefined) {
    // A run may be transferred to another agent on the way; its task belongs to the agent it
    // started on (the run-start event), whichever agent owns it now.
    const [first] = await parts.store.readEvents(namespace, taskId, { count: 1 });
    const startedOn = first?.event.type === "run-start" ? first.event.agent : run.agent;
    if (startedOn === agent) return run;
  }
  throw new FreeholdError("run.not-found", `task ${taskId} not found on agent ${agent}`, {
    details: { namespace, agent, taskId },
  });
}
