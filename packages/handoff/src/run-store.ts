/**
 * The run store: each run's state in a Redis hash (`state`, `revision`) and its events in a Redis
 * stream. A checkpoint writes the new state and the step's events in one atomic script, and only if
 * the stored revision is the one the writer read: a worker that lost its run to another (after a
 * stall) cannot overwrite newer state. The checkpoint that ends a run sets its keys to expire after
 * the retention period (default 7 days), and every stream is capped (about 10,000 events a run).
 *
 * @module
 */
import { FreeholdError, isTerminal, RunEvent, RunState } from "@freehold/api";
import type { Redis } from "ioredis";
import {
  dispatchKey,
  limitsKey,
  runEventsKey,
  runKey,
  runPickupsKey,
  runStartedByKey,
  tenancyKey,
} from "./keys.ts";
import { effectsLua, evalScript, type RedisEffect, type RedisPrecondition } from "./redis-effects.ts";
import { isOutOfMemoryReply, storeFullError } from "./store-errors.ts";

/** An event as stored: the stream entry id (for `Last-Event-ID`) and the event. */
export interface StoredEvent {
  readonly id: string;
  readonly event: RunEvent;
}

/** Options of {@link RunStore.followEvents}. */
export interface FollowOptions {
  /** Start after this stream id; default: from the first event. */
  readonly after?: string;
  readonly signal?: AbortSignal;
  /** How long one blocking read waits, in ms (default 1000). */
  readonly blockMs?: number;
}

export interface RunStore {
  /** Stores a new run and its first events (a queued run is marked for dispatch); fails with `run.exists` if the id is taken. */
  create(state: RunState, events: readonly RunEvent[]): Promise<void>;
  /** The run, or undefined. */
  get(namespace: string, runId: string): Promise<RunState | undefined>;
  /** The run, or a `run.not-found` error. */
  require(namespace: string, runId: string): Promise<RunState>;
  /**
   * Replaces `previous` by `next` (its revision bumped) and appends `events`, atomically, if the stored
   * revision is still `previous.revision`; otherwise fails with `run.conflict`. `effects` are written
   * in the same step, if `preconditions` hold (else `run.precondition-failed`). A run whose new status
   * is `queued` is marked for dispatch in the same step too (see Dispatcher). A Redis too full to
   * take the write gives `store.full` (retryable), with nothing written.
   */
  checkpoint(
    previous: RunState,
    next: RunState,
    events: readonly RunEvent[],
    extra?: {
      readonly effects?: readonly RedisEffect[];
      readonly preconditions?: readonly RedisPrecondition[];
    },
  ): Promise<RunState>;
  /** Events after `after` (exclusive), oldest first. */
  readEvents(
    namespace: string,
    runId: string,
    options?: { after?: string; count?: number },
  ): Promise<StoredEvent[]>;
  /** Every event from `after` on, live, until the run ends (`run-end`) or the signal aborts. */
  followEvents(namespace: string, runId: string, options?: FollowOptions): AsyncIterable<StoredEvent>;
}

const checkpointScript = `${effectsLua}
local revision = redis.call('HGET', KEYS[1], 'revision')
if not revision then return redis.error_reply('NOTFOUND run does not exist') end
if revision ~= ARGV[1] then
  -- This very write, sent again by the client after a lost reply (a reconnect resends what was not
  -- answered): it is done already.
  if revision == ARGV[3] and redis.call('HGET', KEYS[1], 'state') == ARGV[2] then return 2 end
  return redis.error_reply('CONFLICT stored revision is ' .. revision)
end
local failed = check_preconditions(ARGV[4])
if failed then return redis.error_reply(failed) end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'revision', ARGV[3])
apply_effects(ARGV[5])
for i = 8, #ARGV do redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', 'event', ARGV[i]) end
-- A run that ended: its keys expire after the retention period.
if ARGV[6] ~= '0' then
  for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[6]) end
end
return 1
`;

const createScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  -- The same create sent again after a lost reply is done already.
  if redis.call('HGET', KEYS[1], 'state') == ARGV[1] then return 2 end
  return redis.error_reply('EXISTS run already exists')
