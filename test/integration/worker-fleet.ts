/**
 * Worker processes for the crash suites: `freehold worker` children sharing one configuration, with
 * their logs gathered, a count of runs they resumed from a checkpoint, and random SIGKILLs of workers
 * that are working on a run (read from their logs: a run is theirs from `starting`/`resuming` until
 * any other line about it), so a kill always lands mid-run, however slowly workers start. Also the
 * two halves of a crash suite around its chaos: {@link startRuns} and {@link waitForRunsToEnd}.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { FreeholdError, isTerminal, type RunState } from "@freehold/api";
import { startRun, type AgentQueues, type RunStore } from "@freehold/handoff";
import type { RedisClient } from "@freehold/handoff";
import { cliBundle, imageCommand, imageCommandEnvironment } from "../../packages/cli/scripts/build.ts";

// Workers start as the runtime image starts them: its `freehold` script, which starts a worker from
// its startup snapshot (built with the bundle by test/build-setup.ts). `from: "bundle"` starts them
// from the bundle's modules instead.

export interface WorkerFleet {
  /** Starts one more worker, with `environment` over this process's variables. */
  start(environment?: Readonly<Record<string, string>>): ChildProcess;
  /**
   * SIGKILLs a random worker that is working on a run and starts another; false if none is. With
   * `anyUpForMs`, any worker up that long (working on a run or not).
   */
  killOne(anyUpForMs?: number): boolean;
  /** SIGKILLs every worker. */
  killAll(): void;
  /** The last lines the workers wrote. */
  log(): string;
  /** Clears the log. */
  clearLog(): void;
  /** How many times a worker resumed a run from a checkpoint past its first step. */
  resumed(): number;
}

export function createWorkerFleet(options: {
  readonly configFile: string;
  readonly redisUrl: string;
  readonly concurrency: number;
  readonly lockDurationSeconds: number;
  /**
   * The workers' `--max-stalls`. Default 1,000: the crash suites kill workers mid-run far more
   * often than reality (the same run may lose its worker several times before its next step), and
   * a run failed as stalled would count as lost; the stall suite passes 3, the workers' default.
   */
  readonly maxStalls?: number;
  /** The workers' `--code-root`: where agents' framework code (`spec.code`) is. */
  readonly codeRoot?: string;
  /** How workers start: as the runtime image starts them (default), or from the bundle's modules. */
  readonly from?: "image" | "bundle";
}): WorkerFleet {
  /** Each worker, with the runs it is working on and the part of a log line not ended yet. */
  const workers = new Map<ChildProcess, { runs: Set<string>; partial: string; since: number }>();
  let log = "";
  let resumed = 0;
  const start = (environment?: Readonly<Record<string, string>>): ChildProcess => {
    const fromBundle = options.from === "bundle";
    const child = spawn(
      fromBundle ? process.execPath : imageCommand,
      [
        ...(fromBundle ? [cliBundle] : []),
        "worker",
        "--config",
        options.configFile,
        "--redis-url",
        options.redisUrl,
        "--concurrency",
        String(options.concurrency),
        "--lock-duration",
        String(options.lockDurationSeconds),
        "--max-stalls",
        String(options.maxStalls ?? 1_000),
        ...(options.codeRoot === undefined ? [] : ["--code-root", options.codeRoot]),
      ],
      { stdio: ["ignore", "ignore", "pipe"], env: { ...imageCommandEnvironment(), ...environment } },
    );
    child.stderr.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      resumed += text.match(/resuming at step [1-9]/g)?.length ?? 0;
      log = (log + text).slice(-30_000);
      const worker = workers.get(child);
      if (worker === undefined) return;
      const lines = (worker.partial + text).split("\n");
      worker.partial = lines.pop() ?? "";
      for (const line of lines) {
        const match = /^run ([0-9a-f-]+): (\S+)/.exec(line);
        if (match === null) continue;
        const [, runId = "", what] = match;
        if (what === "starting" || what === "resuming") worker.runs.add(runId);
        else worker.runs.delete(runId);
      }
    });
    workers.set(child, { runs: new Set(), partial: "", since: Date.now() });
    child.once("exit", () => workers.delete(child));
    return child;
  };
  return {
    start,
    killOne(anyUpForMs) {
      // A worker signalled already whose exit has not come yet is not killed again.
      const alive = [...workers]
        .filter(([child]) => !child.killed)
        .filter(([, worker]) =>
          anyUpForMs === undefined ? worker.runs.size > 0 : Date.now() - worker.since > anyUpForMs,
        )
        .map(([child]) => child);
      const victim = alive[Math.floor(Math.random() * alive.length)];
      if (victim === undefined) return false;
      victim.kill("SIGKILL");
      start();
      return true;
    },
    killAll() {
      for (const worker of workers.keys()) worker.kill("SIGKILL");
    },
    log: () => log,
    clearLog() {
      log = "";
    },
    resumed: () => resumed,
  };
}

