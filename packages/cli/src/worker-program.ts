/**
 * `freehold worker`'s options, defaults and checks: one definition for the whole program
 * (program.ts) and for the worker's startup snapshot (worker-snapshot.ts), which differ only in how
 * they load the command's module.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import { parseRetentionSeconds } from "@freehold/handoff";
import type { Command } from "commander";
import type * as WorkerModule from "./commands/worker.ts";
import { port, positiveInteger, type ProgramContext } from "./program-base.ts";

/** Adds `worker` to `program`; `load` gives the module that runs it when the command runs. */
export function registerWorkerCommand(
  program: Command,
  context: ProgramContext,
  load: () => Promise<Pick<typeof WorkerModule, "workerCommand">>,
): void {
  const { output } = context;
  program
    .command("worker")
    .description("run the runtime worker of a rendered configuration (as the operator's Deployments do)")
    .requiredOption("-c, --config <file>", "the runtime configuration (YAML or JSON)")
    .option("--redis-url <url>", "Redis", context.environment.FREEHOLD_REDIS_URL)
    .option("--concurrency <runs>", "runs worked on at once, per agent", "10")
    .option("--lock-duration <seconds>", "how soon the runs of a worker that died resume on another", "30")
    .option(
      "--health-port <port>",
      "serve /healthz and /readyz (probes) and /metrics (Prometheus) on this port",
    )
    .option(
      "--run-retention <period>",
      "how long finished runs keep their state and events: seconds, or 30m, 12h, 7d; 0 keeps them",
      context.environment.FREEHOLD_RUN_RETENTION ?? "7d",
    )
    .option(
      "--max-stalls <count>",
      "how many times workers may die on a run without it making progress before it fails (runtime.stalled)",
      "3",
    )
    .option(
      "--code-root <folder>",
      "where agents' own framework code is (spec.code.module is relative to it); default: the working directory",
      context.environment.FREEHOLD_CODE_ROOT,
    )
    .action(
      async (options: {
        config: string;
        codeRoot?: string;
        redisUrl?: string;
        concurrency: string;
        lockDuration: string;
        healthPort?: string;
        runRetention: string;
        maxStalls: string;
      }) => {
        if (options.redisUrl === undefined) {
          throw new FreeholdError("cli.no-redis", "freehold worker needs --redis-url or FREEHOLD_REDIS_URL");
        }
        const { workerCommand } = await load();
        await workerCommand(
          {
            config: options.config,
            redisUrl: options.redisUrl,
            concurrency: positiveInteger(options.concurrency, "--concurrency"),
            lockDurationMs: positiveInteger(options.lockDuration, "--lock-duration") * 1000,
            runRetentionSeconds: parseRetentionSeconds(options.runRetention, "--run-retention"),
            maxStalls: positiveInteger(options.maxStalls, "--max-stalls"),
            ...(options.healthPort === undefined ? {} : { healthPort: port(options.healthPort) }),
            environment: context.environment,
            ...(context.modelsDirectory === undefined ? {} : { modelsDirectory: context.modelsDirectory }),
            ...(options.codeRoot === undefined ? {} : { codeRoot: options.codeRoot }),
          },
          output,
          context.stopped(),
        );
      },
    );
}
