/**
 * A tenant's `quotas.agents`: which Agents are past it. The oldest Agents (by creationTimestamp,
 * then namespace and name) fit; the rest wait, with no workers, until room frees up.
 *
 * @module
 */

/** An Agent as the quota sees it. */
export interface QuotaAgent {
  readonly namespace: string;
  readonly name: string;
  readonly creationTimestamp?: string | undefined;
}

/** Where an Agent stands against its tenant's quota. */
export interface AgentQuotaStanding {
  readonly exceeded: boolean;
  /** 1 for the oldest. */
  readonly position: number;
  readonly count: number;
}

function compare(left: QuotaAgent, right: QuotaAgent): number {
  const leftTime = left.creationTimestamp ?? "\uffff";
  const rightTime = right.creationTimestamp ?? "\uffff";
  if (leftTime !== rightTime) return leftTime < rightTime ? -1 : 1;
  if (left.namespace !== right.namespace) return left.namespace < right.namespace ? -1 : 1;
  return left.name < right.name ? -1 : left.name > right.name ? 1 : 0;
}

/**
 * A tenant's Agents in quota order: oldest first, then by namespace and name.
 *
 * @example
 * ```ts
 * quotaOrder(agents).slice(limit); // the Agents past the quota
 * ```
 */
export function quotaOrder<T extends QuotaAgent>(agents: readonly T[]): T[] {
  return [...agents].sort(compare);
}

/**
 * Where one Agent stands among its tenant's Agents under a limit.
 *
 * @example
 * ```ts
 * agentQuotaStanding(agents, { namespace: "acme", name: "third" }, 2); // { exceeded: true, position: 3, count: 3 }
 * ```
 */
export function agentQuotaStanding(
  agents: readonly QuotaAgent[],
  agent: { readonly namespace: string; readonly name: string },
  limit: number,
): AgentQuotaStanding {
  const sorted = quotaOrder(agents);
  const index = sorted.findIndex(
    (candidate) => candidate.namespace === agent.namespace && candidate.name === agent.name,
  );
  const position = index === -1 ? sorted.length + 1 : index + 1;
  return { exceeded: position > limit, position, count: sorted.length };
}
