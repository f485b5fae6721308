/**
 * Worker processes for the crash suites: `freehold worker` children sharing one configuration, with
 * their logs gathered, a count of runs they resumed from a checkpoint, and random SIGKILLs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

const bin = join(import.meta.dirname, "..", "..", "packages", "cli", "src", "bin.ts");

export interface WorkerFleet {
  /** Starts one more worker. */
  start(): ChildProcess;
  /** SIGKILLs a random worker that has been up at least `minUptimeMs` and starts another; false if none was. */
  killOne(minUptimeMs?: number): boolean;
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
}): WorkerFleet {
  const workers = new Map<ChildProcess, number>();
  let log = "";
  let resumed = 0;
  const start = (): ChildProcess => {
    const child = spawn(
      process.execPath,
      [
        bin,
        "worker",
        "--config",
        options.configFile,
        "--redis-url",
        options.redisUrl,
        "--concurrency",
        String(options.concurrency),
        "--lock-duration",
        String(options.lockDurationSeconds),
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    child.stderr.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      resumed += text.match(/resuming at step [1-9]/g)?.length ?? 0;
      log = (log + text).slice(-30_000);
    });
    workers.set(child, Date.now());
    child.once("exit", () => workers.delete(child));
    return child;
  };
  return {
    start,
    killOne(minUptimeMs = 1000) {
      const alive = [...workers]
        .filter(([, since]) => Date.now() - since > minUptimeMs)
        .map(([worker]) => worker);
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
