/**
 * What every route handler works with: the Redis-backed parts of `@freehold/handoff` the gateway
 * builds once, its log, and a signal that ends long-lived streams when the gateway closes.
 *
 * @module
 */
import type { AgentQueues, AgentRegistry, Approvals, Inbox, Quotas, RunStore } from "@freehold/handoff";
import type { Redis } from "ioredis";
import type { Access } from "./auth/access.ts";

export interface GatewayParts {
  readonly redis: Redis;
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
  /** The URL callers reach the gateway at (for A2A agent cards); default: from the request. */
  readonly publicUrl: string | undefined;
  /** Aborted when the gateway closes; streams end on it. */
  readonly closing: AbortSignal;
  /** Milliseconds between SSE keep-alive comments. */
  readonly keepAliveMs: number;
}
