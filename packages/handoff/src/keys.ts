/**
 * Redis key names. Every key of a namespace starts with `freehold:{namespace}:`, so a tenant's Redis
 * ACL user can be confined to `~freehold:{namespace}:*`. Tenancy lives beside them: which tenant a
 * namespace belongs to (`freehold-tenancy:{namespace}`), the tenant's limits
 * (`freehold-limits:{<tenant>}`) and its usage counters (`freehold-usage:{<tenant>}:*`).
 *
 * Redis Cluster: a namespace's keys spread over {@link shardsPerNamespace} shards, each a hash tag
 * (`freehold:<ns>:{<ns>.<shard>}:...`), so one script's keys always share a slot while a namespace's
 * runs spread over many. A run's keys, its child runs' (delegation), its inbox and approval items and
 * the entries that index them (dispatch set, run index, human queues, approvals) are all in the shard
 * of the run that started it: a child run's id and an item's id are the run's id with
 * `-<step>-<index>` after it, and the shard is taken from the id without those suffixes. An agent's BullMQ queue is named
 * `{<ns>.<agent>}`, a hash tag of its own.
 *
 * @module
 */

/** The prefix of every key of a namespace. */
export function namespacePrefix(namespace: string): string {
  return `freehold:${namespace}`;
}

/** How many hash tags (Redis Cluster slots) one namespace's runs spread over. */
export const shardsPerNamespace = 16;

const suffix = /-\d+-\d+$/;

/**
 * The shard of a run, child run or item id: FNV-1a (32 bits) of the id without its trailing
 * `-<step>-<index>` parts (a child run and an item carry their run's id and these), modulo
 * {@link shardsPerNamespace}.
 */
