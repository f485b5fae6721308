/**
 * A tenant's quotas, enforced in Redis wherever work starts: runs per minute (checked and counted in
 * one script, so concurrent starts never pass the limit together) and model tokens per UTC day
 * (counted after each model call). A namespace without a tenant (`freehold-tenancy:<ns>` absent) has
 * no quotas. Which tenant a namespace belongs to is read with one GET and remembered for a few
 * seconds, so a worker's steps cost one script each for a tenant's namespace and nothing otherwise:
 * the check before a model call (`tokensExhausted`) answers from this process's last look at the
 * tenant's tokens today (the count after a model call, or a check) while it is under a second old,
 * and asks Redis only when it is older. A tenant past `tokensPerDay` on other workers is seen here
 * within that second; the day's count itself is always exact.
 *
 * The limits hash is read inside the scripts but not declared in `KEYS`: Redis checks a script's
 * declared keys as read-write, and a tenant's user may only read its limits. It shares the counters'
 * `{<tenant>}` hash tag, so in Redis Cluster it lives on the script's slot.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import type { RedisClient } from "./redis-client.ts";
import { limitsKey, runsUsageKey, tenancyKey, tokensUsageKey } from "./keys.ts";
import { evalScript } from "./redis-effects.ts";
import { withStoreErrors } from "./store-errors.ts";

/**
 * The code of the error for a run refused by the tenant's `runsPerMinute`.
 *
 * @example
 * ```ts
 * if (isFreeholdError(error, runsExceededCode)) response.headers.set("retry-after", String(error.details?.retryAfterSeconds));
 * ```
 */
export const runsExceededCode = "quota.runs_exceeded";

/** Seconds a minute's run counter is kept (it is read during its minute only). */
const runsCounterSeconds = 120;
/** Seconds a day's token counter is kept. */
const tokensCounterSeconds = 2 * 24 * 60 * 60;

/** A tenant's tokens today after a model call. */
export interface TokenUsage {
  /** True when today's tokens reached or passed `tokensPerDay`. */
  readonly exceeded: boolean;
  readonly used: number;
  /** `tokensPerDay`; undefined: no limit (or no tenant). */
  readonly limit: number | undefined;
}

export interface Quotas {
  /**
   * Counts `count` runs (default 1) starting now in `namespace`'s tenant, or refuses them all with
   * `quota.runs_exceeded` (retryable; details `{tenant, limit, retryAfterSeconds}`) when they would
   * pass its `runsPerMinute`.
   */
  startRuns(namespace: string, count?: number): Promise<void>;
  /** Adds a model call's tokens to the tenant's day and says whether `tokensPerDay` is now reached. */
  addTokens(namespace: string, tokens: number): Promise<TokenUsage>;
  /**
   * True when the tenant's tokens today reached its `tokensPerDay`, as this process last saw them
   * (see {@link QuotasOptions.tokensCheckMs}).
   */
  tokensExhausted(namespace: string): Promise<boolean>;
}

// KEYS[1]: this minute's counter. ARGV: limits hash, runs to start, counter lifetime.
const startRunsScript = `
local limit = tonumber(redis.call('HGET', ARGV[1], 'runsPerMinute'))
local count = tonumber(ARGV[2])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if limit and used + count > limit then return {0, used, limit} end
used = redis.call('INCRBY', KEYS[1], count)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, used, limit or -1}
`;

// KEYS[1]: today's counter. ARGV: limits hash.
const tokensExhaustedScript = `
local limit = tonumber(redis.call('HGET', ARGV[1], 'tokensPerDay'))
if not limit then return 0 end
if tonumber(redis.call('GET', KEYS[1]) or '0') >= limit then return 1 end
return 0
`;

// KEYS[1]: today's counter. ARGV: limits hash, tokens, counter lifetime.
const addTokensScript = `
local used = redis.call('INCRBY', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
local limit = tonumber(redis.call('HGET', ARGV[1], 'tokensPerDay'))
return {used, limit or -1}
`;

