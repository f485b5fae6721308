/**
 * One blocking reader for many followers of event streams (a run's events, a human queue's feed): a
 * single Redis connection issues `XREAD BLOCK` over the set of streams that someone follows
 * (re-issued as followers come and go), decodes each read once and hands its entries to the
 * followers of its stream, each from its own cursor (`Last-Event-ID`). A follower may follow several
 * streams (a queue's feed is one stream per shard) with one cursor in each. A follower that does not
 * keep up (`maxBufferedEvents` events waiting when more come) is dropped: its iteration fails with
 * `events.follower-dropped` and it resumes by following again after the last event it got. Memory
 * per follower is bounded; connections per process are one (one per hash tag on a Redis Cluster).
 *
 * @module
 */
import { FreeholdError, InboxEvent, isTerminal, type StoredInboxEvent } from "@freehold/api";
import { Cluster, type Redis } from "ioredis";
import { duplicateClient, type RedisClient } from "./redis-client.ts";
import { inboxEventsKeys, runEventsKey } from "./keys.ts";
import { encodeInboxCursor, decodeInboxCursor, maxInboxEvents } from "./inbox-events.ts";
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

/** Options of {@link EventFanout.followInbox}. */
export interface InboxFollowOptions {
  /**
   * Start after this feed position (an event's `id` from an earlier follow); default: from now,
   * with a first `reset` event (`reason: "start"`) that says to list the queue.
   */
  readonly after?: string;
  readonly signal?: AbortSignal;
}

/** Followers of event streams over one blocking reader. */
export interface EventFanout extends AsyncDisposable {
  /** Every event from `after` on, live, until the run ends (`run-end`), the signal aborts or the follower is dropped. */
  follow(namespace: string, runId: string, options?: FanoutFollowOptions): AsyncIterable<StoredEvent>;
  /**
   * The changes to a human queue's items, live, until the signal aborts or the follower is dropped
   * (it never ends on its own). Each event's `id` is the feed position after it. A position older
   * than the streams keep (see `maxInboxEvents`) starts with a `reset` (`reason: "missed"`).
   *
   * @throws FreeholdError `request.invalid` when `after` is not a position of an inbox feed.
   */
  followInbox(
    namespace: string,
    queue: string,
    options?: InboxFollowOptions,
  ): AsyncIterable<StoredInboxEvent>;
  /** Followers attached now. */
  followers(): number;
  /** Ends every follower and disconnects the reader. */
  close(): Promise<void>;
}

/** An entry of a followed stream, decoded: a run's event, or an event of a queue's feed. */
type Decoded =
  | { readonly kind: "run"; readonly id: string; readonly stored: StoredEvent }
  | { readonly kind: "inbox"; readonly id: string; readonly event: InboxEvent };

/** Decodes one read's entries of a stream. */
type Decoder = (entries: readonly [string, string[]][]) => Promise<Decoded[]>;

/** One entry waiting for a follower, with the stream it came from. */
interface Delivery {
  readonly key: string;
  readonly entry: Decoded;
}

interface Follower {
  /** The id of the last entry queued for it, per stream it follows. */
  readonly cursors: Map<string, string>;
  readonly queue: Delivery[];
  /** Set when it fell behind: it ends with `events.follower-dropped`. */
  dropped: boolean;
  wake: (() => void) | undefined;
}

interface FollowedStream {
  readonly decode: Decoder;
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
  const following = new Set<Follower>();
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

  const drop = (follower: Follower): void => {
    follower.dropped = true;
    follower.queue.length = 0;
    detach(follower);
    follower.wake?.();
  };