end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'revision', ARGV[2])
if ARGV[3] == 'queued' then redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5]) end
for i = 7, #ARGV do redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'event', ARGV[i]) end
return 1
`;

function parseState(text: string, namespace: string, runId: string): RunState {
  const result = RunState.safeParse(JSON.parse(text));
  if (!result.success) {
    throw new FreeholdError(
      "run.corrupt",
      `the stored state of run ${namespace}/${runId} does not match schema version 1: ${result.error.message}`,
      { details: { namespace, runId } },
    );
  }
  return result.data;
}

function toStoredEvents(entries: [string, string[]][]): StoredEvent[] {
  return entries.map(([id, fields]) => ({ id, event: RunEvent.parse(JSON.parse(fields[1] ?? "null")) }));
}

/** Options of {@link createRunStore}. */
export interface RunStoreOptions {
  /**
   * How long a finished run (completed, failed, limit_exceeded, cancelled) keeps its state and
   * events, in seconds: the checkpoint that ends it sets the expiry in the same step. Default
   * {@link defaultRunRetentionSeconds} (7 days); 0 keeps finished runs forever.
   */
  readonly retentionSeconds?: number;
  /**
   * Read a namespace's tenant's own retention (`runRetentionSeconds` in its limits, from the Tenant's
   * `spec.runRetention`), which overrides `retentionSeconds` there; remembered for a few seconds.
   * Default true.
   */
  readonly tenantRetention?: boolean;
  /**
   * About how many events a run's stream keeps (`XADD MAXLEN ~`): past it, the oldest are trimmed.
   * Default {@link defaultMaxEventsPerRun}.
   */
  readonly maxEventsPerRun?: number;
}

/** How long a namespace's tenant's retention is remembered. */
const tenantRetentionMemoryMs = 10_000;

/** How long finished runs are kept by default: 7 days. */
export const defaultRunRetentionSeconds = 7 * 24 * 3600;

/** How many events a run's stream keeps by default (about: Redis trims whole stream nodes). */
export const defaultMaxEventsPerRun = 10_000;

const durationUnits: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * Parses a retention period: whole seconds (`604800`) or a number with a unit (`30m`, `12h`, `7d`);
 * `0` keeps finished runs forever. `setting` names where the text came from, for the error.
 *
 * @example
 * ```ts
 * parseRetentionSeconds("7d", "--run-retention"); // 604800
 * ```
 */
export function parseRetentionSeconds(text: string, setting: string): number {
  const match = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  const seconds = match === null ? Number.NaN : Number(match[1]) * (durationUnits[match[2] || "s"] ?? 1);
  if (!Number.isSafeInteger(seconds) || seconds > 10 * 365 * 86_400) {
    throw new FreeholdError(
      "config.invalid-retention",
      `${setting} is ${JSON.stringify(text)}: give whole seconds or a number with s, m, h or d (e.g. 7d), at most 10 years; 0 keeps finished runs forever`,
      { details: { setting, value: text } },
    );
  }
  return seconds;
}

/**
 * A run store on one Redis connection. Blocking reads (`followEvents`) use their own duplicate
 * connection, so they never hold up writes.
 *
 * @example
 * ```ts
 * const store = createRunStore(new Redis(url));
 * const run = await store.require("acme", runId);
 * for await (const { event } of store.followEvents("acme", runId)) console.log(event.type);
 * ```
 */
export function createRunStore(redis: Redis, options: RunStoreOptions = {}): RunStore {
  const retention = String(options.retentionSeconds ?? defaultRunRetentionSeconds);
  const maxEvents = String(options.maxEventsPerRun ?? defaultMaxEventsPerRun);
  const remembered = new Map<string, { readonly seconds: string; readonly until: number }>();
  /** The retention of a namespace's finished runs: its tenant's, else the store's. Read when a run ends. */
  const retentionOf = async (namespace: string): Promise<string> => {
    if (options.tenantRetention === false) return retention;
    const known = remembered.get(namespace);
    if (known !== undefined && known.until > Date.now()) return known.seconds;
    const tenant = await redis.get(tenancyKey(namespace));
    const own = tenant === null ? null : await redis.hget(limitsKey(tenant), "runRetentionSeconds");
    const seconds = own !== null && /^[0-9]+$/.test(own) ? own : retention;
    if (remembered.size >= 1000) remembered.clear();
    remembered.set(namespace, { seconds, until: Date.now() + tenantRetentionMemoryMs });
    return seconds;
  };
  const store: RunStore = {
    async create(state, events) {
      const parsed = RunState.parse(state);
      try {
        await evalScript(
          redis,
          createScript,
          3,
          runKey(parsed.namespace, parsed.id),
          runEventsKey(parsed.namespace, parsed.id),
          dispatchKey(parsed.namespace),
          JSON.stringify(parsed),
          String(parsed.revision),
          parsed.status,
          String(Date.now()),
          parsed.id,
          maxEvents,
          ...events.map((event) => JSON.stringify(RunEvent.parse(event))),
        );
      } catch (error) {
        if (error instanceof Error && error.message.startsWith("EXISTS")) {
          throw new FreeholdError("run.exists", `run ${parsed.namespace}/${parsed.id} already exists`);
        }
        if (isOutOfMemoryReply(error)) {
          throw storeFullError(error, `failed to store run ${parsed.namespace}/${parsed.id}`);
        }
        throw error;
      }
    },

    async get(namespace, runId) {
      const text = await redis.hget(runKey(namespace, runId), "state");
      return text === null ? undefined : parseState(text, namespace, runId);
    },

    async require(namespace, runId) {
      const state = await store.get(namespace, runId);
      if (state === undefined) {
        throw new FreeholdError("run.not-found", `run ${runId} not found in namespace ${namespace}`, {
          details: { namespace, runId },
        });
      }
      return state;
    },

    async checkpoint(previous, next, events, extra = {}) {
      // Built by typed code: validated when read, not again on every write (the hot path).
      const stored: RunState = {
        ...next,
        revision: previous.revision + 1,
        updatedAt: new Date().toISOString(),
      };
      const effects: RedisEffect[] = [...(extra.effects ?? [])];
      if (stored.status === "queued") {
        effects.push({
          op: "zadd",
          key: dispatchKey(stored.namespace),
          score: Date.now(),
          member: stored.id,
        });
      }
      if (stored.parent !== undefined && isTerminal(stored.status) && !isTerminal(previous.status)) {
        // The parent waits for this run: mark it, so the answer reaches it even if this process dies now.
        const member = stored.parent.runId;
        effects.push({ op: "zadd", key: dispatchKey(stored.namespace), score: Date.now(), member });
      }
      try {
        await evalScript(
          redis,
          checkpointScript,
          4,
          runKey(stored.namespace, stored.id),
          runEventsKey(stored.namespace, stored.id),
          runStartedByKey(stored.namespace, stored.id),
          runPickupsKey(stored.namespace, stored.id),
          String(previous.revision),
          JSON.stringify(stored),
          String(stored.revision),
          JSON.stringify(extra.preconditions ?? []),
          JSON.stringify(effects),
          isTerminal(stored.status) ? await retentionOf(stored.namespace) : "0",
          maxEvents,
          ...events.map((event) => JSON.stringify(event)),
        );
      } catch (error) {
        if (error instanceof Error && error.message.startsWith("PRECONDITION")) {
          throw new FreeholdError(
            "run.precondition-failed",
            `run ${stored.namespace}/${stored.id}: ${error.message.slice("PRECONDITION ".length)} in the meantime; read it again and retry`,
            { details: { namespace: stored.namespace, runId: stored.id } },
          );
        }
        if (error instanceof Error && /^(CONFLICT|NOTFOUND)/.test(error.message)) {
          throw new FreeholdError(
            "run.conflict",
            `run ${stored.namespace}/${stored.id} changed under this worker (${error.message}); another worker owns it now`,
            { details: { namespace: stored.namespace, runId: stored.id, revision: previous.revision } },
          );
        }
        if (isOutOfMemoryReply(error)) {
          throw storeFullError(error, `failed to checkpoint run ${stored.namespace}/${stored.id}`);
        }
        throw error;
      }
      return stored;
    },

    async readEvents(namespace, runId, options = {}) {
      const start = options.after === undefined ? "-" : `(${options.after}`;
      const entries = (
        options.count === undefined
          ? await redis.xrange(runEventsKey(namespace, runId), start, "+")
          : await redis.xrange(runEventsKey(namespace, runId), start, "+", "COUNT", options.count)
      ) as [string, string[]][];
      return toStoredEvents(entries);
    },

    async *followEvents(namespace, runId, options = {}) {
      const key = runEventsKey(namespace, runId);
      const reader = redis.duplicate();
      let cursor = options.after ?? "0-0";
      try {
        for (;;) {
          if (options.signal?.aborted === true) return;
          const response = await reader.xread(
            "COUNT",
            100,
            "BLOCK",
            options.blockMs ?? 1000,
            "STREAMS",
            key,
            cursor,
          );
          const entries = response?.[0]?.[1] ?? [];
          for (const stored of toStoredEvents(entries)) {
            cursor = stored.id;
            yield stored;
            if (stored.event.type === "run-end") return;
          }
          if (entries.length === 0) {
            // run-end is written with the terminal state in one script: a terminal run with nothing
            // after the cursor has nothing more to say (the caller started past its end).
            const state = await store.require(namespace, runId);
            if (isTerminal(state.status)) return;
          }
        }
      } finally {
        reader.disconnect();
      }
    },
  };
  return store;
}
