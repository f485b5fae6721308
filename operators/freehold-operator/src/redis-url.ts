/**
 * Redis URLs as the operator handles them: a worker URL with a tenant's user and password put in,
 * where a URL points (for network policies), and any URL's credentials hidden before a line is logged
 * (`@freehold/api`'s `redactUrls`). Each takes one Redis's URL (`redis://`, `rediss://`) or a Redis
 * Cluster's (`redis+cluster://host:port,host:port`, `rediss+cluster://`).
 *
 * @module
 */
import { isClusterUrl, parseClusterUrl } from "@freehold/handoff";

/** A Redis credential: the URL workers read and its parts. */
export interface RedisCredential {
  /** `redis://<user>:<password>@host:port[/db]`, or `redis+cluster://<user>:<password>@host:port,...`. */
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
  if (isClusterUrl(base)) {
    const { tls, nodes } = parseClusterUrl(base);
    const addresses = nodes.map((node) => `${node.host}:${node.port}`).join(",");
    return {
      url: `${tls ? "rediss" : "redis"}+cluster://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${addresses}`,
      username,
      password,
    };
  }
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
  if (isClusterUrl(url)) {
    const parsed = parseClusterUrl(url);
    return { url, username: parsed.username ?? "default", password: parsed.password ?? "" };
  }
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
 * Where a Redis URL points: its one endpoint, or each node a Redis Cluster URL names.
 *
 * @example
 * ```ts
 * redisEndpoints("redis+cluster://10.0.0.1:6379,10.0.0.2:6379"); // [{ host: "10.0.0.1", port: 6379 }, { host: "10.0.0.2", port: 6379 }]
 * ```
 */
export function redisEndpoints(url: string): readonly { readonly host: string; readonly port: number }[] {
  return isClusterUrl(url) ? parseClusterUrl(url).nodes : [redisEndpoint(url)];
}

/**
 * A text with the `user:password@` of every URL in it replaced by `***@`: what the operator logs.
 * The one redaction of Freehold (`@freehold/api`), re-exported where the operator's Redis URLs are.
 */
export { redactUrls } from "@freehold/api";
