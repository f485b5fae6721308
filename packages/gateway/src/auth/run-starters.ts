/**
 * Who started each run, for separation of duties (the person who started a run may not approve its
 * tool calls, nor those of its child runs) and for listing a person's own runs. Kept in the namespace's keys in Redis
 * (`runStartedByKey`, beside the run's keys), for 90 days. The gateway records the caller's
 * verified user; `freehold run` straight on Redis (no gateway) records `local:<os user>`
 * ({@link localIdentity}), which counts as the gateway user of the same name ({@link isStarter}).
 *
 * @module
 */
import {
  isOutOfMemoryReply,
  runStartedByKey,
  storeFullError,
  type RedisClient,
  type RunStore,
} from "@freehold/handoff";
import type { Identity } from "./identity.ts";

/** Records and finds who started a run. */
export interface RunStarters {
  /**
   * Records the starter of a run about to start; false when the run id has one already (kept: a
   * second start of the same id never takes a run over).
   */
  record(namespace: string, runId: string, identity: Identity): Promise<boolean>;
  /** Forgets a record made for a run that then failed to start. */
  forget(namespace: string, runId: string): Promise<void>;
  /** The user who started the run or the run it descends from; `undefined` when none is recorded. */
  startedBy(namespace: string, runId: string): Promise<string | undefined>;
  /**
   * {@link RunStarters.startedBy} of each run of a list, in its order: one read per run (sent
   * together), more only for a child run, from its parent.
   */
  startersOf(
    namespace: string,
    runs: readonly { readonly id: string; readonly parent?: { readonly runId: string } | undefined }[],
  ): Promise<(string | undefined)[]>;
}

/** The prefix of a starter recorded by the CLI on Redis, without a gateway. */
const localPrefix = "local:";

/**
 * The identity `freehold run` records when it starts a run straight on Redis: `local:<os user>`.
 *
 * @example
 * ```ts
 * localIdentity("ann"); // { user: "local:ann", groups: [] }
 * ```
 */
export function localIdentity(osUser: string): Identity {
  return { user: `${localPrefix}${osUser}`, groups: [] };
}

/**
 * True when `startedBy` (a recorded starter) is the person of `identity`: the same user, or
 * `local:<user>` (a run the same name started with the CLI on Redis; `freehold dev`'s token file
 * names you by your OS user, so your own CLI runs are yours at the gateway too).
 *
 * @example
 * ```ts
 * isStarter("local:ann", { user: "ann", groups: [] }); // true
 * ```
 */
export function isStarter(startedBy: string | undefined, identity: Identity): startedBy is string {
  return (
    startedBy !== undefined && (startedBy === identity.user || startedBy === `${localPrefix}${identity.user}`)
  );
}

/** How long a record is kept: longer than any run waits for an approval. */
const keepSeconds = 90 * 86_400;

/** Parents followed at most (a run's child runs nest far less deeply). */
const maxDepth = 32;

const starterKey = runStartedByKey;

/**
 * @example
 * ```ts
 * const starters = createRunStarters(redis, store);
 * await starters.record("acme", run.id, identity);
 * await starters.startedBy("acme", childRunId); // "ann"
 * ```
 */
export function createRunStarters(redis: RedisClient, store: RunStore): RunStarters {
  const startedBy = async (namespace: string, runId: string): Promise<string | undefined> => {
    let current: string | undefined = runId;
    for (let depth = 0; current !== undefined && depth < maxDepth; depth += 1) {
      const user = await redis.get(starterKey(namespace, current));
      if (user !== null) return user;
      current = (await store.get(namespace, current))?.parent?.runId;
    }
    return undefined;
  };
  return {
    async record(namespace, runId, identity) {
      try {
        return (
          (await redis.set(starterKey(namespace, runId), identity.user, "EX", keepSeconds, "NX")) === "OK"
        );
      } catch (error) {
        if (isOutOfMemoryReply(error))
          throw storeFullError(error, `failed to store run ${namespace}/${runId}`);
        throw error;
      }
    },
    async forget(namespace, runId) {
      await redis.del(starterKey(namespace, runId));
    },
    startedBy,
    async startersOf(namespace, runs) {
      const recorded = await Promise.all(runs.map((run) => redis.get(starterKey(namespace, run.id))));
      return Promise.all(
        runs.map(async (run, index) => {
          const user = recorded[index];
          if (user !== null && user !== undefined) return user;
          return run.parent === undefined ? undefined : startedBy(namespace, run.parent.runId);
        }),
      );
    },
  };
}
