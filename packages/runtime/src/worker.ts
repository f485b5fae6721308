/**
 * The runtime worker: takes runs from agents' BullMQ queues and works on them with the loop,
 * checkpointing after every step. A worker that dies mid-run loses its job lock; BullMQ hands the job
 * to another worker, which resumes from the last checkpoint. On `close()` (SIGTERM), runs stop at
 * their next step boundary and go back on their queue for another worker.
 *
 * @module
 */
import { FreeholdError, isFreeholdError, isTerminal, redactUrls, RunJob, type RunState } from "@freehold/api";
import {
  agentQueueName,
  agentQueuePrefix,
  createAgentQueues,
  createAgentRegistry,
  createDispatcher,
  createInbox,
  createQuotas,
  clearMarksEffect,
  finish,
  type RedisEffect,
  namespacePrefix,
  watchCancels,
  type Quotas,
  type RunStore,
} from "@freehold/handoff";
import type { Tracer } from "@opentelemetry/api";
import { DelayedError, UnrecoverableError, Worker, type Job } from "bullmq";
import type { RedisClient } from "@freehold/handoff";
import type { Registry } from "prom-client";

import { createRuntimeMetrics, type AgentMetrics } from "./metrics.ts";
import { createHandovers } from "./handovers.ts";
import type { LoopDriver, ResolvedAgent } from "./loop-driver.ts";
import { builtInDriver } from "./run-loop.ts";

/** Options of {@link createRuntimeWorker}. */
export interface RuntimeWorkerOptions {
  /** A connection for BullMQ (`maxRetriesPerRequest: null`); the worker duplicates it as needed. */
  readonly connection: RedisClient;
  readonly store: RunStore;
  /** The agents this worker serves; it consumes each one's queue. */
  readonly agents: readonly ResolvedAgent[];
  /** Runs worked on at once, per agent. Default 10. */
  readonly concurrency?: number;
  /** How long a job's lock lasts without renewal; a dead worker's runs resume after about this long. */
  readonly lockDurationMs?: number;
  /** How often stalled jobs (of dead workers) are looked for. Default: lockDurationMs. */
  readonly stalledIntervalMs?: number;
  readonly tracer?: Tracer;
  /**
   * How often runs a crash left unmoved are dispatched, abandoned claims returned and SLAs checked
   * (one worker of the namespace at a time does it). Default 2000 ms; 0 turns it off.
   */
  readonly sweepIntervalMs?: number;
  /** Progress lines (a run started, ended, failed); default: none. */
  readonly log?: (line: string) => void;
  /** The tenants' quotas (tokens per day, child runs per minute). Default: quotas over `connection`. */
  readonly quotas?: Quotas;
  /**
   * How many times in a row a run's worker may die on it (its job stalls) without the run making
   * progress (a model call or a tool result) before the run fails with `runtime.stalled`: a tool or
   * model that crashes the worker would otherwise take every worker down in turn. Default
   * {@link defaultMaxStalls}.
   */
  readonly maxStalls?: number;
  /**
   * A run taken up by a job that never stalled starts without a write: Redis shows it `queued` until
   * the loop's first write, usually the model's answer. If that takes longer than this, a write marks
   * it running sooner. Default {@link defaultMarkRunningAfterMs}.
   */
  readonly markRunningAfterMs?: number;
  /**
   * Where the worker registers its Prometheus metrics (see metrics.ts): one registry per worker.
   * Default: none kept.
   */
  readonly metrics?: Registry;
  /**
   * Drivers of agents whose `spec.framework` is not the built-in loop (framework adapters), by
   * framework. The built-in loop drives `freehold` agents; an agent whose framework has no driver
   * here fails its runs with `runtime.framework-unavailable`.
   */
  readonly drivers?: readonly LoopDriver[];
}

/** A checkpoint of the run store (the loop's, and the one that starts a run's work on this worker). */
type StoreCheckpoint = (...args: Parameters<RunStore["checkpoint"]>) => Promise<RunState>;

/** How long a run taken up without a write may show `queued` before a write marks it running. */
export const defaultMarkRunningAfterMs = 500;

/**
 * The checkpoint of a run taken up without a write (its job never stalled; the run is running in
 * this worker's memory only): the first write also carries `effects` (the dispatch marks a handover
 * left to clear) and calls `done()` once it succeeded. If the loop has not written within `afterMs`
 * (a slow model call), a write of its own marks the run running, with those effects, so that readers
 * see a worker has it; the loop's writes then follow that one. `stop()` ends the wait.
 */
