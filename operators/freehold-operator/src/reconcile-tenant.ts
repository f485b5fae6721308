/**
 * The Tenant reconciler: reads the Tenant and its namespaces, makes the missing namespaces, applies
 * what {@link translateTenant} says each owned namespace holds (the operator's RoleBinding first),
 * deletes what it no longer needs, sets up the tenant's Redis user, tenancy keys and credential
 * copies ({@link reconcileTenantRedis}), and writes status with the usage, read again every
 * `usageIntervalMs`. Objects are applied when the desired set or the cached objects changed.
 * Deleting a Tenant (finalizer `freehold.dev/tenant-cleanup`) deletes its namespaces with
 * `deletionPolicy: Delete`, keeps them with `Retain`, and either way removes its Redis user, tenancy
 * keys and canonical credential.
 *
 * @module
 */
import { isFreeholdError, type Tenant } from "@freehold/api";
import type { RedisClient } from "@freehold/handoff";
import { canonicalJson, shortHash } from "./canonical-json.ts";
import { parseStored } from "./cluster-view.ts";
import { falseCondition, type ConditionDraft } from "./conditions.ts";
import type { KubernetesObject, Namespace } from "./kubernetes-objects.ts";
import { labelKeys, redisSecretName, tenantCredentialSecretName, tenantFinalizer } from "./names.ts";
import type { Reconcile, ReconcileParts } from "./reconcile-parts.ts";
import { resourceTypes } from "./resource-types.ts";
import { updateStatus, type ObjectWithStatus } from "./status-update.ts";
import { reconcileTenantRedis, removeTenantFromRedis, type TenantRedisOutcome } from "./tenant-redis.ts";
import { namespaceState, type NamespaceState, type TenantView } from "./tenant-view.ts";
import { tenantReadyCondition, translateTenant, type TenantTranslation } from "./translate-tenant.ts";

/** Options of {@link createTenantReconciler}. */
export interface TenantReconcilerOptions {
  /** The operator's namespace: the canonical credentials, and the gateway's, operator's and Redis' pods. */
  readonly operatorNamespace: string;
  /** The operator's ServiceAccount, bound to `freehold-workload-manager` in each tenant namespace. */
  readonly operatorServiceAccount: string;
  /** How often the usage is read again. Default: 30 s. */
  readonly usageIntervalMs?: number;
  /** Bumped when Redis (re)connects and on resync, so Redis users and keys are written again. */
  readonly redisEpoch?: () => number;
}

async function setFinalizers(
  parts: ReconcileParts,
  tenant: ObjectWithStatus,
  finalizers: string[],
): Promise<void> {
  await parts.client.apply({
    apiVersion: tenant.apiVersion,
    kind: tenant.kind,
    metadata: { name: tenant.metadata.name, finalizers },
  });
}

/** The namespaces a tenant lists as they exist: labelled ones from the cache, the others asked for. */
async function tenantView(parts: ReconcileParts, tenant: Tenant): Promise<TenantView> {
  const states = new Map<string, NamespaceState | undefined>();
  await Promise.all(
    tenant.spec.namespaces.map(async (name) => {
      const object =
        parts.cache.namespaces.get("", name) ??
        (await parts.client.get<Namespace>(resourceTypes.namespaces, "", name));
      states.set(name, object === undefined ? undefined : namespaceState(object));
    }),
  );
  return {
    namespace: (name) => states.get(name),
    models: (namespace) => parts.cache.view.models(namespace),
    mcpServers: (namespace) => parts.cache.view.mcpServers(namespace),
  };
}

/** Makes the new namespaces; false when one appeared meanwhile (then nothing is applied this time). */
async function createNamespaces(parts: ReconcileParts, translation: TenantTranslation): Promise<boolean> {
  const made = await Promise.all(
    translation.newNamespaces.map(async (namespace) => {
      try {
        await parts.client.create(namespace);
        parts.log(
          `namespace ${namespace.metadata.name}: made for tenant ${namespace.metadata.labels?.[labelKeys.tenant] ?? ""}`,
        );
        return true;
      } catch (error) {
        // Made by someone else meanwhile: the next reconcile sees whose it is.
        if (isFreeholdError(error, "kubernetes.conflict")) return false;
        throw error;
      }
    }),
  );
  return made.every(Boolean);
}

