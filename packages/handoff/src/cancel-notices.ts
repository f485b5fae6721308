/**
 * Cancel notices: once a run's cancel is stored, it is announced on its namespace's channel
 * (`freehold:<ns>:cancelled`, the run's id as the message), and a worker working on the run learns of
 * it without reading the run. The stored run stays what counts: a notice is only ever sent after the
 * cancel was written, so a notice received is always true, but one may be lost (the watch was
 * reconnecting, or the process cancelling died between the write and the announcement). A worker
 * therefore leans on notices only while its watch is subscribed, and every write it makes still
 * fails on a cancelled run.
 *
 * What they buy: a loop may write a step's tool results together with the model's next answer
 * (one write per step, not two), or ask the model again while their write is in flight, and still
 * not spend a model call on a run cancelled while its tools ran.
 *
 * @module
 */
import { duplicateClient, type RedisClient } from "./redis-client.ts";
import { namespacePrefix } from "./keys.ts";

/** The channel a namespace's cancels are announced on; a tenant's ACL user may use it (`&freehold:<ns>:*`). */
export function cancelChannel(namespace: string): string {
  return `${namespacePrefix(namespace)}:cancelled`;
}

/** Announces a run's cancel (after it was stored). */
export async function announceCancel(redis: RedisClient, namespace: string, runId: string): Promise<void> {
  await redis.publish(cancelChannel(namespace), runId);
}

/** How long a watch remembers a cancel it was told of (a worker sees it at its run's next step). */
export const cancelNoticeMemoryMs = 15 * 60_000;
/** How many cancels a watch remembers at most (the oldest go first). */
export const maxCancelNotices = 10_000;

/** A worker's view of the cancel notices of the namespaces it works in. */
export interface CancelWatch {
  /**
   * Whether cancels of the namespace reach this watch now: it is subscribed to the namespace's
   * channel and connected. The first call for a namespace subscribes (false until Redis confirms).
   */
  live(namespace: string): boolean;
  /**
   * Subscribes to the namespaces' cancels now (a worker does at start, so its first runs have them);
   * settles once Redis answered, never failing (a refusal goes to `onError`; the watch is not live).
   */
  watch(namespaces: readonly string[]): Promise<void>;
  /** Whether a cancel of the run was announced (and is remembered: see {@link cancelNoticeMemoryMs}). */
  cancelled(namespace: string, runId: string): boolean;
  /** Unsubscribes and closes the watch's connection. */
  close(): Promise<void>;
}

/**
 * Watches cancel notices on a connection of its own (a duplicate of `redis`: a subscribed
 * connection can do nothing else).
 *
 * @example
 * ```ts
 * const watch = watchCancels(redis);
 * if (watch.live("acme") && watch.cancelled("acme", runId)) stop();
 * await watch.close();
 * ```
 */
export function watchCancels(
  redis: RedisClient,
  options: { readonly now?: () => number; readonly onError?: (error: Error) => void } = {},
): CancelWatch {
  const now = options.now ?? Date.now;
  // Connected on first use: a worker whose loop never asks pays for no connection.
  let subscriber: RedisClient | undefined;
  /** Namespaces by channel, whether Redis confirmed the subscription, and its answer. */
  const channels = new Map<
    string,
    { readonly namespace: string; confirmed: boolean; answered: Promise<void> }
  >();
  /** `<namespace>/<runId>` of announced cancels, oldest first, with when they were heard. */
  const heard = new Map<string, number>();
  let closed = false;

  const remember = (namespace: string, runId: string): void => {
    const at = now();
    const key = `${namespace}/${runId}`;
    heard.delete(key);
    heard.set(key, at);
    for (const [oldest, time] of heard) {
      if (heard.size <= maxCancelNotices && at - time < cancelNoticeMemoryMs) break;
      heard.delete(oldest);
    }
  };

  const connect = (): RedisClient => {
    if (subscriber !== undefined) return subscriber;
    const connection = duplicateClient(redis);
    connection.on("message", (channel: string, runId: string) => {
      const watched = channels.get(channel);
      if (watched !== undefined) remember(watched.namespace, runId);
    });
    // Errors show as a watch that is not live; the connection reconnects and resubscribes itself.
    connection.on("error", (error: Error) => options.onError?.(error));
    subscriber = connection;
    return connection;
  };

  /** The namespace's subscription: made on first use, settled once Redis answered. */
  const subscribe = (namespace: string): Promise<void> => {
    const channel = cancelChannel(namespace);
    const known = channels.get(channel);
    if (known !== undefined) return known.answered;
    const entry = { namespace, confirmed: false, answered: Promise.resolve() };
    channels.set(channel, entry);
    entry.answered = connect()
      .subscribe(channel)
      .then(
        () => {
          entry.confirmed = true;
        },
        (error: unknown) => {
          // Tried again at the next use.
          channels.delete(channel);
          options.onError?.(error instanceof Error ? error : new Error(String(error)));
        },
      );
    return entry.answered;
  };

  return {
    live(namespace) {
      if (closed) return false;
      const watched = channels.get(cancelChannel(namespace));
      if (watched === undefined) {
        void subscribe(namespace);
        return false;
      }
      return watched.confirmed && subscriber?.status === "ready";
    },
    async watch(namespaces) {
      if (closed) return;
      await Promise.all([...new Set(namespaces)].map((namespace) => subscribe(namespace)));
    },
    cancelled(namespace, runId) {
      const at = heard.get(`${namespace}/${runId}`);
      return at !== undefined && now() - at < cancelNoticeMemoryMs;
    },
    async close() {
      closed = true;
      if (subscriber === undefined) return;
      const connection = subscriber;
      subscriber = undefined;
      await connection.quit().catch(() => {
        connection.disconnect();
      });
    },
  };
}
