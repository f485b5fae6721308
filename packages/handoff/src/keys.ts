/**
 * Redis key names. Every key of a namespace starts with `freehold:{namespace}:`, so a tenant's Redis
 * ACL user can be confined to `~freehold:{namespace}:*`.
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
