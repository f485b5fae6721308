/**
 * One blocking reader for many followers of run event streams: a single Redis connection issues
 * `XREAD BLOCK` over the set of streams that someone follows (re-issued as followers come and go)
 * and hands each event to the followers of its stream, each from its own cursor (`Last-Event-ID`).
 * A follower that does not keep up (`maxBufferedEvents` events waiting when more come) is dropped: its
 * iteration fails with `events.follower-dropped` and it resumes by following again after the last
 * event it got. Memory per follower is bounded; connections per process are one.
 *
 * @module
 */
import { FreeholdError, isTerminal } from "@freehold/api";
import { Cluster, type Redis } from "ioredis";
import { duplicateClient, type RedisClient } from "./redis-client.ts";
import { runEventsKey } from "./keys.ts";
import { decodeEvents, type RunStore, type StoredEvent } from "./run-store.ts";

/** The code of a follower dropped for falling behind; it resumes with its last event id. */
export const followerDroppedCode = "events.follower-dropped";

/** Options of {@link createEventFanout}. */
export interface EventFanoutOptions {
  /** The connection for non-blocking reads; the fan-out duplicates it once for its blocking reads. */
  readonly redis: RedisClient;
  /** Reads run states, to end a follower that starts after its run ended. */
  readonly store: RunStore;
  /** Events a follower may have waiting before it is dropped (default 1000; one read, 100 events, may come on top). */
  readonly maxBufferedEvents?: number;
  /** Longest one blocking read waits before it is re-issued, in ms (default 1000). */
  readonly blockMs?: number;
  /** Where read failures are reported (the reader retries after a second). */
  readonly log?: (message: string) => void;
}

/** Options of {@link EventFanout.follow}. */
export interface FanoutFollowOptions {
  /** Start after this stream id; default: from the first event. */
  readonly after?: string;
  readonly signal?: AbortSignal;
}

/** Followers of run event streams over one blocking reader. */
export interface EventFanout extends AsyncDisposable {
  /** Every event from `after` on, live, until the run ends (`run-end`), the signal aborts or the follower is dropped. */
  follow(namespace: string, runId: string, options?: FanoutFollowOptions): AsyncIterable<StoredEvent>;
  /** Followers attached now. */
  followers(): number;
  /** Ends every follower and disconnects the reader. */
  close(): Promise<void>;
}

interface Follower {
  /** The id of the last event queued for it. */
  cursor: string;
  readonly queue: StoredEvent[];
  /** Set when it fell behind: it ends with `events.follower-dropped`. */
  dropped: boolean;
  wake: (() => void) | undefined;
}

interface FollowedStream {
  readonly namespace: string;
  readonly runId: string;
  /** Where the next read of this stream starts (exclusive). */
  cursor: string;
  readonly followers: Set<Follower>;
}

/** Read through a function: a follower is dropped while its loop awaits. */
function isDropped(follower: Follower): boolean {
  return follower.dropped;
}

const defaults = { maxBufferedEvents: 1000, blockMs: 1000 };

/** Orders Redis stream ids (`<ms>-<seq>`). */
export function compareStreamIds(left: string, right: string): number {
  const [leftMs = 0, leftSeq = 0] = left.split("-").map(Number);
  const [rightMs = 0, rightSeq = 0] = right.split("-").map(Number);
  return leftMs === rightMs ? leftSeq - rightSeq : leftMs - rightMs;
}

/**
 * A fan-out over `options.redis`; one per process (the gateway makes one).
 *
 * @example
 * ```ts
 * const fanout = createEventFanout({ redis, store: createRunStore(redis) });
 * for await (const { id, event } of fanout.follow("acme", runId, { after: lastEventId })) send(id, event);
 * await fanout.close();
 * ```
 */
