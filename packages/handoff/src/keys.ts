/**
 * Redis key names. Every key of a namespace starts with `freehold:{namespace}:`, so a tenant's Redis
 * ACL user can be confined to `~freehold:{namespace}:*`. Tenancy lives beside them: which tenant a
 * namespace belongs to (`freehold-tenancy:{namespace}`), the tenant's limits
 * (`freehold-limits:{<tenant>}`) and its usage counters (`freehold-usage:{<tenant>}:*`).
 *
 * @module
 */

/** The prefix of every key of a namespace. */
export function namespacePrefix(namespace: string): string {
  return `freehold:${namespace}`;
}

/** The hash holding a run's state (`state`) and its revision (`revision`). */
export function runKey(namespace: string, runId: string): string {
  return `${namespacePrefix(namespace)}:run:${runId}`;
}

/** The stream of a run's events. */
export function runEventsKey(namespace: string, runId: string): string {
  return `${namespacePrefix(namespace)}:run:${runId}:events`;
}

/**
 * A run's conversation, one JSON message per list element, appended to by each checkpoint (rewritten
 * whole only when earlier messages change); the run hash's `messages` field says how many belong to
 * the stored revision.
 */
export function runMessagesKey(namespace: string, runId: string): string {
  return `${namespacePrefix(namespace)}:run:${runId}:messages`;
}

/** A run's large texts (a hash: SHA-256 → text), referenced from its state, messages and events. */
export function runBlobsKey(namespace: string, runId: string): string {
  return `${namespacePrefix(namespace)}:run:${runId}:blobs`;
}

/**
 * Who started a run (a string, written by the gateway for its access checks); it expires with the run.
 */
export function runStartedByKey(namespace: string, runId: string): string {
  return `${namespacePrefix(namespace)}:started-by:${runId}`;
}

/**
 * How often workers picked a run up without it making progress (a hash: `revision`, `count`): a
 * worker that dies on the run each time (a tool or model that crashes it) makes it fail.
 */
export function runPickupsKey(namespace: string, runId: string): string {
  return `${namespacePrefix(namespace)}:run:${runId}:pickups`;
}

/**
 * The BullMQ prefix of a namespace's agent queues; the queue's name is the agent's, so its keys are
 * `freehold:{namespace}:agent:{name}:...`.
 */
export function agentQueuePrefix(namespace: string): string {
  return `${namespacePrefix(namespace)}:agent`;
}

/**
 * The runs that need a worker to take them: queued runs not yet on a queue, and parents whose child
 * runs ended. A sorted set of run ids, scored by when they were marked.
 */
export function dispatchKey(namespace: string): string {
  return `${namespacePrefix(namespace)}:dispatch`;
}

/** An inbox item (JSON). */
export function inboxItemKey(namespace: string, itemId: string): string {
  return `${namespacePrefix(namespace)}:inbox:item:${itemId}`;
}

/** A human queue's waiting items (sorted by priority, then age) or claimed items (sorted by lease expiry). */
export function inboxQueueKey(namespace: string, queue: string, state: "waiting" | "claimed"): string {
  return `${namespacePrefix(namespace)}:inbox:${queue}:${state}`;
}

/** An approval item (JSON). */
export function approvalItemKey(namespace: string, itemId: string): string {
  return `${namespacePrefix(namespace)}:approval:${itemId}`;
}

/** The approval items of a namespace, sorted by age. */
export function approvalsKey(namespace: string): string {
  return `${namespacePrefix(namespace)}:approvals`;
}

/**
 * The tenant a namespace belongs to (a string key, written by the operator). Absent: the namespace
 * has no tenant and no quotas.
 */
export function tenancyKey(namespace: string): string {
  return `freehold-tenancy:${namespace}`;
}

/**
 * A tenant's limits (a hash: `runsPerMinute`, `tokensPerDay`; an absent field is no limit), written by
 * the operator. The `{tenant}` hash tag puts it on the slot of the tenant's usage counters, so one
 * quota script can read the one and count on the other in Redis Cluster.
 */
export function limitsKey(tenant: string): string {
  return `freehold-limits:{${tenant}}`;
}

/** The prefix of a tenant's usage counters, `freehold-usage:{tenant}`. */
export function usagePrefix(tenant: string): string {
  return `freehold-usage:{${tenant}}`;
}

/** The counter of runs a tenant started in the minute of `at` (Unix minutes). */
export function runsUsageKey(tenant: string, at: Date): string {
  return `${usagePrefix(tenant)}:runs:${Math.floor(at.getTime() / 60_000)}`;
}

/** The counter of model tokens a tenant used on the UTC day of `at` (`YYYY-MM-DD`). */
export function tokensUsageKey(tenant: string, at: Date): string {
  return `${usagePrefix(tenant)}:tokens:${at.toISOString().slice(0, 10)}`;
}
