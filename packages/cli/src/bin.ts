#!/usr/bin/env node
/**
 * The `freehold` executable: runs the program with the process's arguments and turns errors into
 * one clear line and an exit code (never a stack trace for a user's mistake).
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { isFreeholdError } from "@freehold/api";
import { CommanderError } from "commander";
import { processOutput } from "./output.ts";
import { createProgram } from "./program.ts";

const output = processOutput();
const environment = process.env;
const cacheDirectory = environment.FREEHOLD_CACHE_DIR ?? join(homedir(), ".cache", "freehold");
const stopped = (): Promise<void> =>
  new Promise((resolve) => {
    process.once("SIGINT", () => {
      resolve();
    });
    process.once("SIGTERM", () => {
      resolve();
    });
  });
try {
  await createProgram({
    output,
    cwd: process.cwd(),
    environment,
    stopped,
    modelsDirectory: environment.FREEHOLD_MODELS_DIR ?? join(cacheDirectory, "models"),
  }).parseAsync(process.argv.slice(2), { from: "user" });
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else if (isFreeholdError(error)) {
    output.stderr(`error: ${error.message} (${error.code})\n`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