export function shardOf(id: string): number {
  let root = id;
  while (suffix.test(root)) root = root.replace(suffix, "");
  let hash = 0x811c9dc5;
  for (let index = 0; index < root.length; index += 1) {
    hash ^= root.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shardsPerNamespace;
}

/** The prefix of one shard of a namespace: `freehold:<ns>:{<ns>.<shard>}`. */
function shardPrefix(namespace: string, shard: number): string {
  return `${namespacePrefix(namespace)}:{${namespace}.${shard}}`;
}

/** The shards of a namespace, for readers that go over all of them. */
function namespaceShards(): number[] {
  return Array.from({ length: shardsPerNamespace }, (_, shard) => shard);
}

function ofRun(namespace: string, id: string): string {
  return shardPrefix(namespace, shardOf(id));
}

/** The hash holding a run's state (`state`), its revision (`revision`) and its message count (`messages`). */
export function runKey(namespace: string, runId: string): string {
  return `${ofRun(namespace, runId)}:run:${runId}`;
}

/**
 * A run's own keys in the order a checkpoint declares them (`KEYS[1..6]`): its hash, events,
 * starter, pickups, messages and blobs, from one hash of its id.
 */
export function runOwnKeys(
  namespace: string,
  runId: string,
): [string, string, string, string, string, string] {
  const run = runKey(namespace, runId);
  return [run, `${run}:events`, `${run}:started-by`, `${run}:pickups`, `${run}:messages`, `${run}:blobs`];
}

/** The stream of a run's events. */
export function runEventsKey(namespace: string, runId: string): string {
  return `${runKey(namespace, runId)}:events`;
}

/**
 * A run's conversation, one JSON message per list element, appended to by each checkpoint (rewritten
 * whole only when earlier messages change); the run hash's `messages` field says how many belong to
 * the stored revision.
 */
export function runMessagesKey(namespace: string, runId: string): string {
  return `${runKey(namespace, runId)}:messages`;
}

/** A run's large texts (a hash: SHA-256 → text), referenced from its state, messages and events. */
export function runBlobsKey(namespace: string, runId: string): string {
  return `${runKey(namespace, runId)}:blobs`;
}

/**
 * Who started a run (a string, written by the gateway for its access checks); it expires with the run.
 */
export function runStartedByKey(namespace: string, runId: string): string {
  return `${runKey(namespace, runId)}:started-by`;
}

/**
 * How often workers picked a run up without it making progress (a hash: `progress`, `count`): a
 * worker that dies on the run each time (a tool or model that crashes it) makes it fail. Counted and
 * cleared by checkpoints (see RunPickup in run-store.ts) and by the worker.
 */
export function runPickupsKey(namespace: string, runId: string): string {
  return `${runKey(namespace, runId)}:pickups`;
}

/**
 * The BullMQ prefix of a namespace's agent queues; with the queue's name ({@link agentQueueName}),
 * its keys are `freehold:<ns>:agent:{<ns>.<agent>}:...`.
 */
export function agentQueuePrefix(namespace: string): string {
  return `${namespacePrefix(namespace)}:agent`;
}

/** The BullMQ queue name of an agent: a hash tag, so all of the queue's keys share a slot. */
export function agentQueueName(namespace: string, agent: string): string {
  return `{${namespace}.${agent}}`;
}

/**
 * The runs of a shard that need a worker to take them: queued runs not yet on a queue, and parents
 * whose child runs ended. A sorted set of run ids, scored by when they were marked, in the shard of
 * `runId`.
 */
export function dispatchKey(namespace: string, runId: string): string {
  return `${ofRun(namespace, runId)}:dispatch`;
}

/** The dispatch sets of every shard of a namespace. */
export function dispatchKeys(namespace: string): string[] {
  return namespaceShards().map((shard) => `${shardPrefix(namespace, shard)}:dispatch`);
}

/**
 * The runs of a shard, newest last: a sorted set of run ids scored by when each was created (ms), in
 * the shard of `runId`; written by the step that stores the run, read (newest first) to list a
 * namespace's runs. Entries of runs that expired are trimmed when a listing meets them and by age
 * when a run is created (see run-index.ts).
 */
export function runIndexKey(namespace: string, runId: string): string {
  return `${ofRun(namespace, runId)}:runs`;
}

/** The run indexes of every shard of a namespace. */
export function runIndexKeys(namespace: string): string[] {
  return namespaceShards().map((shard) => `${shardPrefix(namespace, shard)}:runs`);
}

/** An inbox item (JSON). */
export function inboxItemKey(namespace: string, itemId: string): string {
  return `${ofRun(namespace, itemId)}:inbox:item:${itemId}`;
}

/**
 * A human queue's waiting items (sorted by priority, then age) or claimed items (sorted by lease
 * expiry), in the shard of `itemId`.
 */
export function inboxQueueKey(
  namespace: string,
  queue: string,
  state: "waiting" | "claimed",
  itemId: string,
): string {
  return `${ofRun(namespace, itemId)}:inbox:${queue}:${state}`;
}

/** A human queue's waiting or claimed sets in every shard. */
export function inboxQueueKeys(namespace: string, queue: string, state: "waiting" | "claimed"): string[] {
  return namespaceShards().map((shard) => `${shardPrefix(namespace, shard)}:inbox:${queue}:${state}`);
}

/**
 * The feed of a human queue's changes in the shard of `itemId` (a stream of inbox events, see
 * inbox-events.ts). One stream per shard, not one per queue: the event is written by the script
 * that changes the item, and in Redis Cluster a script only reaches keys of one slot, the item's
 * shard. Every event of one item (and of both queues of an escalation) is in that shard, so an
 * item's events keep their order; a follower of the queue reads its {@link shardsPerNamespace}
 * streams.
 */
export function inboxEventsKey(namespace: string, queue: string, itemId: string): string {
  return `${ofRun(namespace, itemId)}:inbox:${queue}:events`;
}

/** A human queue's feed streams in every shard, by shard. */
export function inboxEventsKeys(namespace: string, queue: string): string[] {
  return namespaceShards().map((shard) => `${shardPrefix(namespace, shard)}:inbox:${queue}:events`);
}

/** An approval item (JSON). */
export function approvalItemKey(namespace: string, itemId: string): string {
  return `${ofRun(namespace, itemId)}:approval:${itemId}`;
}

/** The approval items of the shard of `itemId`, sorted by age. */
export function approvalsKey(namespace: string, itemId: string): string {
  return `${ofRun(namespace, itemId)}:approvals`;
}

/** The approval indexes of every shard of a namespace. */
export function approvalsKeys(namespace: string): string[] {
  return namespaceShards().map((shard) => `${shardPrefix(namespace, shard)}:approvals`);
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