function cachedVersion(parts: ReconcileParts, object: KubernetesObject): string {
  const cache = parts.cache.tenantOwned.find((candidate) => candidate.resource.kind === object.kind);
  return cache?.get(object.metadata.namespace ?? "", object.metadata.name)?.metadata.resourceVersion ?? "";
}

/** Applies each namespace's objects (its operator RoleBinding first) unless nothing changed since the last time. */
async function applyTenantObjects(
  parts: ReconcileParts,
  name: string,
  translation: TenantTranslation,
  applied: Map<string, string>,
): Promise<void> {
  const desired = translation.namespaceObjects.flatMap((group) => [group.operatorBinding, ...group.objects]);
  const text = canonicalJson(desired);
  if (applied.get(name) === shortHash([text, ...desired.map((object) => cachedVersion(parts, object))]))
    return;
  const results = await Promise.all(
    translation.namespaceObjects.map(async (group) => {
      const binding = await parts.client.apply(group.operatorBinding);
      return [binding, ...(await Promise.all(group.objects.map((object) => parts.client.apply(object))))];
    }),
  );
  applied.set(
    name,
    shortHash([text, ...results.flat().map((object) => object.metadata.resourceVersion ?? "")]),
  );
}

/** Deletes what the operator made for the tenant in its namespaces and no longer wants (a policy turned off). */
async function pruneTenantObjects(
  parts: ReconcileParts,
  name: string,
  translation: TenantTranslation,
): Promise<void> {
  const wanted = new Set(
    translation.namespaceObjects.flatMap((group) =>
      [group.operatorBinding, ...group.objects].map(
        (object) => `${object.kind}/${object.metadata.namespace ?? ""}/${object.metadata.name}`,
      ),
    ),
  );
  const stale = parts.cache.tenantOwned.flatMap((cache) =>
    translation.namespaces.flatMap((namespace) =>
      cache
        .list(namespace)
        .filter(
          (object) =>
            object.metadata.labels?.[labelKeys.tenant] === name &&
            !wanted.has(`${cache.resource.kind}/${namespace}/${object.metadata.name}`),
        )
        .map((object) => ({ resource: cache.resource, namespace, name: object.metadata.name })),
    ),
  );
  await Promise.all(stale.map((item) => parts.client.delete(item.resource, item.namespace, item.name)));
}

/**
 * @example
 * ```ts
 * const reconcile = createTenantReconciler(parts, { operatorNamespace: "freehold-system", operatorServiceAccount: "freehold-operator" });
 * await reconcile("acme");
 * ```
 */
