/**
 * `@freehold/handoff`: durable work on BullMQ and Redis: agent queues, the run store with atomic
 * checkpoints, replayable event streams; tenants' Redis users and quotas.
 *
 * @module
 */
export { createAgentQueues, type AgentQueues, type EnqueueOptions } from "./agent-queues.ts";
export { AgentEntry, createAgentRegistry, type AgentRegistry } from "./agent-registry.ts";
export {
  agentQueueName,
  agentQueuePrefix,
  dispatchKeys,
  approvalsKeys,
  inboxEventsKey,
  inboxEventsKeys,
  inboxQueueKeys,
  shardOf,
  shardsPerNamespace,
  namespacePrefix,
  runBlobsKey,
  runEventsKey,
  runKey,
  runMessagesKey,
  runIndexKey,
  runIndexKeys,
  runPickupsKey,
  runStartedByKey,
} from "./keys.ts";
export {
  defaultMaxScanned,
  listRuns,
  runIndexGraceSeconds,
  type ListRunsOptions,
  type RunIndexPosition,
  type RunPage,
} from "./run-index.ts";
export {
  connectRedis,
  duplicateClient,
  batchWrites,
  defaultMaxBatchedCommands,
  everyNode,
  isClusterUrl,
  isSentinelUrl,
  parseSentinelUrl,
  parseClusterUrl,
  type BatchWritesOptions,
  type RedisClient,
  type RedisClusterUrl,
  type RedisSentinelUrl,
} from "./redis-client.ts";
export {
  startRedisCluster,
  type RedisCluster,
  type RedisClusterNode,
  type RedisClusterOptions,
  type RedisClusterUser,
} from "./redis-cluster.ts";
export { freePort, startRedisServer, type RedisServer, type RedisServerOptions } from "./redis-server.ts";
export {
  compareStreamIds,
  createEventFanout,
  followerDroppedCode,
  type EventFanout,
  type EventFanoutOptions,
  type FanoutFollowOptions,
  type InboxFollowOptions,
} from "./event-fanout.ts";
export { blobThreshold } from "./run-blobs.ts";
export { startRedisSentinel, type RedisSentinel, type RedisSentinelOptions } from "./redis-sentinel.ts";
export { humanQueueCounts, sortedAcrossShards, type HumanQueueCounts } from "./shard-reads.ts";
export {
  createRunStore,
  decodeEvents,
  newRunEffects,
  runKeys,
  defaultMaxEventsPerRun,
  defaultRunRetentionSeconds,
  parseRetentionSeconds,
  type FollowOptions,
  type RunStore,
  type RunPickup,
  type RunStoreOptions,
  type StoredEvent,
} from "./run-store.ts";
export {
  announceCancel,
  cancelChannel,
  cancelNoticeMemoryMs,
  maxCancelNotices,
  watchCancels,
  type CancelWatch,
} from "./cancel-notices.ts";
export { cancelRun, newRun, startRun, type NewRun, type StartRunRequest } from "./runs.ts";
export {
  applyToolResult,
  finish,
  maxInvalidTurns,
  settle,
  type ToolOutcome,
  type Transition,
} from "./run-transitions.ts";
export { effectsLua, type RedisEffect, type RedisPrecondition } from "./redis-effects.ts";
export { approvalItemKey, approvalsKey, dispatchKey, inboxItemKey, inboxQueueKey } from "./keys.ts";
export { approvalItemEffects, createApprovals, type Approvals } from "./approvals.ts";
export { clearMarksEffect, createDispatcher, type Dispatcher } from "./dispatcher.ts";
export { createInbox, inboxItemEffects, type Inbox } from "./inbox.ts";
export { inboxPage, type InboxPage, type InboxPosition } from "./inbox-page.ts";
export {
  decodeInboxCursor,
  encodeInboxCursor,
  inboxEventEffect,
  maxInboxEvents,
  type InboxChange,
  type InboxCursor,
} from "./inbox-events.ts";
export { compareAndWrite, evalScript } from "./redis-effects.ts";
export { limitsKey, runsUsageKey, tenancyKey, tokensUsageKey, usagePrefix } from "./keys.ts";
export {
  applyTenantUser,
  readTenantUsage,
  releaseNamespaces,
  removeTenancy,
  removeTenantUser,
  tenantAclRules,
  tenantCommands,
  tenantUserName,
  writeTenancy,
  type TenantLimits,
  type TenantScope,
  type TenantUsage,
} from "./tenancy.ts";
export {
  createQuotas,
  runsExceededCode,
  type Quotas,
  type QuotasOptions,
  type TokenUsage,
} from "./quotas.ts";
export {
  isOutOfMemoryReply,
  storeFullCode,
  storeFullError,
  storeFullRetryAfterSeconds,
  withStoreErrors,
} from "./store-errors.ts";
