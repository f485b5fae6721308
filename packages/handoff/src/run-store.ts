/**
 * The run store: each run's state in a Redis hash (`state`, `revision`, `messages`), its conversation
 * in a Redis list, its large texts in a blob hash (see run-blobs.ts) and its events in a Redis
 * stream. A checkpoint writes what changed, so its cost does not grow with the conversation: the
 * compact state (everything but the messages), the messages added since the revision it read
 * (the whole list again only when earlier messages changed), texts not stored yet, and the step's
 * events, in one atomic script, and only if the stored revision is the one the writer read: a worker
 * that lost its run to another (after a stall) cannot overwrite newer state. The checkpoint that ends a run sets its keys to expire after
 * the retention period (default 7 days), and every stream is capped (about 10,000 events a run).
 * Creating a run also writes its entry in the namespace's run index, for listing (see run-index.ts);
 * checkpoints leave the index alone.
 *
 * @module
 */
import { type ChatMessage, FreeholdError, isoTime, isTerminal, RunEvent, RunState } from "@freehold/api";
import { announceCancel } from "./cancel-notices.ts";
import { duplicateClient, type RedisClient } from "./redis-client.ts";
import {
  dispatchKey,
  limitsKey,
  runBlobsKey,
  runEventsKey,
  runKey,
  runMessagesKey,
  runOwnKeys,
  runIndexKey,
  runPickupsKey,
  tenancyKey,
} from "./keys.ts";
import { mayHoldBlobs, resolveBlobs, storedJson } from "./run-blobs.ts";
import {
  listRuns,
  runIndexEffect,
  runIndexGraceSeconds,
  type ListRunsOptions,
  type RunPage,
} from "./run-index.ts";
import {
  assertOneSlot,
  effectsLua,
  enqueueLua,
  evalScript,
  touchedKeys,
  type RedisEffect,
  type RedisPrecondition,
} from "./redis-effects.ts";
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

/**
 * A worker taking a run up after its job stalled, counted in the checkpoint that starts its work
 * there (KEYS: the run's pickups hash). A job stalls when the worker holding it dies (BullMQ moves it
 * back to wait and counts it: the job's `stalledCounter`), so the deaths on a run are its job's
 * stalls, counted from the last record of them: the pickups hash holds `progress` (how far the run
 * had come: model calls, tool results), `count` (its workers' deaths in a row at that progress) and
 * the job and stalled counter they are as of. A pickup at the same progress adds the stalls since;
 * at a later progress, the worker that made it died (if the job stalled since): 1; with no record
 * of this job, every stall of the job counts. After `maxStalls` deaths in a row the checkpoint
 * writes nothing and fails with `run.stalled` (details: `stalls`); below that, it records them, the
 * key expiring after `ttlSeconds`. A job that never stalled needs no pickup write: a worker that
 * dies on it leaves a stall, which the next pickup counts.
 */
export interface RunPickup {
  readonly progress: string;
  /** The run's job (its id) and its stalled counter as the worker took it. */
  readonly job: string;
  readonly jobStalls: number;
  readonly maxStalls: number;
  readonly ttlSeconds: number;
}