function firstWriteFolded(
  checkpoint: StoreCheckpoint,
  running: RunState,
  options: { readonly effects: readonly RedisEffect[]; readonly afterMs: number; readonly done: () => void },
): { readonly checkpoint: StoreCheckpoint; stop(): void } {
  const { effects, afterMs, done } = options;
  let first = true;
  let marking: Promise<RunState | undefined> | undefined;
  const timer = setTimeout(() => {
    // A refused mark changes nothing: the loop's own write says why (a cancel, a full Redis).
    marking = checkpoint(running, running, [], { effects }).then(
      (marked) => {
        done();
        return marked;
      },
      () => undefined,
    );
  }, afterMs);
  return {
    stop: () => {
      clearTimeout(timer);
    },
    checkpoint: async (previous, next, events, extra) => {
      if (!first) return checkpoint(previous, next, events, extra);
      clearTimeout(timer);
      const marked = await marking;
      const written =
        marked === undefined
          ? await checkpoint(previous, next, events, {
              ...extra,
              effects: [...(extra?.effects ?? []), ...effects],
            })
          : await checkpoint({ ...previous, revision: marked.revision }, next, events, extra);
      first = false;
      if (marked === undefined) done();
      return written;
    },
  };
}

/** How many stalls without progress fail a run by default. */
export const defaultMaxStalls = 3;

/** What counts as progress of a run between two pickups: model calls and tool results. */
function progressOf(state: RunState): string {
  const results = state.pendingToolCalls.filter((call) => call.status === "done").length;
  return `${state.steps}/${state.messages.length}/${results}`;
}

export interface RuntimeWorker {
  /** Resolves when every queue's consumer is connected and the agents are registered (AgentRegistry). */
  ready(): Promise<void>;
  /** Stops taking runs; runs in progress stop at their next step and go back on their queue. */
  close(): Promise<void>;
}

/**
 * @example
 * ```ts
 * const worker = createRuntimeWorker({ connection, store, agents: [billing] });
 * process.once("SIGTERM", () => void worker.close());
 * ```
 */