  const deliver = (key: string, stream: FollowedStream, readFrom: string, entries: Decoded[]): void => {
    for (const follower of stream.followers) {
      const cursor = follower.cursors.get(key) ?? "0-0";
      // A follower that joined behind where this read started gets these events from the re-read.
      if (compareStreamIds(cursor, readFrom) < 0) continue;
      // Still holding the bound from earlier reads: it stopped reading. (A catch-up read may add
      // one read's worth at once, so a follower holds at most the bound plus one read.)
      if (follower.queue.length >= maxBuffered) {
        drop(follower);
        continue;
      }
      let last = cursor;
      for (const entry of entries) {
        if (compareStreamIds(entry.id, last) <= 0) continue;
        follower.queue.push({ key, entry });
        last = entry.id;
      }
      follower.cursors.set(key, last);
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
        deliver(key, stream, readFrom, await stream.decode(entries));
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

  /** Starts `follower` on every stream of its cursors; `decode` reads them (the same for a key). */
  const attach = (follower: Follower, decode: Decoder): void => {
    following.add(follower);
    for (const [key, cursor] of follower.cursors) {
      const stream = streams.get(key);
      if (stream === undefined) {
        streams.set(key, { decode, cursor, followers: new Set([follower]) });
      } else {
        stream.followers.add(follower);
        if (compareStreamIds(cursor, stream.cursor) < 0) stream.cursor = cursor;
      }
      changed(key);
    }
  };

  function detach(follower: Follower): void {
    if (!following.delete(follower)) return;
    for (const key of follower.cursors.keys()) {
      const stream = streams.get(key);
      if (stream === undefined || !stream.followers.delete(follower)) continue;
      if (stream.followers.size === 0) {
        streams.delete(key);
        changed(key);
      }
    }
  }

  /**
   * The entries `follower` gets, in the order they were read, until the signal aborts or the
   * fan-out closes; fails with `events.follower-dropped` (naming `what`) when it fell behind.
   */
  async function* entriesOf(
    follower: Follower,
    signal: AbortSignal | undefined,
    dropped: () => FreeholdError,
  ): AsyncGenerator<Delivery> {
    for (;;) {
      const delivery = follower.queue.shift();
      if (delivery !== undefined) {
        yield delivery;
        continue;
      }
      if (isDropped(follower)) throw dropped();
      if (signal?.aborted === true || isClosed()) return;
      await new Promise<void>((resolve) => {
        follower.wake = resolve;
      });
      follower.wake = undefined;
    }
  }

  const newFollower = (cursors: Map<string, string>): Follower => ({
    cursors,
    queue: [],
    dropped: false,
    wake: undefined,
  });

  const decodeInbox =
    (namespace: string, queue: string): Decoder =>
    (entries) =>
      Promise.resolve(
        entries.flatMap(([id, fields]): Decoded[] => {
          const text = fields[fields.indexOf("event") + 1] ?? "null";
          const event = InboxEvent.safeParse(JSON.parse(text));
          if (event.success) return [{ kind: "inbox", id, event: event.data }];
          log(
            `event fan-out: skipped entry ${id} of queue ${namespace}/${queue}'s feed: ${event.error.message}`,
          );
          return [];
        }),
      );

  /** The last entry of each stream (`0-0` for an empty one): the feed position "now". */
  const lastIds = (keys: readonly string[]): Promise<string[]> =>
    Promise.all(keys.map(async (key) => (await redis.xrevrange(key, "+", "-", "COUNT", 1))[0]?.[0] ?? "0-0"));

  /**
   * Whether events after `cursor` may be gone from `key` (trimmed by `MAXLEN ~`): the stream's
   * first entry is past the cursor, and the cursor was an entry (trimmed since) or the stream is
   * at its bound (so it has trimmed).
   */
  const trimmedPast = async (key: string, cursor: string): Promise<boolean> => {
    const first = (await redis.xrange(key, "-", "+", "COUNT", 1))[0]?.[0];
    if (first === undefined || compareStreamIds(cursor, first) >= 0) return false;
    return cursor !== "0-0" || (await redis.xlen(key)) >= maxInboxEvents;
  };

  const fanout: EventFanout = {
    async *follow(namespace, runId, followOptions = {}) {
      const { signal } = followOptions;
      if (closed) return;
      const key = runEventsKey(namespace, runId);
      const after = followOptions.after ?? "0-0";
      const follower = newFollower(new Map([[key, after]]));
      attach(follower, async (entries) =>
        (await decodeEvents(redis, namespace, runId, entries)).map((stored): Decoded => ({
          kind: "run",
          id: stored.id,
          stored,
        })),
      );
      const onAbort = (): void => follower.wake?.();
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        // run-end is written with the terminal state in one script: a terminal run with nothing
        // after the cursor has nothing more to say (the caller started past its end).
        const next = await redis.xrange(key, `(${after}`, "+", "COUNT", 1);
        if (next.length === 0) {
          const state = await store.get(namespace, runId);
          if (state === undefined || isTerminal(state.status)) return;
        }
        const dropped = (): FreeholdError =>
          new FreeholdError(
            followerDroppedCode,
            `the events of run ${namespace}/${runId} came faster than they were read; follow again ` +
              "after the last event received (Last-Event-ID)",
            { retryable: true, details: { namespace, runId, maxBufferedEvents: maxBuffered } },
          );
        for await (const { entry } of entriesOf(follower, signal, dropped)) {
          if (entry.kind !== "run") continue;
          yield entry.stored;
          if (entry.stored.event.type === "run-end") return;
        }
      } finally {
        signal?.removeEventListener("abort", onAbort);
        detach(follower);
      }
    },
    async *followInbox(namespace, queue, followOptions = {}) {
      const { signal } = followOptions;
      if (closed) return;
      const keys = inboxEventsKeys(namespace, queue);
      let position = [...decodeInboxCursor(followOptions.after ?? "")];
      let reset: "start" | "missed" | undefined;
      if (followOptions.after === undefined) reset = "start";
      else {
        const trimmed = await Promise.all(
          keys.map((key, shard) => trimmedPast(key, position[shard] ?? "0-0")),
        );
        if (trimmed.includes(true)) reset = "missed";
      }
      if (reset !== undefined) position = await lastIds(keys);
      const shardOfKey = new Map(keys.map((key, shard) => [key, shard]));
      const follower = newFollower(new Map(keys.map((key, shard) => [key, position[shard] ?? "0-0"])));
      attach(follower, decodeInbox(namespace, queue));
      const onAbort = (): void => follower.wake?.();
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        if (reset !== undefined) {
          yield {
            id: encodeInboxCursor(position),
            event: { schemaVersion: 1, type: "reset", queue, at: new Date().toISOString(), reason: reset },
          };
        }
        const dropped = (): FreeholdError =>
          new FreeholdError(
            followerDroppedCode,
            `the changes of human queue ${namespace}/${queue} came faster than they were read; follow ` +
              "again after the last event received (Last-Event-ID)",
            { retryable: true, details: { namespace, queue, maxBufferedEvents: maxBuffered } },
          );
        for await (const { key, entry } of entriesOf(follower, signal, dropped)) {
          const shard = shardOfKey.get(key);
          if (entry.kind !== "inbox" || shard === undefined) continue;
          position[shard] = entry.id;
          yield { id: encodeInboxCursor(position), event: entry.event };
        }
      } finally {
        signal?.removeEventListener("abort", onAbort);
        detach(follower);
      }
    },
    followers: () => following.size,
    async close() {
      if (closed) return;
      closed = true;
      for (const follower of following) follower.wake?.();
      following.clear();
      streams.clear();
      await Promise.all([...readers.values()].map((reader) => reader.close()));
      readers.clear();
    },
    [Symbol.asyncDispose]: () => fanout.close(),
  };
  return fanout;
}
