/**
 * Writes that must happen together with a checkpoint (or with another compare-and-set): creating an
 * inbox item when a run waits for a person, a child run when it delegates, marking a run for
 * dispatch. They travel to one Lua script as JSON, with preconditions checked before anything is
 * written, so a crash can never leave a run waiting for an item that does not exist.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { FreeholdError } from "@freehold/api";
// BullMQ's script as its Queue.add runs it (bullmq is pinned in the workspace catalog; see enqueueLua).
import { addStandardJob } from "bullmq/dist/esm/scripts/addStandardJob-9.js";
import type { RedisClient } from "./redis-client.ts";

/** One write. */
export type RedisEffect =
  | { readonly op: "set"; readonly key: string; readonly value: string }
  | { readonly op: "del"; readonly key: string }
  | { readonly op: "hset"; readonly key: string; readonly fields: Readonly<Record<string, string>> }
  | { readonly op: "zadd"; readonly key: string; readonly score: number; readonly member: string }
  | {
      readonly op: "zrem";
      readonly key: string;
      readonly member: string;
      /** Only if its score is at most this (a mark made before then; a later one stays). */
      readonly maxScore?: number;
    }
  | {
      readonly op: "xadd";
      readonly key: string;
      readonly field: string;
      readonly value: string;
      /** Trim the stream to about this many entries (`MAXLEN ~`); default: no trimming. */
      readonly maxLength?: number;
    }
  | { readonly op: "rpush"; readonly key: string; readonly values: readonly string[] }
  | EnqueueEffect;

/**
 * Adds a job to a BullMQ queue, as `Queue.add` does, by running BullMQ's own `addStandardJob`
 * script inside the write (see {@link enqueueLua}; made by `AgentQueues.enqueueEffect`). Its keys
 * are the queue's, in another slot than the run's: only scripts that include {@link enqueueLua}
 * apply it, and only on one Redis (or Sentinel), never on a cluster.
 */
export interface EnqueueEffect {
  readonly op: "enqueue";
  /** The queue's wait list (its first key). */
  readonly key: string;
  /** The queue's key prefix (`<prefix>:<queue>:`): its keys are this and a type ({@link enqueueKeyTypes}). */
  readonly prefix: string;
  readonly jobId: string;
  readonly name: string;
  /** When the job was made, ms since the epoch. */
  readonly timestamp: number;
  /** The job's data, as JSON. */
  readonly data: string;
  /** The job's options as BullMQ stores them. */
  readonly opts: Readonly<Record<string, unknown>>;
}

/** A condition that must hold for the writes to happen: the key holds exactly this string (or nothing). */
export interface RedisPrecondition {
  readonly key: string;
  /** The expected value; `null`: the key must not exist. */
  readonly equals: string | null;
}

/**
 * Lua that checks `ARGV[n]` (JSON preconditions) and applies `ARGV[n + 1]` (JSON effects). Scripts
 * include it and call `check_preconditions(ARGV[n])` before writing and `apply_effects(ARGV[n + 1])`.
 */
export const effectsLua = `
-- Applies an 'enqueue' effect: defined by the scripts that can (see enqueueLua), refused by others.
local enqueue_job = function() error('ENQUEUE this script cannot add jobs') end
local function check_preconditions(json)
  for _, condition in ipairs(cjson.decode(json)) do
    local current = redis.call('GET', condition.key)
    if condition.equals == cjson.null then
      if current then return 'PRECONDITION ' .. condition.key .. ' exists' end
    elseif current ~= condition.equals then
      return 'PRECONDITION ' .. condition.key .. ' changed'
    end
  end
  return nil
end
-- Whether these writes are in place already: every guarded key holds what a 'set' of this write
-- puts there. A client resends a command whose reply was lost (a reconnect); values carry times
-- and ids, so a match is this very write, not another one.
local function already_applied(conditions_json, effects_json)
  local conditions = cjson.decode(conditions_json)
  if #conditions == 0 then return false end
  local sets = {}
  for _, effect in ipairs(cjson.decode(effects_json)) do
    if effect.op == 'set' then sets[effect.key] = effect.value end
  end
  for _, condition in ipairs(conditions) do
    local value = sets[condition.key]
    if value == nil or redis.call('GET', condition.key) ~= value then return false end
  end
  return true
end
local function apply_effects(json)
  for _, effect in ipairs(cjson.decode(json)) do
    if effect.op == 'set' then redis.call('SET', effect.key, effect.value)
    elseif effect.op == 'del' then redis.call('DEL', effect.key)
    elseif effect.op == 'hset' then
      for field, value in pairs(effect.fields) do redis.call('HSET', effect.key, field, value) end
    elseif effect.op == 'zadd' then redis.call('ZADD', effect.key, effect.score, effect.member)
    elseif effect.op == 'zrem' then
      local score = effect.maxScore and redis.call('ZSCORE', effect.key, effect.member)
      if not effect.maxScore or (score and tonumber(score) <= effect.maxScore) then
        redis.call('ZREM', effect.key, effect.member)
      end
    elseif effect.op == 'xadd' then
      if effect.maxLength then
        redis.call('XADD', effect.key, 'MAXLEN', '~', effect.maxLength, '*', effect.field, effect.value)
      else
        redis.call('XADD', effect.key, '*', effect.field, effect.value)
      end
    elseif effect.op == 'rpush' then
      for _, value in ipairs(effect.values) do redis.call('RPUSH', effect.key, value) end
    elseif effect.op == 'enqueue' then enqueue_job(effect)
    end
  end
end
`;

