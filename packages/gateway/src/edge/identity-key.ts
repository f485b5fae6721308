/**
 * Who a request counts against, for rate limits and stream caps: the authenticated user (the
 * `identity` context variable the authentication middleware sets), else the remote address.
 *
 * @module
 */
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import type { Identity } from "../auth/identity.ts";

/**
 * `user:<name>` for an authenticated request, `address:<ip>` otherwise (`address:unknown` for a
 * request without a socket, e.g. `gateway.fetch`).
 *
 * @example
 * ```ts
 * const key = identityKey(context); // "user:ann"
 * ```
 */
export function identityKey(context: Context): string {
  const identity = (context.get as (key: string) => unknown)("identity") as Identity | undefined;
  if (identity !== undefined) return `user:${identity.user}`;
  try {
    return `address:${getConnInfo(context).remote.address ?? "unknown"}`;
  } catch {
    return "address:unknown";
  }
}
