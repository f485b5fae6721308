/**
 * Tenants on a password-protected Redis, for the suites that use a tenant's own credential: a real
 * redis-server whose default user has {@link adminPassword}, a connection as that admin, tenants'
 * ACL users made by applyTenantUser (with their tenancy records when given limits), and what Redis's
 * ACL log says it refused to a user.
 */
import { Redis } from "ioredis";
import {
  applyTenantUser,
  startRedisServer,
  tenantUserName,
  writeTenancy,
  type RedisServer,
  type TenantLimits,
} from "../src/index.ts";

/** The password of the default (admin) user. */
export const adminPassword = "admin-password-0123456789";

/** The password these suites give a tenant's user. */
export const tenantPassword = (tenant: string): string => `${tenant}-password-0123456789abcdef`;

/** A tenant's ACL user. */
export interface TenantCredential {
  readonly user: string;
  readonly password: string;
  /** `redis://<user>:<password>@127.0.0.1:<port>`. */
  readonly url: string;
}

export interface TenantRedis {
  readonly server: RedisServer;
  /** Redis as the admin. */
  readonly admin: Redis;
  /**
   * Makes a tenant's user for its namespaces (password: {@link tenantPassword}) and, given limits,
   * writes its tenancy records.
   */
  addTenant(options: {
    readonly tenant: string;
    readonly namespaces: readonly string[];
    readonly limits?: TenantLimits;
  }): Promise<TenantCredential>;
  /** Commands Redis refused to `user`, from its ACL log (`reason object`). */
  refusedTo(user: string): Promise<string[]>;
  /** Disconnects the admin and stops the server. */
  stop(): Promise<void>;
}

/**
 * Starts the server and connects as the admin.
 *
 * @example
 * const redis = await startTenantRedis();
 * const acme = await redis.addTenant({ tenant: "acme", namespaces: ["acme"], limits: { runsPerMinute: 10 } });
 * const tenant = new Redis(acme.url, { maxRetriesPerRequest: null });
 * expect(await redis.refusedTo(acme.user)).toEqual([]);
 */
export async function startTenantRedis(
  options: {
    readonly extraArguments?: readonly string[];
    /** The admin connection's `maxRetriesPerRequest`; default: null (retry for ever). */
    readonly adminRetries?: number | null;
  } = {},
): Promise<TenantRedis> {
  const server = await startRedisServer({
    password: adminPassword,
    ...(options.extraArguments === undefined ? {} : { extraArguments: options.extraArguments }),
  });
  const admin = new Redis(server.url, { maxRetriesPerRequest: options.adminRetries ?? null });
  return {
    server,
    admin,
    async addTenant({ tenant, namespaces, limits }) {
      const password = tenantPassword(tenant);
      await applyTenantUser(admin, { tenant, namespaces, password });
      if (limits !== undefined) await writeTenancy(admin, { tenant, namespaces, limits });
      const user = tenantUserName(tenant);
      return { user, password, url: `redis://${user}:${password}@127.0.0.1:${server.port}` };
    },
    async refusedTo(user) {
      const entries = (await admin.call("ACL", "LOG", "128")) as unknown[][];
      return entries.flatMap((entry) => {
        const fields = new Map<string, unknown>();
        for (let index = 0; index + 1 < entry.length; index += 2)
          fields.set(String(entry[index]), entry[index + 1]);
        return fields.get("username") === user
          ? [`${String(fields.get("reason"))} ${String(fields.get("object"))}`]
          : [];
      });
    },
    async stop() {
      admin.disconnect();
      await server.stop();
    },
  };
}
