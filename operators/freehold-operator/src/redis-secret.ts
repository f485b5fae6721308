/**
 * The Secret `freehold-redis` of a served namespace (keys `url`, `username`, `password`): where
 * that namespace's workers reach Redis and as whom. A tenant's namespaces get the tenant's ACL
 * user; single-tenant namespaces get the operator's worker URL as it is.
 *
 * @module
 */
import type { Secret } from "./kubernetes-objects.ts";
import { redisSecretName } from "./names.ts";
import type { RedisCredential } from "./redis-url.ts";

function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

/**
 * The Secret holding a namespace's Redis credential.
 *
 * @example
 * ```ts
 * redisSecret("acme", redisCredential(workerUrl, "freehold-tenant-acme", password), tenantLabels("acme"));
 * ```
 */
export function redisSecret(
  namespace: string,
  credential: RedisCredential,
  labels: Readonly<Record<string, string>>,
): Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: redisSecretName, namespace, labels },
    type: "Opaque",
    data: {
      url: base64(credential.url),
      username: base64(credential.username),
      password: base64(credential.password),
    },
  };
}

/** True when a cached Secret already holds exactly the desired data (so nothing is written). */
export function sameSecretData(
  cached: { readonly data?: Readonly<Record<string, string>> } | undefined,
  desired: Secret,
): boolean {
  const have = cached?.data ?? {};
  const want = desired.data ?? {};
  const keys = new Set([...Object.keys(have), ...Object.keys(want)]);
  return cached !== undefined && [...keys].every((key) => have[key] === want[key]);
}

/** A Secret key's value as text, or undefined. */
export function secretText(
  secret: { readonly data?: Readonly<Record<string, string>> } | undefined,
  key: string,
): string | undefined {
  const value = secret?.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
}
