/**
 * `freehold dev <folder>`: runs a folder's agents without Kubernetes until stopped, and prints how
 * to start runs on them.
 *
 * @module
 */
import { startDevEnvironment } from "../dev/dev-environment.ts";
import type { Output } from "../output.ts";

export interface DevOptions {
  readonly directory: string;
  readonly redisUrl?: string;
  readonly dataDirectory?: string;
  readonly cwd: string;
  readonly environment: Readonly<Record<string, string | undefined>>;
  readonly modelsDirectory?: string;
}

/** Starts the environment, waits for `stopped`, then stops it gracefully. */
export async function devCommand(options: DevOptions, output: Output, stopped: Promise<void>): Promise<void> {
  const environment = await startDevEnvironment({
    directory: options.directory,
    cwd: options.cwd,
    environment: options.environment,
    log: (line) => {
      output.stderr(`${line}\n`);
    },
    ...(options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl }),
    ...(options.dataDirectory === undefined ? {} : { dataDirectory: options.dataDirectory }),
    ...(options.modelsDirectory === undefined ? {} : { modelsDirectory: options.modelsDirectory }),
  });
  const [first] = environment.runtimes.flatMap((runtime) => runtime.agents);
  output.stdout(
    `ready. In another terminal:\n` +
      `  export FREEHOLD_REDIS_URL=${environment.redisUrl}\n` +
      `  freehold run ${first?.name ?? "<agent>"}${first?.namespace === "default" ? "" : ` -n ${first?.namespace ?? ""}`} "your question"\n` +
      `Ctrl-C stops (runs in progress go back on their queue).\n`,
  );
  await stopped;
  output.stderr("stopping\n");
  await environment.close();
}
