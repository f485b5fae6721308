/**
 * The work queue of a controller, with client-go's semantics: keys (`namespace/name`) not events;
 * a key added while queued is queued once; a key added while being worked on is queued again when
 * the work is done, never worked on twice at once; failed keys come back after a per-key exponential
 * backoff, and all rate-limited adds share a token bucket.
 *
 * @module
 */

/** Options of {@link createWorkQueue}. */
export interface WorkQueueOptions {
  /** The first retry delay of a failing key. Default: 100 ms. */
  readonly baseDelayMs?: number;
  /** The longest retry delay. Default: 5 minutes. */
  readonly maxDelayMs?: number;
  /** Rate-limited adds per second, over all keys. Default: 50. */
  readonly ratePerSecond?: number;
  /** How many rate-limited adds may happen at once before the rate applies. Default: 300. */
  readonly burst?: number;
}

/** A de-duplicated, rate-limited queue of keys. */
export interface WorkQueue {
  /** Queues a key now (once, however often it is added). */
  add(key: string): void;
  /** Queues a key after a delay; the earliest of several pending delays wins. */
  addAfter(key: string, delayMs: number): void;
  /** Queues a key after its backoff (which grows with each call until {@link forget}). */
  addRateLimited(key: string): void;
  /** Resets a key's backoff after it was worked on successfully. */
  forget(key: string): void;
  /** How many times the key was rate-limited since it was last forgotten. */
  retries(key: string): number;
  /** The next key to work on; undefined once the queue is shut down. Call {@link done} after. */
  get(): Promise<string | undefined>;
  /** Marks a key's work finished; a key added meanwhile is queued again. */
  done(key: string): void;
  /** Keys waiting to be worked on. */
  length(): number;
  /** Stops handing out keys; `get()` resolves undefined. */
  shutDown(): void;
}

/**
 * @example
 * ```ts
 * const queue = createWorkQueue();
 * queue.add("acme/billing");
 * const key = await queue.get();
 * try { await reconcile(key); queue.forget(key); } catch { queue.addRateLimited(key); } finally { queue.done(key); }
 * ```
 */
export function createWorkQueue(options: WorkQueueOptions = {}): WorkQueue {
  const baseDelayMs = options.baseDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 300_000;
  const ratePerSecond = options.ratePerSecond ?? 50;
  const burst = options.burst ?? 300;
  const queue: string[] = [];
  const dirty = new Set<string>();
  const processing = new Set<string>();
  const failures = new Map<string, number>();
  const delayed = new Map<string, { readonly at: number; readonly timer: NodeJS.Timeout }>();
  const waiters: ((key: string | undefined) => void)[] = [];
  let shuttingDown = false;
  let tokens = burst;
  let tokensAt = Date.now();

  const push = (key: string): void => {
    const waiter = waiters.shift();
    if (waiter === undefined) queue.push(key);
    else {
      processing.add(key);
      dirty.delete(key);
      waiter(key);
    }
  };

  const bucketDelay = (): number => {
    const now = Date.now();
    tokens = Math.min(burst, tokens + ((now - tokensAt) / 1000) * ratePerSecond);
    tokensAt = now;
    tokens -= 1;
    return tokens >= 0 ? 0 : (-tokens / ratePerSecond) * 1000;
  };

  const workQueue: WorkQueue = {
    add(key) {
      if (shuttingDown || dirty.has(key)) return;
      dirty.add(key);
      if (!processing.has(key)) push(key);
    },
    addAfter(key, delayMs) {
      if (shuttingDown) return;
      if (delayMs <= 0) {
        workQueue.add(key);
        return;
      }
      const at = Date.now() + delayMs;
      const pending = delayed.get(key);
      if (pending !== undefined) {
        if (pending.at <= at) return;
        clearTimeout(pending.timer);
      }
      const timer = setTimeout(() => {
        delayed.delete(key);
        workQueue.add(key);
      }, delayMs);
      delayed.set(key, { at, timer });
    },
    addRateLimited(key) {
      const attempt = failures.get(key) ?? 0;
      failures.set(key, attempt + 1);
      const itemDelay = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
      workQueue.addAfter(key, Math.max(itemDelay, bucketDelay()));
    },
    forget(key) {
      failures.delete(key);
    },
    retries: (key) => failures.get(key) ?? 0,
    get() {
      const key = queue.shift();
      if (key !== undefined) {
        processing.add(key);
        dirty.delete(key);
        return Promise.resolve(key);
      }
      if (shuttingDown) return Promise.resolve(undefined);
      return new Promise((resolve) => waiters.push(resolve));
    },
    done(key) {
      processing.delete(key);
      if (dirty.has(key)) push(key);
    },
    length: () => queue.length,
    shutDown() {
      shuttingDown = true;
      for (const { timer } of delayed.values()) clearTimeout(timer);
      delayed.clear();
      for (const waiter of waiters.splice(0)) waiter(undefined);
    },
  };
  return workQueue;
}