export function createTenantReconciler(parts: ReconcileParts, options: TenantReconcilerOptions): Reconcile {
  const usageIntervalMs = options.usageIntervalMs ?? 30_000;
  const applied = new Map<string, string>();
  const written = new Map<string, string>();
  const epoch = options.redisEpoch ?? (() => 0);
  const translateOptions = {
    operatorNamespace: options.operatorNamespace,
    operatorServiceAccount: options.operatorServiceAccount,
    ...(parts.translate.workerRedisUrl === undefined
      ? {}
      : { workerRedisUrl: parts.translate.workerRedisUrl }),
    ...(parts.translate.workerHealthPort === undefined ||
    (parts.translate.metricsScrapeNamespaces ?? []).length === 0
      ? {}
      : {
          metricsScrapers: {
            namespaces: parts.translate.metricsScrapeNamespaces ?? [],
            port: parts.translate.workerHealthPort,
          },
        }),
  };
  const forget = (name: string): void => {
    applied.delete(name);
    written.delete(`user/${name}`);
    written.delete(`tenancy/${name}`);
  };

  const finalize = async (stored: ObjectWithStatus): Promise<void> => {
    if (!(stored.metadata.finalizers ?? []).includes(tenantFinalizer)) return;
    const name = stored.metadata.name;
    const tenant = parseStored("Tenant", stored);
    const listed = [
      ...new Set([
        ...(tenant?.spec.namespaces ?? []),
        ...((stored.status?.namespaces as string[] | undefined) ?? []),
      ]),
    ];
    const owned = listed.filter(
      (namespace) => parts.cache.namespaces.get("", namespace)?.metadata.labels?.[labelKeys.tenant] === name,
    );
    if (tenant?.spec.deletionPolicy === "Delete") {
      await Promise.all(
        owned.map((namespace) => parts.client.delete(resourceTypes.namespaces, "", namespace)),
      );
    } else {
      // Retain: the namespaces and what is in them stay; the credential copies are dead and go.
      await Promise.all(
        owned.map((namespace) => parts.client.delete(resourceTypes.secrets, namespace, redisSecretName)),
      );
    }
    if (parts.redis !== undefined) await removeTenantFromRedis(parts.redis, name, listed);
    await parts.client.delete(
      resourceTypes.secrets,
      options.operatorNamespace,
      tenantCredentialSecretName(name),
    );
    await setFinalizers(parts, stored, []);
    forget(name);
    parts.log(
      `tenant ${name}: ${tenant?.spec.deletionPolicy === "Delete" ? `deleted namespaces ${owned.join(", ") || "(none)"}` : `kept namespaces ${owned.join(", ") || "(none)"}`}; Redis user and credential removed`,
    );
  };

  const redisSteps = async (
    redis: RedisClient | undefined,
    stored: ObjectWithStatus,
    tenant: Tenant,
    namespaces: readonly string[],
  ): Promise<TenantRedisOutcome> => {
    if (redis === undefined) {
      return {
        redisUserReady: falseCondition(
          "RedisUserReady",
          "NoRedis",
          "the operator has no Redis (FREEHOLD_REDIS_URL), so the tenant has no Redis user and its workers no credential",
        ),
      };
    }
    const workerRedisUrl = parts.translate.workerRedisUrl;
    if (workerRedisUrl === undefined) {
      return {
        redisUserReady: falseCondition(
          "RedisUserReady",
          "NoWorkerRedisUrl",
          "the operator does not know where workers reach Redis (FREEHOLD_WORKER_REDIS_URL)",
        ),
      };
    }
    return await reconcileTenantRedis(
      { parts, redis, operatorNamespace: options.operatorNamespace, epoch, written },
      stored,
      tenant,
      namespaces,
      workerRedisUrl,
    );
  };

  return async (name) => {
    const stored = parts.cache.tenants.get("", name);
    if (stored === undefined) {
      forget(name);
      return {};
    }
    if (stored.metadata.deletionTimestamp !== undefined) {
      await finalize(stored);
      return {};
    }
    const tenant = parseStored("Tenant", stored);
    if (tenant === undefined) {
      await updateStatus(
        parts,
        resourceTypes.tenants,
        stored,
        [
          falseCondition(
            "Ready",
            "InvalidSpec",
            "the spec does not match the Tenant schema; see freehold validate",
          ),
        ],
        {},
        parts.now(),
      );
      return {};
    }
    // The canonical credentials are read from the operator's namespace: wait until they are listed.
    if (parts.redis !== undefined && !parts.cache.secrets.syncedIn(options.operatorNamespace)) return {};
    if (!(stored.metadata.finalizers ?? []).includes(tenantFinalizer)) {
      await setFinalizers(parts, stored, [tenantFinalizer]);
    }
    const translation = translateTenant(tenant, await tenantView(parts, tenant), translateOptions);
    if (!(await createNamespaces(parts, translation))) return { requeueAfterMs: 1_000 };
    await applyTenantObjects(parts, name, translation, applied);
    await pruneTenantObjects(parts, name, translation);
    const redis = await redisSteps(parts.redis, stored, tenant, translation.namespaces);
    const agents = translation.namespaces.reduce(
      (count, namespace) =>
        count +
        parts.cache.agents.list(namespace).filter((agent) => agent.metadata.deletionTimestamp === undefined)
          .length,
      0,
    );
    const conditions: ConditionDraft[] = [
      translation.namespacesReady,
      redis.redisUserReady,
      tenantReadyCondition(translation.namespacesReady, redis.redisUserReady, translation.problems),
    ];
    const previousUsage = stored.status?.usage as
      { runsThisMinute?: number; tokensToday?: number } | undefined;
    await updateStatus(
      parts,
      resourceTypes.tenants,
      stored,
      conditions,
      {
        namespaces: translation.namespaces,
        redisUser: redis.redisUser,
        usage: {
          agents,
          runsThisMinute: redis.usage?.runsThisMinute ?? previousUsage?.runsThisMinute ?? 0,
          tokensToday: redis.usage?.tokensToday ?? previousUsage?.tokensToday ?? 0,
        },
      },
      parts.now(),
    );
    return { requeueAfterMs: usageIntervalMs };
  };
}
