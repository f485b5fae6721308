/**
 * A controller: a work queue of `namespace/name` keys and workers that take keys from it and
 * reconcile them, one key at a time per key. A failure is logged and the key retried with backoff;
 * a result may ask to look again after a while.
 *
 * @module
 */
import type { OperatorMetrics } from "./metrics.ts";
import type { Reconcile } from "./reconcile-parts.ts";
import { createWorkQueue, type WorkQueue, type WorkQueueOptions } from "./work-queue.ts";

/** Options of {@link createController}. */
export interface ControllerOptions {
  /** The kind reconciled, for logs and metrics: `Agent`. */
  readonly kind: string;
  readonly reconcile: Reconcile;
  /** How many keys are reconciled at once. Default: 4. */
  readonly workers?: number;
  readonly queue?: WorkQueueOptions;
  readonly metrics: OperatorMetrics;
  readonly log: (line: string) => void;
}

/** A running controller. */
export interface Controller {
  readonly kind: string;
  readonly queue: WorkQueue;
  /** Starts the workers. */
  start(): void;
  /** Stops handing out keys and waits for the reconciles in progress. */
  stop(): Promise<void>;
}

/**
 * @example
 * ```ts
 * const controller = createController({ kind: "Agent", reconcile: createAgentReconciler(parts), metrics, log });
 * controller.start();
 * controller.queue.add("acme/billing");
 * ```
 */
export function createController(options: ControllerOptions): Controller {
  const queue = createWorkQueue(options.queue);
  const running: Promise<void>[] = [];
  options.metrics.trackQueueDepth(options.kind, () => queue.length());

  const work = async (): Promise<void> => {
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
      const started = performance.now();
      try {
        const result = await options.reconcile(key);
        queue.forget(key);
        if (result.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
        options.metrics.observeReconcile(
          options.kind,
          result.requeueAfterMs === undefined ? "success" : "requeue",
          (performance.now() - started) / 1000,
        );
      } catch (error) {
        options.metrics.observeReconcile(options.kind, "error", (performance.now() - started) / 1000);
        options.log(
          `reconcile ${options.kind} ${key} failed (attempt ${queue.retries(key) + 1}): ${error instanceof Error ? error.message : String(error)}`,
        );
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  };

  return {
    kind: options.kind,
    queue,
    start() {
      for (let index = 0; index < (options.workers ?? 4); index += 1) running.push(work());
    },
    async stop() {
      queue.shutDown();
      await Promise.all(running.splice(0));
    },
  };
}
