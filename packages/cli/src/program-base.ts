/**
 * What every command of the `freehold` program shares: its context, its root command, and the
 * parsers of numeric options. The worker's startup snapshot (worker-snapshot.ts) builds a program
 * of the worker command alone from these, without the rest of the CLI.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import { Command } from "commander";
import type { Output } from "./output.ts";

/** What the program needs from its environment. */
export interface ProgramContext {
  readonly output: Output;
  /** The folder relative paths are resolved from. */
  readonly cwd: string;
  /** The process's environment: FREEHOLD_* settings and Secret values (FREEHOLD_SECRET_*). */
  readonly environment: Readonly<Record<string, string | undefined>>;
  /** Resolves when the program should stop (SIGINT, SIGTERM). */
  readonly stopped: () => Promise<void>;
  /** Where fetched GGUF models live. */
  readonly modelsDirectory?: string;
}

export function positiveInteger(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new FreeholdError(
      "cli.invalid-option",
      `${option} must be a whole number above 0, not ${JSON.stringify(text)}`,
    );
  }
  return value;
}

export function port(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    throw new FreeholdError(
      "cli.invalid-option",
      `--port must be a port number (0 to 65535), not ${JSON.stringify(text)}`,
    );
  }
  return value;
}

/** The `freehold` root command, writing its help and errors to `output`; commands are added to it. */
export function rootCommand(output: Output): Command {
  return new Command("freehold")
    .description("Run agents on infrastructure you own.")
    .configureOutput({
      writeOut: (text) => {
        output.stdout(text);
      },
      writeErr: (text) => {
        output.stderr(text);
      },
    })
    .exitOverride()
    .showHelpAfterError();
}
