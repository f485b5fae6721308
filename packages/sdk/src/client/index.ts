/**
 * `@freehold/sdk/client`: the typed client of the gateway, for Node and browsers (fetch only).
 *
 * @module
 */
export { createClient, type ClientOptions, type FreeholdClient, type ListRunsOptions } from "./client.ts";
export type { FollowOptions } from "./follow.ts";
/** What `followInbox` gives: the feed's events and their positions (from `@freehold/api`). */
export type { InboxEvent, StoredInboxEvent } from "@freehold/api";