export interface RunStore {
  /**
   * Stores a new run, its first events and its entry in the run index (a queued run is marked for
   * dispatch) in one step; fails with `run.exists` if the id is taken.
   */
  create(state: RunState, events: readonly RunEvent[]): Promise<void>;
  /** The run, or undefined. */
  get(namespace: string, runId: string): Promise<RunState | undefined>;
  /** The run, or a `run.not-found` error. */
  require(namespace: string, runId: string): Promise<RunState>;
  /**
   * One page of the namespace's runs, newest first, as summaries (no conversation); filtered by
   * agent, status and `where`, reading a bounded stretch of the run index (see run-index.ts).
   */
  list(namespace: string, options?: ListRunsOptions): Promise<RunPage>;
  /**
   * Replaces `previous` by `next` (its revision bumped) and appends `events`, atomically, if the stored
   * revision is still `previous.revision`; otherwise fails with `run.conflict`. `effects` are written
   * in the same step, if `preconditions` hold (else `run.precondition-failed`). A run whose new status
   * is `queued` is marked for dispatch in the same step too (see Dispatcher), unless `effects` put its
   * job on its queue (an `enqueue` effect: one Redis only, see AgentQueues.enqueueEffect). A Redis too
   * full to take the write gives `store.full` (retryable), with nothing written. With `pickup`, the write
   * also counts the deaths on the run's job (see {@link RunPickup}); a write that leaves the run
   * queued, waiting or ended clears that count (its worker let go of it, alive).
   */
  checkpoint(
    previous: RunState,
    next: RunState,
    events: readonly RunEvent[],
    extra?: {
      readonly effects?: readonly RedisEffect[];
      readonly preconditions?: readonly RedisPrecondition[];
      readonly pickup?: RunPickup;
    },
  ): Promise<RunState>;
  /**
   * A worker lets go of a run alive, back on its queue (it stops, or an attempt is retried): as of
   * its job's stalled counter now, none of the job's stalls is a death at `progress` (see
   * {@link RunPickup}). One script: a tenant's Redis user may run scripts, not `MULTI`.
   */
  letGo(namespace: string, runId: string, pickup: Omit<RunPickup, "maxStalls">): Promise<void>;
  /** Events after `after` (exclusive), oldest first. */
  readEvents(
    namespace: string,
    runId: string,
    options?: { after?: string; count?: number },
  ): Promise<StoredEvent[]>;
  /** Every event from `after` on, live, until the run ends (`run-end`) or the signal aborts. */
  followEvents(namespace: string, runId: string, options?: FollowOptions): AsyncIterable<StoredEvent>;
  /** Tells workers a run's cancel was stored (see cancel-notices.ts): call it after the write. */
  announceCancel(namespace: string, runId: string): Promise<void>;
}

/**
 * The pickups record of a run (see {@link RunPickup}), as both scripts that write it write it: the
 * progress, the deaths in a row at it, the job and its stalled counter they are as of; the key
 * expires after `ttl` seconds.
 */
const pickupsLua = `
local function record_pickups(key, progress, count, job, stalled_counter, ttl)
  redis.call('HSET', key, 'progress', progress, 'count', tostring(count), 'job', job, 'stc', stalled_counter)
  redis.call('EXPIRE', key, ttl)
end
`;

/**
 * KEYS: the run hash, its events, who started it, its pickups, its messages, its blobs; then the keys
 * the effects and preconditions touch.
 * ARGV: 1 the revision read, 2 the compact state, 3 the new revision, 4 preconditions, 5 effects,
 * 6 retention (0: the run goes on), 7 events kept, 8 `append` or `snapshot`, 9 messages stored at the
 * revision read (append), 10 messages after, 11 messages sent, 12 blobs sent, 13 blobs referenced and
 * not sent, 14 the pickup's progress (empty: no pickup), 15 its stalls that fail the run, 16 its TTL,
 * 17 `1` when the run leaves its worker's hands (queued, waiting, ended), 18 the pickup's job, 19 that
 * job's stalled counter; then the messages, the blobs (hash, text), the hashes referenced, the events.
 */