export function createEventFanout(options: EventFanoutOptions): EventFanout {
  const { redis, store } = options;
  const maxBuffered = options.maxBufferedEvents ?? defaults.maxBufferedEvents;
  const blockMs = options.blockMs ?? defaults.blockMs;
  const log =
    options.log ??
    ((message: string): void => {
      console.error(message);
    });
  const streams = new Map<string, FollowedStream>();
  let closed = false;
  // Read through a function: `closed` changes while a loop awaits.
  const isClosed = (): boolean => closed;
  /**
   * One Redis reads every followed stream in one `XREAD`; a Redis Cluster refuses keys of several
   * slots in one command, so there each hash tag (a shard of a namespace, see keys.ts) has a reader.
   */
  const cluster = redis instanceof Cluster;
  const groupOf = (key: string): string => (cluster ? (/\{[^}]*\}/.exec(key)?.[0] ?? key) : "");
  const readers = new Map<string, GroupReader>();

  interface GroupReader {
    /** The set of streams changed: wake the idle loop, or cut the current blocking read short. */
    changed(): void;
    close(): Promise<void>;
  }

  const drop = (key: string, follower: Follower): void => {
    follower.dropped = true;
    follower.queue.length = 0;
    detach(key, follower);
    follower.wake?.();
  };

  const deliver = (key: string, stream: FollowedStream, readFrom: string, events: StoredEvent[]): void => {
    for (const follower of stream.followers) {
      // A follower that joined behind where this read started gets these events from the re-read.
      if (compareStreamIds(follower.cursor, readFrom) < 0) continue;
      // Still holding the bound from earlier reads: it stopped reading. (A catch-up read may add
      // one read's worth at once, so a follower holds at most the bound plus one read.)
      if (follower.queue.length >= maxBuffered) {
        drop(key, follower);
        continue;
      }
      for (const stored of events) {
        if (compareStreamIds(stored.id, follower.cursor) <= 0) continue;
        follower.queue.push(stored);
        follower.cursor = stored.id;
      }
      follower.wake?.();
    }
  };

  /** The reader of one group of streams (all of them on one Redis); it ends when its group is empty. */
  const startReader = (group: string): GroupReader => {
    const connection = duplicateClient(redis);
    let readerId: number | undefined;
    let reading = false;
    let unblockScheduled = false;
    let idle: (() => void) | undefined;
    // An object, not a let: set by close() while the loop awaits.
    const state = { stopped: false };
    const isStopped = (): boolean => state.stopped;
    const followed = (): [string, FollowedStream][] => [...streams].filter(([key]) => groupOf(key) === group);
    // On a cluster, CLIENT ID and UNBLOCK would reach any node: a read there ends after its block
    // time instead, kept short so a new follower's stream joins it soon.
    const block = cluster ? Math.min(blockMs, 250) : blockMs;
    connection.on("ready", () => {
      readerId = undefined;
    });
    const readOnce = async (): Promise<void> => {
      if (!cluster) readerId ??= await (connection as Redis).client("ID");
      const issued = new Map(followed().map(([key, stream]) => [key, stream.cursor]));
      reading = true;
      let response: [string, [string, string[]][]][] | null;
      try {
        response = await connection.xread(
          "COUNT",
          100,
          "BLOCK",
          block,
          "STREAMS",
          ...issued.keys(),
          ...issued.values(),
        );
      } finally {
        reading = false;
      }
      for (const [key, entries] of response ?? []) {
        const stream = streams.get(key);
        const readFrom = issued.get(key);
        const last = entries.at(-1);
        if (stream === undefined || readFrom === undefined || last === undefined) continue;
        // Rewound by a follower that joined behind: keep the earlier cursor, so it is read again.
        if (stream.cursor === readFrom) stream.cursor = last[0];
        deliver(key, stream, readFrom, await decodeEvents(redis, stream.namespace, stream.runId, entries));
      }
    };
    const reader: GroupReader = {
      changed() {
        if (idle !== undefined) {
          const wake = idle;
          idle = undefined;
          wake();
          return;
        }
        if (!reading || unblockScheduled || readerId === undefined) return;
        unblockScheduled = true;
        setImmediate(() => {
          unblockScheduled = false;
          if (!reading || readerId === undefined) return;
          // Without CLIENT UNBLOCK (ACL), the read ends on its own after blockMs.
          (redis as Redis).client("UNBLOCK", readerId).catch(() => undefined);
        });
      },
      async close() {
        state.stopped = true;
        idle?.();
        connection.disconnect();
        await loop.catch(() => undefined);
      },
    };
    const run = async (): Promise<void> => {
      while (!isStopped() && !isClosed()) {
        if (followed().length === 0) {
          if (cluster) break;
          await new Promise<void>((resolve) => {
            idle = resolve;
          });
          continue;
        }
        try {
          await readOnce();
        } catch (error) {
          if (isStopped() || isClosed()) break;
          log(`event fan-out: read failed, retrying in a second: ${String(error)}`);
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      }
      if (readers.get(group) === reader) readers.delete(group);
      connection.disconnect();
    };
    const loop = run();
    return reader;
  };

  /** The streams of `key`'s group changed: tell its reader, or start one. */
  const changed = (key: string): void => {
    if (isClosed()) return;
    const group = groupOf(key);
    const reader = readers.get(group);
    if (reader !== undefined) reader.changed();
    else if (streams.has(key)) readers.set(group, startReader(group));
  };

  const attach = (namespace: string, runId: string, follower: Follower): string => {
    const key = runEventsKey(namespace, runId);
    const stream = streams.get(key);
    if (stream === undefined) {
      streams.set(key, { namespace, runId, cursor: follower.cursor, followers: new Set([follower]) });
    } else {
      stream.followers.add(follower);
      if (compareStreamIds(follower.cursor, stream.cursor) < 0) stream.cursor = follower.cursor;
    }
    changed(key);
    return key;
  };

  function detach(key: string, follower: Follower): void {
    const stream = streams.get(key);
    if (stream === undefined || !stream.followers.delete(follower)) return;
    if (stream.followers.size === 0) {
      streams.delete(key);
      changed(key);
    }
  }

  const fanout: EventFanout = {
    async *follow(namespace, runId, followOptions = {}) {
      const { signal } = followOptions;
      if (closed) return;
      const follower: Follower = {
        cursor: followOptions.after ?? "0-0",
        queue: [],
        dropped: false,
        wake: undefined,
      };
      const key = attach(namespace, runId, follower);
      const onAbort = (): void => follower.wake?.();
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        // run-end is written with the terminal state in one script: a terminal run with nothing
        // after the cursor has nothing more to say (the caller started past its end).
        const next = await redis.xrange(key, `(${follower.cursor}`, "+", "COUNT", 1);
        if (next.length === 0) {
          const state = await store.get(namespace, runId);
          if (state === undefined || isTerminal(state.status)) return;
        }
        for (;;) {
          const stored = follower.queue.shift();
          if (stored !== undefined) {
            yield stored;
            if (stored.event.type === "run-end") return;
            continue;
          }
          if (isDropped(follower)) {
            throw new FreeholdError(
              followerDroppedCode,
              `the events of run ${namespace}/${runId} came faster than they were read; follow again ` +
                "after the last event received (Last-Event-ID)",
              { retryable: true, details: { namespace, runId, maxBufferedEvents: maxBuffered } },
            );
          }
          if (signal?.aborted === true || isClosed()) return;
          await new Promise<void>((resolve) => {
            follower.wake = resolve;
          });
          follower.wake = undefined;
        }
      } finally {
        signal?.removeEventListener("abort", onAbort);
        detach(key, follower);
      }
    },
    followers: () => [...streams.values()].reduce((total, stream) => total + stream.followers.size, 0),
    async close() {
      if (closed) return;
      closed = true;
      for (const stream of streams.values()) for (const follower of stream.followers) follower.wake?.();
      streams.clear();
      await Promise.all([...readers.values()].map((reader) => reader.close()));
      readers.clear();
    },
    [Symbol.asyncDispose]: () => fanout.close(),
  };
  return fanout;
}