export function createRuntimeWorker(options: RuntimeWorkerOptions): RuntimeWorker {
  const shutdown = new AbortController();
  // Cancels pushed to the loops (one subscribed connection, opened with the first run).
  const cancels = watchCancels(options.connection, {
    onError: (error) => {
      log(`cancel notices: ${error.message}`);
    },
  });
  const queues = createAgentQueues(options.connection);
  const dispatcher = createDispatcher({ redis: options.connection, store: options.store, queues });
  const inbox = createInbox({ redis: options.connection, store: options.store, queues });
  const sink = options.log;
  // Errors of Redis clients may quote their URL: its credentials never reach the log. No sink, no
  // work: a line nobody reads is not redacted on every run's step.
  const log =
    sink === undefined
      ? (): void => undefined
      : (line: string): void => {
          sink(redactUrls(line));
        };
  const lockDuration = options.lockDurationMs ?? 30_000;
  const maxStalls = options.maxStalls ?? defaultMaxStalls;
  const markRunningAfterMs = options.markRunningAfterMs ?? defaultMarkRunningAfterMs;
  // Longer than any run waits between two pickups; the key goes with the run when it ends.
  const pickupsTtlSeconds = 7 * 24 * 3600;
  const quotas = options.quotas ?? createQuotas(options.connection);
  const drivers = new Map<string, LoopDriver>(
    [builtInDriver, ...(options.drivers ?? [])].map((driver) => [driver.framework, driver]),
  );
  const metrics =
    options.metrics === undefined
      ? undefined
      : createRuntimeMetrics(options.metrics, {
          redis: options.connection,
          queues,
          agents: options.agents,
          log,
        });
  /** The states written with their run's job added in the same write (see AgentQueues.enqueueEffect). */
  const enqueued = new WeakSet<RunState>();
  /**
   * The store's checkpoint; a write that leaves the run queued (a transfer) also adds its job, where
   * the connection allows (one Redis, not a cluster): the run is never queued without its job, and
   * the worker has nothing to dispatch after it. The job's id is the write's revision: a loop writes
   * a queued run once (a transfer ends its work on the run), so a run gets one job per transfer.
   */
  const storeCheckpoint: StoreCheckpoint = async (previous, next, events, extra) => {
    const job =
      next.status === "queued"
        ? queues.enqueueEffect(next.namespace, next.agent, next.id, { key: `r${previous.revision + 1}` })
        : undefined;
    if (job === undefined) return options.store.checkpoint(previous, next, events, extra);
    const written = await options.store.checkpoint(previous, next, events, {
      ...extra,
      effects: [...(extra?.effects ?? []), job],
    });
    enqueued.add(written);
    return written;
  };
  /** Each agent's checkpoint: the store's, then what it wrote counted in the agent's metrics. */
  const checkpointOf = (agentMetrics: AgentMetrics | undefined): StoreCheckpoint =>
    agentMetrics === undefined
      ? storeCheckpoint
      : async (previous, next, events, extra) => {
          const written = await storeCheckpoint(previous, next, events, extra);
          agentMetrics.observeCheckpoint(previous, events);
          return written;
        };
  const checkpoints = new Map(options.agents.map((agent) => [agent, checkpointOf(metrics?.forAgent(agent))]));
  const handovers = createHandovers(dispatcher, log);
  const served = new Set(options.agents.map((agent) => `${agent.namespace}/${agent.name}`));

  const process = async (agent: ResolvedAgent, job: Job, token: string | undefined): Promise<string> => {
    const parsed = RunJob.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`job ${job.id} is not a run job: ${parsed.error.message}`);
    const { runId, namespace } = parsed.data;
    const handed = handovers.take(namespace, runId);
    /** Marks left for this job's pickup to clear (made by the transfer that queued it, here). */
    let markedBy = handed?.markedBy;
    try {
      // Remembered as queued for this agent by the write this job was queued after (its id carries the
      // revision), or read: no decision below rests on an unchecked or older state.
      const remembered =
        handed?.state.agent === agent.name &&
        handed.state.status === "queued" &&
        job.id === `${runId}.r${handed.state.revision}`
          ? handed.state
          : undefined;
      return await pickUp(agent, job, token, { namespace, runId, remembered, markedBy }, () => {
        markedBy = undefined;
      });
    } finally {
      if (markedBy !== undefined) await handovers.clearMarks(namespace, runId, markedBy);
    }
  };

  /**
   * Reads the run (or starts from the state remembered), checks it is this agent's to work on, and
   * starts the loop on it. A job that never stalled starts at once: the run is running in this
   * worker's memory, and its first write (usually the model's answer) marks it running in Redis and
   * clears the marks made by `markedBy`. A job that stalled (a worker died holding it) starts with a
   * write that counts the deaths on the run (see RunPickup), fails the run after `maxStalls` in a row
   * without progress, and clears those marks. `cleared()` is called once the marks are cleared.
   */
  const pickUp = async (
    agent: ResolvedAgent,
    job: Job,
    token: string | undefined,
    run: {
      readonly namespace: string;
      readonly runId: string;
      readonly remembered: RunState | undefined;
      readonly markedBy: number | undefined;
    },
    cleared: () => void,
  ): Promise<string> => {
    const { namespace, runId, remembered, markedBy } = run;
    const stored = checkpoints.get(agent) ?? checkpointOf(undefined);
    const clearMarks = markedBy === undefined ? [] : [clearMarksEffect(namespace, runId, markedBy)];
    let start = remembered;
    for (let attempt = 1; ; attempt += 1) {
      const state = start ?? (await options.store.get(namespace, runId));
      if (state === undefined) throw new UnrecoverableError(`run ${namespace}/${runId} does not exist`);
      if (isTerminal(state.status)) return state.status;
      if (state.agent !== agent.name) return `moved to ${state.agent}`;
      if (state.status.startsWith("waiting_")) return state.status;
      const running: RunState = { ...state, status: "running" };
      if (job.stalledCounter === 0) {
        logPickup(runId, state, agent);
        const folded = firstWriteFolded(stored, running, {
          effects: clearMarks,
          afterMs: markRunningAfterMs,
          done: cleared,
        });
        try {
          return await work(agent, job, token, running, folded.checkpoint, 0);
        } finally {
          folded.stop();
        }
      }
      let started: RunState;
      try {
        started = await stored(state, running, [], {
          pickup: {
            progress: progressOf(state),
            job: job.id ?? "",
            jobStalls: job.stalledCounter,
            maxStalls,
            ttlSeconds: pickupsTtlSeconds,
          },
          effects: clearMarks,
        });
        cleared();
      } catch (error) {
        // Changed since it was read (or remembered): read it again.
        if (isFreeholdError(error, "run.conflict") && attempt < 3) {
          start = undefined;
          continue;
        }
        if (isFreeholdError(error, "run.conflict")) return "released";
        if (!isFreeholdError(error, "run.stalled")) return retryOrFail(job, state, stored, error);
        const stalls = Number(error.details?.["stalls"] ?? maxStalls);
        log(`run ${runId}: its worker died ${stalls} times without progress; failing it`);
        await failRun(stored, state, {
          code: "runtime.stalled",
          message:
            `the workers of agent ${agent.name} died ${stalls} times while working on this run without it making progress ` +
            `(at step ${state.steps}); check the worker logs for a tool or model that crashes the worker (out of memory, a native crash) ` +
            `and the pod's restarts, then start the run again`,
        });
        if (state.parent !== undefined) await dispatcher.dispatch(namespace, state.parent.runId);
        return "failed";
      }
      logPickup(runId, state, agent);
      return await work(agent, job, token, started, stored, 0);
    }
  };

  const logPickup = (runId: string, state: RunState, agent: ResolvedAgent): void => {
    log(
      `run ${runId}: ${state.revision === 0 ? "starting" : `resuming at step ${state.steps}`} on ${agent.name}`,
    );
  };

  /**
   * A worker lets go of a run alive, back on its queue (stopping, or an attempt to retry): none of its
   * job's stalls so far is a death at the run's progress (see RunPickup). A failure is logged: the
   * count may then take an earlier stall for a death.
   */
  const letGo = async (job: Job, state: RunState): Promise<void> => {
    try {
      await options.store.letGo(state.namespace, state.id, {
        progress: progressOf(state),
        job: job.id ?? "",
        jobStalls: job.stalledCounter,
        ttlSeconds: pickupsTtlSeconds,
      });
    } catch (error) {
      log(
        `run ${state.id}: failed to record that its worker let go of it: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  };

  const work = async (
    agent: ResolvedAgent,
    job: Job,
    token: string | undefined,
    state: RunState,
    checkpoint: StoreCheckpoint,
    /** How many times Redis lost this worker's writes to the run (see run.conflict below). */
    rewinds: number,
  ): Promise<string> => {
    const { id: runId, namespace } = state;
    const driver = drivers.get(agent.spec.framework);
    if (driver === undefined) {
      await failRun(checkpoint, state, {
        code: "runtime.framework-unavailable",
        message: `agent ${agent.name} asks for framework ${agent.spec.framework}, which this worker cannot drive (it drives ${[...drivers.keys()].join(", ")}); install the framework's adapter in the worker's image, or set spec.framework to freehold`,
      });
      return "failed";
    }
    if (agent.spec.code !== undefined && driver.runsCode !== true) {
      await failRun(checkpoint, state, {
        code: "runtime.native-unsupported",
        message: `agent ${agent.name} is framework code (spec.code), which this worker's ${agent.spec.framework} adapter cannot run; update the adapter in the worker's image, or remove spec.code to run the agent declaratively`,
      });
      return "failed";
    }
    try {
      const outcome = await driver.run(state, {
        agent,
        checkpoint,
        signal: shutdown.signal,
        quotas,
        redis: options.connection,
        cancelNotices: {
          live: () => cancels.live(namespace),
          cancelled: () => cancels.cancelled(namespace, runId),
        },
        ...(options.tracer === undefined ? {} : { tracer: options.tracer }),
      });
      if (outcome.kind === "interrupted") {
        log(`run ${runId}: interrupted at step ${outcome.state.steps}; back on the queue`);
        await letGo(job, outcome.state);
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      if (outcome.kind === "moved") {
        log(`run ${runId}: transferred to ${outcome.state.agent}`);
        const serves = served.has(`${namespace}/${outcome.state.agent}`);
        if (enqueued.has(outcome.state)) {
          if (serves) await handovers.remember(outcome.state);
        } else if (serves) {
          await handovers.dispatch(outcome.state);
        } else {
          await dispatcher.dispatchQueued(outcome.state);
        }
        return `moved to ${outcome.state.agent}`;
      }
      if (outcome.kind === "suspended") {
        log(`run ${runId}: ${outcome.state.status}`);
        const waiting = outcome.state.waiting;
        if (waiting?.kind === "agent") {
          for (const child of waiting.childRunIds) await dispatcher.dispatch(namespace, child);
        }
        return outcome.state.status;
      }
      log(`run ${runId}: ${outcome.state.status} after ${outcome.state.steps} steps`);
      // A child run's answer goes to its waiting parent at once (the sweeper would, later).
      if (outcome.state.parent !== undefined)
        await dispatcher.dispatch(namespace, outcome.state.parent.runId);
      return outcome.state.status;
    } catch (error) {
      if (error instanceof DelayedError) throw error;
      if (error instanceof FreeholdError && error.code === "run.conflict") {
        // Cancelled, or taken over by another worker after this one stalled: not ours any more;
        // unless Redis went back in time (a crash lost its last acknowledged writes: appendfsync
        // everysec), leaving the run below the revision this worker wrote, still this agent's to work.
        const held = error.details?.["revision"];
        const latest = await options.store.get(namespace, runId);
        if (
          typeof held === "number" &&
          latest !== undefined &&
          latest.revision < held &&
          latest.agent === agent.name &&
          !isTerminal(latest.status) &&
          !latest.status.startsWith("waiting_") &&
          rewinds < 3
        ) {
          log(
            `run ${runId}: RedisClient lost writes back to revision ${latest.revision}; resuming at step ${latest.steps} on ${agent.name}`,
          );
          return work(agent, job, token, latest, checkpoint, rewinds + 1);
        }
        return "released";
      }
      return retryOrFail(job, state, checkpoint, error);
    }
  };

  /** An attempt failed: BullMQ retries it if it may, else the run fails with the error. */
  const retryOrFail = async (
    job: Job,
    state: RunState,
    checkpoint: StoreCheckpoint,
    error: unknown,
  ): Promise<never> => {
    const { id: runId, namespace } = state;
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const retryable = !(error instanceof FreeholdError) || error.retryable;
    if (retryable && !lastAttempt) {
      log(`run ${runId}: attempt ${job.attemptsMade + 1} failed (${(error as Error).message}); retrying`);
      await letGo(job, state);
      throw error;
    }
    const latest = await options.store.require(namespace, runId);
    if (!isTerminal(latest.status)) {
      await failRun(checkpoint, latest, {
        code: error instanceof FreeholdError ? error.code : "runtime.internal",
        message: error instanceof Error ? error.message : String(error),
      });
    }
    throw new UnrecoverableError(error instanceof Error ? error.message : String(error));
  };

  const failRun = async (
    checkpoint: StoreCheckpoint,
    state: RunState,
    error: { code: string; message: string },
  ): Promise<void> => {
    const { state: next, events } = finish(state, "failed", new Date(), { error });
    await checkpoint(state, next, events);
  };

  const workers = options.agents.map(
    (agent) =>
      new Worker(agentQueueName(agent.namespace, agent.name), (job, token) => process(agent, job, token), {
        connection: options.connection,
        prefix: agentQueuePrefix(agent.namespace),
        concurrency: options.concurrency ?? 10,
        lockDuration,
        stalledInterval: options.stalledIntervalMs ?? lockDuration,
        // A run resumes safely from its checkpoint, however often its worker died.
        maxStalledCount: 1_000,
        autorun: true,
      }),
  );
  for (const worker of workers) {
    worker.on("failed", (job, error) => {
      log(`run job ${job?.id ?? "?"} failed: ${error.message}`);
    });
    worker.on("error", (error) => {
      log(`worker error: ${error.message}`);
    });
  }

  const registry = createAgentRegistry(options.connection);

  // One sweeper per namespace at a time: whoever takes the lock for this interval.
  const namespaces = [...new Set(options.agents.map((agent) => agent.namespace))];
  const sweepIntervalMs = options.sweepIntervalMs ?? 2000;
  const sweep = async (): Promise<void> => {
    for (const namespace of namespaces) {
      const lock = await options.connection.set(
        `${namespacePrefix(namespace)}:sweeper`,
        "1",
        "PX",
        sweepIntervalMs,
        "NX",
      );
      if (lock === null) continue;
      const known = options.agents.find((agent) => agent.namespace === namespace)?.humanQueues;
      const humanQueues = [...(known ?? [])].map(([name, spec]) => ({ name, spec }));
      await dispatcher.sweep(namespace);
      await inbox.sweep(namespace, humanQueues);
    }
  };
  const sweeper =
    sweepIntervalMs > 0
      ? setInterval(() => {
          sweep().catch((error: unknown) => {
            log(`sweep failed: ${error instanceof Error ? error.message : String(error)}`);
          });
        }, sweepIntervalMs)
      : undefined;
  sweeper?.unref();
  return {
    async ready() {
      await Promise.all([
        ...workers.map((worker) => worker.waitUntilReady()),
        cancels.watch(options.agents.map((agent) => agent.namespace)),
      ]);
      for (const agent of options.agents) {
        await registry.register(agent.namespace, {
          name: agent.name,
          description: agent.spec.description,
          a2a: agent.spec.a2a?.enabled === true,
        });
      }
    },
    async close() {
      shutdown.abort();
      clearInterval(sweeper);
      await Promise.all(workers.map((worker) => worker.close()));
      await handovers.close();
      await queues.close();
      await cancels.close();
    },
  };
}