const checkpointScript = `${effectsLua}${enqueueLua}${pickupsLua}
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
-- Appending needs the stored list to be the one the writer read (a run stored before messages had
-- their own list has no count): else the writer sends the whole conversation.
if ARGV[8] == 'append' and redis.call('HGET', KEYS[1], 'messages') ~= ARGV[9] then
  return redis.error_reply('RELAYOUT messages stored differ')
end
local messages_at = 20
local blobs_at = messages_at + tonumber(ARGV[11])
local refs_at = blobs_at + 2 * tonumber(ARGV[12])
local events_at = refs_at + tonumber(ARGV[13])
for i = refs_at, events_at - 1 do
  if redis.call('HEXISTS', KEYS[6], ARGV[i]) == 0 then return redis.error_reply('BLOBMISSING ' .. ARGV[i]) end
end
-- A pickup (last of the checks: a write refused above is sent again, and must not count it twice):
-- the deaths in a row on the run, from its job's stalls since the last record of them.
local stalls = 0
if ARGV[14] ~= '' then
  local last = redis.call('HMGET', KEYS[4], 'progress', 'count', 'job', 'stc')
  local job_stalls = tonumber(ARGV[19])
  if last[3] ~= ARGV[18] then
    stalls = job_stalls
  elseif last[1] == ARGV[14] then
    stalls = (tonumber(last[2]) or 0) + job_stalls - (tonumber(last[4]) or 0)
  elseif job_stalls > (tonumber(last[4]) or 0) then
    stalls = 1
  end
  if stalls >= tonumber(ARGV[15]) then return redis.error_reply('STALLED ' .. stalls) end
end
-- The first write is one Redis refuses when it is full (a script may not stop once it has written).
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'revision', ARGV[3], 'messages', ARGV[10])
if ARGV[14] ~= '' then
  record_pickups(KEYS[4], ARGV[14], stalls, ARGV[18], ARGV[19], ARGV[16])
elseif ARGV[17] == '1' then
  -- Handed on or ended: the worker that held the run did not die on it.
  redis.call('DEL', KEYS[4])
end
if ARGV[8] == 'snapshot' then redis.call('DEL', KEYS[5]) end
for i = messages_at, blobs_at - 1 do redis.call('RPUSH', KEYS[5], ARGV[i]) end
for i = blobs_at, refs_at - 1, 2 do redis.call('HSETNX', KEYS[6], ARGV[i], ARGV[i + 1]) end
apply_effects(ARGV[5])
for i = events_at, #ARGV do redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', 'event', ARGV[i]) end
-- A run that ended: its keys expire after the retention period.
if ARGV[6] ~= '0' then
  for i = 1, 6 do redis.call('EXPIRE', KEYS[i], ARGV[6]) end
end
return 1
`;

/** KEYS: the run's pickups. ARGV: the progress, the job, its stalled counter, the key's TTL. */
const letGoScript = `${pickupsLua}
record_pickups(KEYS[1], ARGV[1], 0, ARGV[2], ARGV[3], ARGV[4])
return 1
`;

/**
 * KEYS: the run hash, its events, the dispatch set, its messages, its blobs, the run index. ARGV: 1
 * the compact state, 2 its revision, 3 its status, 4 now, 5 its id, 6 events kept, 7 message count,
 * 8 blobs sent, 9 when it was created (ms, its index entry's score), 10 index entries created before
 * this are trimmed (empty: none); then the messages, the blobs (hash, text), the events.
 */
const createScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  -- The same create sent again after a lost reply is done already.
  if redis.call('HGET', KEYS[1], 'state') == ARGV[1] then return 2 end
  return redis.error_reply('EXISTS run already exists')
