/**
 * Redis URLs as the operator handles them: a worker URL with a tenant's user and password put in,
 * where a URL points (for network policies), and any URL's credentials hidden before a line is logged
 * (`@freehold/api`'s `redactUrls`).
 *
 * @module
 */

/** A Redis credential: the URL workers read and its parts. */
export interface RedisCredential {
  /** `redis://<user>:<password>@host:port[/db]`. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
}

/**
 * The credential of `username`/`password` at the Redis a base URL points to (its scheme, host,
 * port and database are kept; its own user and password are replaced).
 *
 * @example
 * ```ts
 * redisCredential("redis://redis.freehold-system.svc:6379", "freehold-tenant-acme", "s3cret").url;
 * // "redis://freehold-tenant-acme:s3cret@redis.freehold-system.svc:6379"
 * ```
 */
export function redisCredential(base: string, username: string, password: string): RedisCredential {
  const url = new URL(base);
  url.username = encodeURIComponent(username);
  url.password = encodeURIComponent(password);
  return { url: url.toString(), username, password };
}

/**
 * The credential a URL carries as it is: the user (`default` when none) and password (empty when
 * none), for single-tenant namespaces.
 *
 * @example
 * ```ts
 * credentialOfUrl("redis://:admin@127.0.0.1:6379"); // { url: "redis://:admin@127.0.0.1:6379", username: "default", password: "admin" }
 * ```
 */
export function credentialOfUrl(url: string): RedisCredential {
  const parsed = new URL(url);
  return {
    url,
    username: parsed.username === "" ? "default" : decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
}

/** Where a Redis URL points: its host (brackets removed from IPv6) and port (6379 by default). */
export function redisEndpoint(url: string): { readonly host: string; readonly port: number } {
  const parsed = new URL(url);
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port === "" ? 6379 : Number(parsed.port),
  };
}

/**
 * A text with the `user:password@` of every URL in it replaced by `***@`: what the operator logs.
 * The one redaction of Freehold (`@freehold/api`), re-exported where the operator's Redis URLs are.
 */
export { redactUrls } from "@freehold/api";
