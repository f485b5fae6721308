/**
 * What every route handler works with: the Redis-backed parts of `@freehold/handoff` the gateway
 * builds once, its log, and a signal that ends long-lived streams when the gateway closes.
 *
 * @module
 */
import type {
  AgentQueues,
  AgentRegistry,
  Approvals,
  EventFanout,
  Inbox,
  Quotas,
  RunStore,
} from "@freehold/handoff";
import type { RedisClient } from "@freehold/handoff";
import type { Access } from "./auth/access.ts";

export interface GatewayParts {
  readonly redis: RedisClient;
  readonly store: RunStore;
  readonly queues: AgentQueues;
  readonly registry: AgentRegistry;
  readonly inbox: Inbox;
  readonly approvals: Approvals;
  /** The RBAC, queue-member and separation-of-duties checks of route handlers. */
  readonly access: Access;
  /** The tenants' quotas, checked where a run starts. */
  readonly quotas: Quotas;
  /** One line for the operator: requests that failed, streams that broke. */
  readonly log: (message: string) => void;
  /**
   * The URL callers reach the gateway at (for A2A agent cards): the configured one, else where it
   * listens; never the request's `Host`. Undefined before `listen` without a configured one.
   */
  readonly publicUrl: string | undefined;
  /** Followers of run event streams, over the gateway's one blocking reader. */
  readonly events: EventFanout;
  /** Longest a blocking A2A `message/send` waits before answering with the task as it is, in ms. */
  readonly a2aSendTimeoutMs: number;
  /** Aborted when the gateway closes; streams end on it. */
  readonly closing: AbortSignal;
  /** Milliseconds between SSE keep-alive comments. */
  readonly keepAliveMs: number;
}