/**
 * The keys effects and preconditions touch, once each, to declare in a script's `KEYS` (Redis
 * Cluster routes a script by them and refuses keys of other slots).
 */
export function touchedKeys(
  preconditions: readonly RedisPrecondition[],
  effects: readonly RedisEffect[],
): string[] {
  // A loop, not spreads of mapped arrays: every checkpoint of every run comes through here.
  const keys = new Set<string>();
  for (const condition of preconditions) keys.add(condition.key);
  for (const effect of effects) {
    if (effect.op === "enqueue") for (const key of queueKeys(effect.prefix)) keys.add(key);
    else keys.add(effect.key);
  }
  return [...keys];
}

/** Queues' keys by their prefix, made once each: a transfer names its queue's nine keys. */
const queueKeysByPrefix = new Map<string, readonly string[]>();
/** As many queues' keys as are kept; past it, the memory starts again (a worker serves a few queues). */
const rememberedQueues = 10_000;

function queueKeys(prefix: string): readonly string[] {
  let keys = queueKeysByPrefix.get(prefix);
  if (keys === undefined) {
    if (queueKeysByPrefix.size >= rememberedQueues) queueKeysByPrefix.clear();
    keys = enqueueKeyTypes.map((type) => prefix + type);
    queueKeysByPrefix.set(prefix, keys);
  }
  return keys;
}

/** The keys of a queue BullMQ's `addStandardJob` script takes, in its order (after the queue's prefix). */
const enqueueKeyTypes: readonly string[] = [
  "wait",
  "paused",
  "meta",
  "id",
  "completed",
  "delayed",
  "active",
  "events",
  "marker",
];

/**
 * Lua that defines how an 'enqueue' effect applies, for a script that includes it after
 * {@link effectsLua}: BullMQ's own `addStandardJob` script (of the pinned version), run as a
 * function on the queue's keys, with its arguments packed as `Queue.add` packs them. A job made so
 * is, field for field, the job `Queue.add` makes (tested against it, options included), and BullMQ's
 * workers take and retry it as theirs. A job id already there adds nothing (as `Queue.add`).
 */
export const enqueueLua = `
local function bullmq_add_standard_job(KEYS, ARGV)
${addStandardJob.content}
end
local enqueue_key_types = { ${enqueueKeyTypes.map((type) => `'${type}'`).join(", ")} }
enqueue_job = function(effect)
  local keys = {}
  for i, type in ipairs(enqueue_key_types) do keys[i] = effect.prefix .. type end
  local added = bullmq_add_standard_job(keys, {
    cmsgpack.pack({ effect.prefix, effect.jobId, effect.name, effect.timestamp }),
    effect.data,
    cmsgpack.pack(effect.opts),
  })
  if type(added) == 'number' and added < 0 then error('ENQUEUE BullMQ refused the job: ' .. added) end
end
`;

/** The hash tag of a key (what Redis Cluster hashes), or the key itself when it has none. */
function hashTag(key: string): string {
  const open = key.indexOf("{");
  const close = open < 0 ? -1 : key.indexOf("}", open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/**
 * Throws `store.cross-slot` unless every key shares one hash tag: a script over keys of several slots
 * fails in Redis Cluster, so it is refused on one Redis too, where tests would not notice.
 */
export function assertOneSlot(keys: readonly string[], what: string): void {
  const tags = new Set(keys.map(hashTag));
  if (tags.size > 1) {
    throw new FreeholdError(
      "store.cross-slot",
      `${what} would write keys of several Redis Cluster slots (${[...tags].join(", ")}) in one script; ` +
        "this is a defect: keys written together must share their run's hash tag (see keys.ts)",
      { details: { keys: [...keys] } },
    );
  }
}

const compareAndWriteScript = `${effectsLua}
local failed = check_preconditions(ARGV[1])
if failed then
  if already_applied(ARGV[1], ARGV[2]) then return 2 end
  return redis.error_reply(failed)
end
apply_effects(ARGV[2])
return 1
`;

/**
 * Applies effects if the preconditions hold; returns false (writing nothing) when one does not.
 *
 * @example
 * ```ts
 * const written = await compareAndWrite(redis, [{ key, equals: before }], [{ op: "set", key, value: after }]);
 * ```
 */
export async function compareAndWrite(
  redis: RedisClient,
  preconditions: readonly RedisPrecondition[],
  effects: readonly RedisEffect[],
): Promise<boolean> {
  try {
    const keys = touchedKeys(preconditions, effects);
    assertOneSlot(keys, "a compare-and-write");
    await evalScript(
      redis,
      compareAndWriteScript,
      keys.length,
      ...keys,
      JSON.stringify(preconditions),
      JSON.stringify(effects),
    );
    return true;
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("PRECONDITION")) return false;
    throw error;
  }
}

const scriptHashes = new Map<string, string>();

/**
 * Runs a Lua script by its SHA-1 (EVALSHA), sending its source only when Redis does not have it yet
 * (after a restart): the source of a checkpoint is longer than most checkpoints.
 */
export async function evalScript(
  redis: RedisClient,
  script: string,
  keyCount: number,
  ...args: (string | number)[]
): Promise<unknown> {
  let hash = scriptHashes.get(script);
  if (hash === undefined) {
    hash = createHash("sha1").update(script).digest("hex");
    scriptHashes.set(script, hash);
  }
  try {
    return await redis.evalsha(hash, keyCount, ...args);
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
    return await redis.eval(script, keyCount, ...args);
  }
}
