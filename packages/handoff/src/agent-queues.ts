/**
 * One BullMQ queue per agent, named after it, under the namespace's prefix
 * (`freehold:<ns>:agent:{<ns>.<agent>}`, see keys.ts). A job only says which run to work on; the run's state is in
 * the run store.
 *
 * @module
 */
import { RunJob } from "@freehold/api";
import { Queue } from "bullmq";
import type { RedisClient } from "./redis-client.ts";
import { agentQueueName, agentQueuePrefix } from "./keys.ts";
import type { RedisEffect } from "./redis-effects.ts";
import { withStoreErrors } from "./store-errors.ts";

/** Options of {@link AgentQueues.enqueue}. */
export interface EnqueueOptions {
  /**
   * What distinguishes this enqueue from others of the same run (`start`, a revision): adding the
   * same run with the same key twice adds one job.
   */
  readonly key: string;
  readonly priority?: number;
}

export interface AgentQueues {
  /** Puts the run on the agent's queue (`store.full` when Redis is too full to take it). */
  enqueue(namespace: string, agent: string, runId: string, options: EnqueueOptions): Promise<void>;
  /**
   * {@link AgentQueues.enqueue} as an effect of the checkpoint that leaves the run queued: the job is
   * added in that write, atomically with it, as `Queue.add` would add it (see enqueueLua), and the
   * write needs no dispatch mark. Undefined on a Redis Cluster (the queue's keys are in another slot
   * than the run's: there the worker enqueues after the write) and for a job with a priority.
   */
  enqueueEffect(
    namespace: string,
    agent: string,
    runId: string,
    options: EnqueueOptions,
  ): RedisEffect | undefined;
  /** The BullMQ queue of an agent (created once, then reused). */
  queue(namespace: string, agent: string): Queue;
  /** Waiting + delayed + active jobs of an agent's queue. */
  depth(namespace: string, agent: string): Promise<number>;
  close(): Promise<void>;
}

/** The options of every run's job. */
const jobOptions = {
  // A failed attempt (a server down, Redis gone) resumes from the last checkpoint.
  attempts: 8,
  backoff: { type: "exponential", delay: 1000 },
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 10_000 },
} as const;

/** A job's stored options but its id, which goes after `attempts` (as a Job orders them). */
const { attempts, ...jobOptionsAfterId } = jobOptions;

/**
 * @example
 * ```ts
 * const queues = createAgentQueues(connectRedis(url, { maxRetriesPerRequest: null }));
 * await queues.enqueue("acme", "billing", runId, { key: "start" });
 * ```
 */
export function createAgentQueues(connection: RedisClient): AgentQueues {
  /** Each queue, with the keys an enqueue effect names (made once: a transfer adds a job to it). */
  const queues = new Map<string, { readonly queue: Queue; readonly wait: string; readonly prefix: string }>();
  const entryOf = (namespace: string, agent: string) => {
    const id = `${namespace}/${agent}`;
    let entry = queues.get(id);
    if (entry === undefined) {
      const queue = new Queue(agentQueueName(namespace, agent), {
        connection,
        prefix: agentQueuePrefix(namespace),
      });
      entry = { queue, wait: queue.toKey("wait"), prefix: queue.toKey("") };
      queues.set(id, entry);
    }
    return entry;
  };
  const queueOf = (namespace: string, agent: string): Queue => entryOf(namespace, agent).queue;
  return {
    queue: queueOf,
    async enqueue(namespace, agent, runId, options) {
      const job = RunJob.parse({ schemaVersion: 1, runId, namespace });
      const context = `failed to put run ${namespace}/${runId} on the queue of agent ${agent}`;
      await withStoreErrors(context, () =>
        queueOf(namespace, agent).add("run", job, {
          jobId: `${runId}.${options.key}`,
          ...(options.priority === undefined ? {} : { priority: options.priority }),
          ...jobOptions,
        }),
      );
    },
    enqueueEffect(namespace, agent, runId, options) {
      if (connection.isCluster || options.priority !== undefined) return undefined;
      const { wait, prefix } = entryOf(namespace, agent);
      const jobId = `${runId}.${options.key}`;
      const job: RunJob = { schemaVersion: 1, runId, namespace };
      return {
        op: "enqueue",
        key: wait,
        prefix,
        jobId,
        name: "run",
        timestamp: Date.now(),
        data: JSON.stringify(job),
        // As a Job stores its options: attempts first, then the id and the rest, as given to add().
        opts: { attempts, jobId, ...jobOptionsAfterId },
      };
    },
    async depth(namespace, agent) {
      return queueOf(namespace, agent).getJobCountByTypes("waiting", "delayed", "active", "prioritized");
    },
    async close() {
      await Promise.all([...queues.values()].map(({ queue }) => queue.close()));
      queues.clear();
    },
  };
}