end
local blobs_at = 11 + tonumber(ARGV[7])
local events_at = blobs_at + 2 * tonumber(ARGV[8])
redis.call('DEL', KEYS[4])
for i = 11, blobs_at - 1 do redis.call('RPUSH', KEYS[4], ARGV[i]) end
for i = blobs_at, events_at - 1, 2 do redis.call('HSETNX', KEYS[5], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'revision', ARGV[2], 'messages', ARGV[7])
if ARGV[3] == 'queued' then redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5]) end
redis.call('ZADD', KEYS[6], ARGV[9], ARGV[5])
if ARGV[10] ~= '' then redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', '(' .. ARGV[10]) end
for i = events_at, #ARGV do redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'event', ARGV[i]) end
return 1
`;

/** A run as stored: the compact state (JSON, no messages), its messages (JSON each), the texts stored apart. */
interface RunRecord {
  readonly state: string;
  readonly messages: string[];
  readonly blobs: Map<string, string>;
}

/** Splits a run for storage; see {@link RunRecord}. */
function toRecord(state: RunState, newMessages: readonly ChatMessage[]): RunRecord {
  const blobs = new Map<string, string>();
  // The messages go in their own list (JSON leaves an undefined property out).
  return {
    state: storedJson({ ...state, messages: undefined }, blobs),
    messages: newMessages.map((message) => storedJson(message, blobs)),
    blobs,
  };
}

/** Whether `next` only adds messages to those of `previous` (the loop and the inbox never rewrite one). */
function onlyAppends(previous: readonly ChatMessage[], next: readonly ChatMessage[]): boolean {
  if (next.length < previous.length) return false;
  for (let index = 0; index < previous.length; index += 1) if (next[index] !== previous[index]) return false;
  return true;
}

/**
 * The writes that store a new run (state, messages, texts apart, first events, its index entry), as
 * effects of another checkpoint: how a run stores the child runs it delegates to in the step that
 * starts them.
 */
export function newRunEffects(state: RunState, events: readonly RunEvent[]): RedisEffect[] {
  const record = toRecord(state, state.messages);
  const eventBlobs = new Map<string, string>();
  const eventTexts = events.map((event) => storedJson(event, eventBlobs));
  const blobs = new Map([...record.blobs, ...eventBlobs]);
  return [
    {
      op: "hset",
      key: runKey(state.namespace, state.id),
      fields: {
        state: record.state,
        revision: String(state.revision),
        messages: String(state.messages.length),
      },
    },
    { op: "del", key: runMessagesKey(state.namespace, state.id) },
    ...(record.messages.length === 0
      ? []
      : [{ op: "rpush" as const, key: runMessagesKey(state.namespace, state.id), values: record.messages }]),
    ...(blobs.size === 0
      ? []
      : [
          {
            op: "hset" as const,
            key: runBlobsKey(state.namespace, state.id),
            fields: Object.fromEntries(blobs),
          },
        ]),
    ...eventTexts.map((value) => ({
      op: "xadd" as const,
      key: runEventsKey(state.namespace, state.id),
      field: "event",
      value,
    })),
    runIndexEffect(state.namespace, state.id, state.createdAt),
  ];
}

/** Every key of a run, for deleting one that could not be queued. */
export function runKeys(namespace: string, runId: string): string[] {
  return [
    runKey(namespace, runId),
    runEventsKey(namespace, runId),
    runMessagesKey(namespace, runId),
    runBlobsKey(namespace, runId),
  ];
}

function corrupt(namespace: string, runId: string, reason: string): FreeholdError {
  return new FreeholdError(
    "run.corrupt",
    `the stored state of run ${namespace}/${runId} does not match schema version 1: ${reason}`,
    { details: { namespace, runId } },
  );
}

/**
 * Stream entries (`[id, ["event", json]]`) as events, their texts stored apart put back in place.
 */
export async function decodeEvents(
  redis: Pick<RedisClient, "hmget">,
  namespace: string,
  runId: string,
  entries: readonly [string, string[]][],
): Promise<StoredEvent[]> {
  const texts = entries.map(([, fields]) => fields[fields.indexOf("event") + 1] ?? "null");
  let values = texts.map((text) => JSON.parse(text) as unknown);
  if (texts.some(mayHoldBlobs)) {
    values = await resolveBlobs(redis, runBlobsKey(namespace, runId), values, `run ${namespace}/${runId}`);
  }
  return entries.map(([id], index) => ({ id, event: RunEvent.parse(values[index]) }));
}

/**
 * KEYS: the run hash, its messages. Returns the compact state, the message count of its revision
 * (empty strings when absent) and those messages: one script, so no checkpoint runs between the two
 * reads. It writes nothing, so a full Redis (maxmemory) still runs it.
 */
const readScript = `
local run = redis.call('HMGET', KEYS[1], 'state', 'messages')
if not run[1] then return {'', '', {}} end
local count = tonumber(run[2] or '')
local list = {}
if count and count > 0 then list = redis.call('LRANGE', KEYS[2], 0, count - 1) end
return {run[1], run[2] or '', list}
`;

/** Reads a run's hash and the messages of its revision in one round trip. */
async function readRecord(
  redis: RedisClient,
  namespace: string,
  runId: string,
): Promise<{ text: string | null; count: string | null; list: string[] }> {
  const [text, count, list] = (await evalScript(
    redis,
    readScript,
    2,
    runKey(namespace, runId),
    runMessagesKey(namespace, runId),
  )) as [string, string, string[]];
  return { text: text === "" ? null : text, count: count === "" ? null : count, list };
}

/** How many stored texts a process remembers having written (per run and hash), to send each once. */
const rememberedBlobs = 10_000;

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
export function createRunStore(redis: RedisClient, options: RunStoreOptions = {}): RunStore {
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
  /** `namespace/runId/hash` of the texts this process stored (see run-blobs.ts). */
  const storedBlobs = new Set<string>();
  const store: RunStore = {
    announceCancel: (namespace, runId) => announceCancel(redis, namespace, runId),
    async create(state, events) {
      const parsed = RunState.parse(state);
      const record = toRecord(parsed, parsed.messages);
      const eventTexts = events.map((event) => storedJson(RunEvent.parse(event), record.blobs));
      const createdAt = Date.parse(parsed.createdAt);
      // Index entries older than any run still kept go (see run-index.ts); none while runs are kept forever.
      const retentionSeconds = Number(await retentionOf(parsed.namespace));
      const trimBefore =
        retentionSeconds === 0 ? "" : String(Date.now() - (retentionSeconds + runIndexGraceSeconds) * 1000);
      try {
        await evalScript(
          redis,
          createScript,
          6,
          runKey(parsed.namespace, parsed.id),
          runEventsKey(parsed.namespace, parsed.id),
          dispatchKey(parsed.namespace, parsed.id),
          runMessagesKey(parsed.namespace, parsed.id),
          runBlobsKey(parsed.namespace, parsed.id),
          runIndexKey(parsed.namespace, parsed.id),
          record.state,
          String(parsed.revision),
          parsed.status,
          String(Date.now()),
          parsed.id,
          maxEvents,
          String(record.messages.length),
          String(record.blobs.size),
          String(createdAt),
          trimBefore,
          ...record.messages,
          ...[...record.blobs].flat(),
          ...eventTexts,
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
      const { text, count, list } = await readRecord(redis, namespace, runId);
      if (text === null) return undefined;
      let value: unknown;
      try {
        value = JSON.parse(text);
        if (count !== null) {
          const messages = list.map((message) => JSON.parse(message) as unknown);
          value = { ...(value as object), messages };
        }
      } catch (error) {
        throw corrupt(namespace, runId, error instanceof Error ? error.message : String(error));
      }
      if (mayHoldBlobs(text) || list.some(mayHoldBlobs)) {
        [value] = await resolveBlobs(
          redis,
          runBlobsKey(namespace, runId),
          [value],
          `run ${namespace}/${runId}`,
        );
      }
      const result = RunState.safeParse(value);
      if (!result.success) throw corrupt(namespace, runId, result.error.message);
      return result.data;
    },

    list: (namespace, listOptions) => listRuns(redis, namespace, listOptions),

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
        updatedAt: isoTime(new Date()),
      };
      const effects: RedisEffect[] = [...(extra.effects ?? [])];
      const addsJob = effects.some((effect) => effect.op === "enqueue");
      // A job added in this write needs no mark: the run cannot be left queued without it.
      if (stored.status === "queued" && !addsJob) {
        effects.push({
          op: "zadd",
          key: dispatchKey(stored.namespace, stored.id),
          score: Date.now(),
          member: stored.id,
        });
      }
      if (stored.parent !== undefined && isTerminal(stored.status) && !isTerminal(previous.status)) {
        // The parent waits for this run: mark it, so the answer reaches it even if this process dies now.
        const member = stored.parent.runId;
        effects.push({ op: "zadd", key: dispatchKey(stored.namespace, member), score: Date.now(), member });
      }
      const append = onlyAppends(previous.messages, stored.messages);
      const preconditions = extra.preconditions ?? [];
      // The run's keys, then every key the effects and preconditions touch: all declared, one slot.
      const own = runOwnKeys(stored.namespace, stored.id);
      const touched = touchedKeys(preconditions, effects);
      // The run's own keys share its hash tag by construction: only what others add is checked.
      const keys: string[] = [...own];
      for (const key of touched) if (!keys.includes(key)) keys.push(key);
      if (touched.length > 0) {
        // A job's keys are its queue's, in another slot: allowed on one Redis, a defect on a cluster.
        const inSlot =
          redis.isCluster || !addsJob
            ? touched
            : touchedKeys(
                preconditions,
                effects.filter((effect) => effect.op !== "enqueue"),
              );
        assertOneSlot([own[0], ...inSlot], `the checkpoint of run ${stored.namespace}/${stored.id}`);
      }
      const retentionSeconds = isTerminal(stored.status) ? await retentionOf(stored.namespace) : "0";
      const runBlobs = `${stored.namespace}/${stored.id}/`;
      /** The texts the last write sent: remembered once it succeeds. */
      let sent = new Map<string, string>();
      const write = (mode: "append" | "snapshot", sendAllBlobs: boolean): Promise<unknown> => {
        const record = toRecord(
          stored,
          mode === "append" ? stored.messages.slice(previous.messages.length) : stored.messages,
        );
        const eventTexts = events.map((event) => storedJson(event, record.blobs));
        // Texts this process stored for the run already go by reference; the script checks they are there.
        const referenced: string[] = [];
        if (!sendAllBlobs) {
          for (const hash of record.blobs.keys()) {
            if (storedBlobs.has(runBlobs + hash)) {
              record.blobs.delete(hash);
              referenced.push(hash);
            }
          }
        }
        sent = record.blobs;
        return evalScript(
          redis,
          checkpointScript,
          keys.length,
          ...keys,
          String(previous.revision),
          record.state,
          String(stored.revision),
          JSON.stringify(preconditions),
          JSON.stringify(effects),
          retentionSeconds,
          maxEvents,
          mode,
          String(previous.messages.length),
          String(stored.messages.length),
          String(record.messages.length),
          String(record.blobs.size),
          String(referenced.length),
          extra.pickup?.progress ?? "",
          String(extra.pickup?.maxStalls ?? 0),
          String(extra.pickup?.ttlSeconds ?? 0),
          stored.status === "queued" || stored.status.startsWith("waiting_") || isTerminal(stored.status)
            ? "1"
            : "0",
          extra.pickup?.job ?? "",
          String(extra.pickup?.jobStalls ?? 0),
          ...record.messages,
          ...[...record.blobs].flat(),
          ...referenced,
          ...eventTexts,
        );
      };
      try {
        try {
          await write(append ? "append" : "snapshot", false);
        } catch (error) {
          // A run stored before messages had their own list, or texts gone from under this process's
          // memory of them: write it whole, once.
          if (!(error instanceof Error && /^(RELAYOUT|BLOBMISSING)/.test(error.message))) throw error;
          await write("snapshot", true);
        }
      } catch (error) {
        if (error instanceof Error && error.message.startsWith("PRECONDITION")) {
          throw new FreeholdError(
            "run.precondition-failed",
            `run ${stored.namespace}/${stored.id}: ${error.message.slice("PRECONDITION ".length)} in the meantime; read it again and retry`,
            { details: { namespace: stored.namespace, runId: stored.id } },
          );
        }
        if (error instanceof Error && error.message.startsWith("STALLED")) {
          const stalls = Number(error.message.slice("STALLED ".length));
          throw new FreeholdError(
            "run.stalled",
            `run ${stored.namespace}/${stored.id} was picked up ${stalls} times in a row without making progress; its workers died on it`,
            { details: { namespace: stored.namespace, runId: stored.id, stalls } },
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
      if (storedBlobs.size + sent.size > rememberedBlobs) storedBlobs.clear();
      for (const hash of sent.keys()) storedBlobs.add(runBlobs + hash);
      return stored;
    },

    async letGo(namespace, runId, pickup) {
      await evalScript(
        redis,
        letGoScript,
        1,
        runPickupsKey(namespace, runId),
        pickup.progress,
        pickup.job,
        String(pickup.jobStalls),
        String(pickup.ttlSeconds),
      );
    },

    async readEvents(namespace, runId, options = {}) {
      const start = options.after === undefined ? "-" : `(${options.after}`;
      const entries = (
        options.count === undefined
          ? await redis.xrange(runEventsKey(namespace, runId), start, "+")
          : await redis.xrange(runEventsKey(namespace, runId), start, "+", "COUNT", options.count)
      ) as [string, string[]][];
      return decodeEvents(redis, namespace, runId, entries);
    },

    async *followEvents(namespace, runId, options = {}) {
      const key = runEventsKey(namespace, runId);
      const reader = duplicateClient(redis);
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
          for (const stored of await decodeEvents(redis, namespace, runId, entries)) {
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
