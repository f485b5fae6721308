/**
 * A tenant's side of Redis, as the operator keeps it with the admin connection: the canonical
 * credential (Secret `freehold-tenant-<tenant>-redis` in the operator's namespace, made with a random
 * password when missing, so deleting it rotates the password), the ACL user confined to the tenant's
 * namespaces, the tenancy and limits keys, the `freehold-redis` copy in each namespace, and the usage
 * for status. ACL and tenancy writes happen when what they depend on changed, after Redis came back
 * (a new epoch) and on resync.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { isFreeholdError, type Tenant } from "@freehold/api";
import {
  applyTenantUser,
  parseRetentionSeconds,
  readTenantUsage,
  releaseNamespaces,
  removeTenancy,
  removeTenantUser,
  tenantUserName,
  writeTenancy,
  type TenantUsage,
} from "@freehold/handoff";
import type { RedisClient } from "@freehold/handoff";
import { digest } from "./canonical-json.ts";
import { falseCondition, trueCondition, type ConditionDraft } from "./conditions.ts";
import type { Secret } from "./kubernetes-objects.ts";
import { redisSecretName, tenantCredentialSecretName } from "./names.ts";
import type { ReconcileParts } from "./reconcile-parts.ts";
import { redisSecret, sameSecretData, secretText } from "./redis-secret.ts";
import { redactUrls, redisCredential } from "./redis-url.ts";
import { resourceTypes } from "./resource-types.ts";
import type { ObjectWithStatus } from "./status-update.ts";
import { tenantLabels } from "./translate-tenant.ts";

/** What the tenant's Redis steps need besides the reconcile parts. */
export interface TenantRedisContext {
  readonly parts: ReconcileParts;
  readonly redis: RedisClient;
  readonly operatorNamespace: string;
  /** Bumped when Redis (re)connects and on resync: ACL and tenancy writes happen again. */
  readonly epoch: () => number;
  /** What was last written per tenant (`user`, `tenancy`), to write only on change. */
  readonly written: Map<string, string>;
}

/** How the tenant's Redis steps ended. */
export interface TenantRedisOutcome {
  readonly redisUserReady: ConditionDraft;
  readonly redisUser?: string;
  readonly usage?: TenantUsage;
}

interface Credential {
  readonly password: string;
  /** True when the password was just made (first time, or the Secret was deleted: a rotation). */
  readonly made: boolean;
}

function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

async function tenantPassword(context: TenantRedisContext, tenant: string): Promise<Credential> {
  const { parts, operatorNamespace } = context;
  const name = tenantCredentialSecretName(tenant);
  const cached =
    parts.cache.secrets.get(operatorNamespace, name) ??
    (await parts.client.get<Secret>(resourceTypes.secrets, operatorNamespace, name));
  const existing = secretText(cached, "password");
  if (existing !== undefined && existing.length >= 16) return { password: existing, made: false };
  const password = randomBytes(32).toString("base64url");
  const secret: Secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: operatorNamespace, labels: tenantLabels(tenant) },
    type: "Opaque",
    data: { username: base64(tenantUserName(tenant)), password: base64(password) },
  };
  if (cached !== undefined) {
    await parts.client.apply(secret);
    return { password, made: true };
  }
  try {
    await parts.client.create(secret);
  } catch (error) {
    if (!isFreeholdError(error, "kubernetes.conflict")) throw error;
    // Made meanwhile (a cache behind the API server): use the one that is there.
    const current = secretText(
      await parts.client.get<Secret>(resourceTypes.secrets, operatorNamespace, name),
      "password",
    );
    if (current === undefined) throw error;
    return { password: current, made: false };
  }
  return { password, made: true };
}

function wasReady(stored: ObjectWithStatus): boolean {
  return (stored.status?.conditions ?? []).some(
    (condition) => condition.type === "RedisUserReady" && condition.status === "True",
  );
}

/**
 * Makes the tenant's Redis side match: credential, ACL user, tenancy and limits, the `freehold-redis`
 * copies; reads the usage. A Redis failure is reported in `RedisUserReady`, not thrown.
 *
 * @example
 * ```ts
 * const { redisUserReady, usage } = await reconcileTenantRedis(context, stored, tenant, ["acme"], workerRedisUrl);
 * ```
 */