/** Options of {@link createQuotas}. */
export interface QuotasOptions {
  /** The clock; tests pin it. */
  readonly now?: () => Date;
  /**
   * How long the tenant of a namespace is remembered, in ms (default 5000): a namespace given to a
   * tenant, or taken from one, is seen by this process within that time. 0: read it every time.
   */
  readonly tenancyCacheMs?: number;
  /**
   * How long a look at a tenant's tokens today (the count after a model call, or a check) answers
   * `tokensExhausted` without asking Redis, in ms (default 1000): a tenant past its `tokensPerDay`
   * through another process stops model calls here within that time. 0: ask every time.
   */
  readonly tokensCheckMs?: number;
}

/** At most this many tenants' looks are kept (each a few bytes; cleared past it). */
const maxTokenLooks = 1000;

/**
 * Quotas over one Redis connection (the gateway's admin connection, or a worker's tenant credential).
 *
 * @example
 * ```ts
 * const quotas = createQuotas(redis);
 * await quotas.startRuns("acme"); // throws quota.runs_exceeded past runsPerMinute
 * const { exceeded } = await quotas.addTokens("acme", 1_250);
 * ```
 */
export function createQuotas(redis: RedisClient, options: QuotasOptions = {}): Quotas {
  const now = options.now ?? (() => new Date());
  const cacheMs = options.tenancyCacheMs ?? 5000;
  const tenants = new Map<string, { readonly tenant: string | undefined; readonly until: number }>();
  const tenantOf = async (namespace: string): Promise<string | undefined> => {
    const known = tenants.get(namespace);
    if (known !== undefined && known.until > performance.now()) return known.tenant;
    const tenant = (await redis.get(tenancyKey(namespace))) ?? undefined;
    if (cacheMs > 0) tenants.set(namespace, { tenant, until: performance.now() + cacheMs });
    return tenant;
  };
  const checkMs = options.tokensCheckMs ?? 1000;
  /** The last look at each tenant's tokens today, by the day's counter key (a new day starts afresh). */
  const tokenLooks = new Map<string, { readonly exhausted: boolean; readonly until: number }>();
  const remember = (counter: string, exhausted: boolean): void => {
    if (checkMs <= 0) return;
    if (tokenLooks.size >= maxTokenLooks) tokenLooks.clear();
    tokenLooks.set(counter, { exhausted, until: performance.now() + checkMs });
  };

  return {
    async startRuns(namespace, count = 1) {
      const tenant = await tenantOf(namespace);
      if (tenant === undefined) return;
      const at = now();
      const [allowed, used, limit] = (await withStoreErrors(`failed to count a run of tenant ${tenant}`, () =>
        evalScript(
          redis,
          startRunsScript,
          1,
          runsUsageKey(tenant, at),
          limitsKey(tenant),
          count,
          runsCounterSeconds,
        ),
      )) as [number, number, number];
      if (allowed === 1) return;
      const retryAfterSeconds = Math.ceil((60_000 - (at.getTime() % 60_000)) / 1000);
      throw new FreeholdError(
        runsExceededCode,
        `tenant ${tenant} may start ${limit} runs per minute (spec.quotas.runsPerMinute) and started ${used} this minute; ` +
          `retry in ${retryAfterSeconds} s, or ask its admins to raise the quota`,
        { retryable: true, details: { tenant, namespace, limit, retryAfterSeconds } },
      );
    },

    async addTokens(namespace, tokens) {
      const tenant = await tenantOf(namespace);
      if (tenant === undefined) return { exceeded: false, used: 0, limit: undefined };
      const counter = tokensUsageKey(tenant, now());
      const [used, limit] = (await withStoreErrors(`failed to count the tokens of tenant ${tenant}`, () =>
        evalScript(
          redis,
          addTokensScript,
          1,
          counter,
          limitsKey(tenant),
          Math.max(0, Math.round(tokens)),
          tokensCounterSeconds,
        ),
      )) as [number, number];
      const usage: TokenUsage =
        limit < 0 ? { exceeded: false, used, limit: undefined } : { exceeded: used >= limit, used, limit };
      remember(counter, usage.exceeded);
      return usage;
    },

    async tokensExhausted(namespace) {
      const tenant = await tenantOf(namespace);
      if (tenant === undefined) return false;
      const counter = tokensUsageKey(tenant, now());
      const known = tokenLooks.get(counter);
      if (known !== undefined && known.until > performance.now()) return known.exhausted;
      const exhausted = (await evalScript(redis, tokensExhaustedScript, 1, counter, limitsKey(tenant))) === 1;
      remember(counter, exhausted);
      return exhausted;
    },
  };
}
