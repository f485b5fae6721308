/**
 * What `freehold` does with its arguments, for the whole program (bin.ts) and for the worker's
 * startup snapshot (worker-snapshot.ts): runs the program with the process's arguments and turns
 * errors into one clear line and an exit code (never a stack trace for a user's mistake).
 *
 * Mastra's usage telemetry (PostHog, in `@mastra/core`) is switched off for the whole process, before
 * any adapter loads: `MASTRA_TELEMETRY_DISABLED` is its only switch. The Mastra adapter's path never
 * reaches it (it runs an `Agent` outside a `Mastra` instance); this keeps it so.
 *
 * @module
 */
import { isFreeholdError } from "@freehold/api";
import { CommanderError, type Command } from "commander";
import { homedir } from "node:os";
import { join } from "node:path";
import { processOutput } from "./output.ts";
import type { ProgramContext } from "./program-base.ts";

/** Runs the program `create` builds with `args` (the process's, after the script); sets the exit code. */
export async function runMain(
  create: (context: ProgramContext) => Command,
  args: readonly string[],
): Promise<void> {
  const output = processOutput();
  const environment = process.env;
  environment.MASTRA_TELEMETRY_DISABLED = "1";
  const cacheDirectory = environment.FREEHOLD_CACHE_DIR ?? join(homedir(), ".cache", "freehold");
  /**
   * SIGINT and SIGTERM, for a command that stops gracefully (a worker, the gateway, `dev`, `run`): the
   * first resolves `stopped()`, a second ends the process at once. The handlers, installed when a
   * command first waits, stay: a library that ends the process from its own handler when it is the
   * only one (the OpenAI Agents SDK's tracing does) leaves the shutdown to the command.
   */
  let stopSignal: Promise<void> | undefined;
  const stopped = (): Promise<void> =>
    (stopSignal ??= new Promise((resolve) => {
      let signalled = false;
      const onSignal = (signal: NodeJS.Signals): void => {
        if (signalled) process.exit(signal === "SIGINT" ? 130 : 143);
        signalled = true;
        resolve();
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
    }));
  try {
    await create({
      output,
      cwd: process.cwd(),
      environment,
      stopped,
      modelsDirectory: environment.FREEHOLD_MODELS_DIR ?? join(cacheDirectory, "models"),
    }).parseAsync(args, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
    } else if (isFreeholdError(error)) {
      output.stderr(`error: ${error.message} (${error.code})\n`);
      // Stopped by Ctrl-C: the shell's code for a program ended by SIGINT.
      const { interruptedCode } = await import("./interrupted.ts");
      process.exitCode = error.code === interruptedCode ? 130 : 1;
    } else {
      throw error;
    }
  }
}