export async function reconcileTenantRedis(
  context: TenantRedisContext,
  stored: ObjectWithStatus,
  tenant: Tenant,
  namespaces: readonly string[],
  workerRedisUrl: string,
): Promise<TenantRedisOutcome> {
  const { parts, redis } = context;
  const name = tenant.metadata.name;
  const user = tenantUserName(name);
  const credential = await tenantPassword(context, name);
  const owned = [...namespaces].sort();
  try {
    const userKey = `user/${name}`;
    const userPrint = [digest(credential.password), owned.join(","), context.epoch()].join("|");
    if (context.written.get(userKey) !== userPrint) {
      // Made before: by this process, or by another (its status said so).
      const madeBefore = context.written.has(userKey) || wasReady(stored);
      const { created } = await applyTenantUser(redis, {
        tenant: name,
        namespaces: owned,
        password: credential.password,
      });
      context.written.set(userKey, userPrint);
      if (created && madeBefore) {
        await parts.events.record(
          stored,
          "Warning",
          "RedisUserRecreated",
          `Redis user ${user} was missing (Redis restarted without its ACL file?); made it again with the tenant's password`,
        );
      } else if (credential.made && stored.status?.redisUser !== undefined) {
        await parts.events.record(
          stored,
          "Normal",
          "RedisPasswordRotated",
          `Secret ${tenantCredentialSecretName(name)} was missing: new password for Redis user ${user} (the old one is refused), freehold-redis rewritten in ${owned.join(", ") || "no namespace"}`,
        );
      }
    }
    const previous = (stored.status?.namespaces as readonly string[] | undefined) ?? [];
    const released = previous.filter((namespace) => !owned.includes(namespace));
    const quotas = tenant.spec.quotas ?? {};
    const tenancyKey = `tenancy/${name}`;
    const tenancyPrint = [
      owned.join(","),
      released.join(","),
      quotas.runsPerMinute,
      quotas.tokensPerDay,
      tenant.spec.runRetention,
      context.epoch(),
    ].join("|");
    if (context.written.get(tenancyKey) !== tenancyPrint) {
      if (released.length > 0) await releaseNamespaces(redis, { tenant: name, namespaces: released });
      await writeTenancy(redis, {
        tenant: name,
        namespaces: owned,
        limits: {
          runsPerMinute: quotas.runsPerMinute,
          tokensPerDay: quotas.tokensPerDay,
          runRetentionSeconds:
            tenant.spec.runRetention === undefined
              ? undefined
              : parseRetentionSeconds(tenant.spec.runRetention, `Tenant ${name} spec.runRetention`),
        },
      });
      context.written.set(tenancyKey, tenancyPrint);
    }
    const labels = tenantLabels(name);
    const copy = redisCredential(workerRedisUrl, user, credential.password);
    await Promise.all(
      owned.map(async (namespace) => {
        const desired = redisSecret(namespace, copy, labels);
        if (sameSecretData(parts.cache.secrets.get(namespace, redisSecretName), desired)) return;
        await parts.client.apply(desired);
      }),
    );
    await Promise.all(
      released.map((namespace) => parts.client.delete(resourceTypes.secrets, namespace, redisSecretName)),
    );
    const usage = await readTenantUsage(redis, name, parts.now());
    return {
      redisUserReady: trueCondition(
        "RedisUserReady",
        "UserApplied",
        `Redis user ${user} may use the keys of ${owned.length === 0 ? "no namespace" : owned.join(", ")}; its credential is the Secret ${redisSecretName} there`,
      ),
      redisUser: user,
      usage,
    };
  } catch (error) {
    const message = redactUrls(error instanceof Error ? error.message : String(error));
    const conflict = isFreeholdError(error, "tenancy.namespace-owned");
    const previousUser = stored.status?.redisUser;
    return {
      ...(typeof previousUser === "string" ? { redisUser: previousUser } : {}),
      redisUserReady: falseCondition(
        "RedisUserReady",
        conflict ? "NamespaceOwnedInRedis" : "RedisUnavailable",
        conflict ? message : `cannot set up Redis user ${user}: ${message}; retrying`,
      ),
    };
  }
}

/**
 * Removes a tenant from Redis: its ACL user (its connections close), its tenancy and limits keys.
 *
 * @example
 * ```ts
 * await removeTenantFromRedis(admin, "acme", ["acme", "acme-staging"]);
 * ```
 */
export async function removeTenantFromRedis(
  redis: RedisClient,
  tenant: string,
  namespaces: readonly string[],
): Promise<void> {
  await removeTenantUser(redis, tenant);
  await removeTenancy(redis, { tenant, namespaces });
}