/** Starts `count` runs of `agent`, one after another; returns their ids in order. */
export async function startRuns(
  parts: { readonly redis: RedisClient; readonly store: RunStore; readonly queues: AgentQueues },
  options: {
    readonly namespace: string;
    readonly agent: string;
    readonly count: number;
    readonly input: (index: number) => string;
  },
): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < options.count; index += 1) {
    const run = await startRun(parts, {
      namespace: options.namespace,
      agent: options.agent,
      input: options.input(index),
    });
    ids.push(run.id);
  }
  return ids;
}

/**
 * Reads the runs until every one has ended, calling `between` (the chaos: kills, people, a pause)
 * after each read that finds some still going, with how many have ended. Throws with the fleet's log
 * once `timeoutMs` have passed. Reads go through `attempt` (default: called once), e.g. to retry
 * through a Redis restart.
 */
export async function waitForRunsToEnd(options: {
  readonly store: RunStore;
  readonly namespace: string;
  readonly ids: readonly string[];
  readonly fleet: WorkerFleet;
  readonly timeoutMs: number;
  readonly between: (finished: number) => Promise<void>;
  readonly attempt?: <T>(action: () => Promise<T>) => Promise<T>;
}): Promise<void> {
  const { store, namespace, ids } = options;
  const attempt: <T>(action: () => Promise<T>) => Promise<T> = options.attempt ?? ((action) => action());
  const started = Date.now();
  for (;;) {
    const states = await attempt(() => Promise.all(ids.map((id) => store.require(namespace, id))));
    const finished = states.filter((state) => isTerminal(state.status)).length;
    if (finished === ids.length) return;
    if (Date.now() - started > options.timeoutMs)
      throw new Error(
        `only ${finished} of ${ids.length} runs ended; not ended: ${states
          .filter((state) => !isTerminal(state.status))
          .slice(0, 10)
          .map((state) => `${state.id} ${state.status} at step ${state.steps} (revision ${state.revision})`)
          .join(", ")}; worker log:\n${options.fleet.log()}`,
      );
    await options.between(finished);
  }
}

/**
 * Waits for the runs to end while killing, every `pauseMs` plus up to `spreadMs` (random), a random
 * worker that is working on a run (and starting a fresh one), at most `maxKills` times. Returns how
 * many workers it killed.
 */
export async function runThroughKills(options: {
  readonly store: RunStore;
  readonly namespace: string;
  readonly ids: readonly string[];
  readonly fleet: WorkerFleet;
  readonly timeoutMs: number;
  readonly maxKills: number;
  readonly pauseMs: number;
  readonly spreadMs: number;
}): Promise<number> {
  let kills = 0;
  await waitForRunsToEnd({
    ...options,
    async between() {
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs + Math.random() * options.spreadMs));
      if (kills < options.maxKills && options.fleet.killOne()) kills += 1;
    },
  });
  return kills;
}

/** Retries an action through a Redis restart or crash (not a FreeholdError: that is an answer), up to ~10 s. */
export async function retrying<T>(action: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await action();
    } catch (error) {
      if (error instanceof FreeholdError || attempt > 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** What {@link crashRuns} did: the fleet (to kill in `finally`), the runs, the kills, the runs' states. */
export interface CrashedRuns {
  readonly fleet: WorkerFleet;
  readonly ids: readonly string[];
  readonly kills: number;
  readonly states: readonly RunState[];
}

/**
 * The crash suites' shape: two worker processes (concurrency 3, 2 s locks) on `configFile`, `count`
 * runs of `agent` started, a random working worker SIGKILLed every 300-800 ms (at most `maxKills`,
 * each replaced) until every run ended; then the runs' states. The caller kills the fleet when done.
 */
export async function crashRuns(options: {
  readonly redisUrl: string;
  readonly parts: { readonly redis: RedisClient; readonly store: RunStore; readonly queues: AgentQueues };
  readonly configFile: string;
  readonly codeRoot?: string;
  readonly namespace: string;
  readonly agent: string;
  readonly count: number;
  readonly maxKills: number;
}): Promise<CrashedRuns> {
  const { parts, namespace } = options;
  const fleet = createWorkerFleet({
    configFile: options.configFile,
    redisUrl: options.redisUrl,
    concurrency: 3,
    lockDurationSeconds: 2,
    ...(options.codeRoot === undefined ? {} : { codeRoot: options.codeRoot }),
  });
  try {
    fleet.start();
    fleet.start();
    const ids = await startRuns(parts, {
      namespace,
      agent: options.agent,
      count: options.count,
      input: (index) => `run ${index}`,
    });
    const kills = await runThroughKills({
      store: parts.store,
      namespace,
      ids,
      fleet,
      timeoutMs: 150_000,
      maxKills: options.maxKills,
      pauseMs: 300,
      spreadMs: 500,
    });
    const states = await Promise.all(ids.map((id) => parts.store.require(namespace, id)));
    return { fleet, ids, kills, states };
  } catch (error) {
    fleet.killAll();
    throw error;
  }
}
