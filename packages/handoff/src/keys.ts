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
