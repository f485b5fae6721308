#!/usr/bin/env node
/**
 * The `freehold` executable: runs the program with the process's arguments and turns errors into
 * one clear line and an exit code (never a stack trace for a user's mistake).
 */
import { isFreeholdError } from "@freehold/api";
import { CommanderError } from "commander";
import { processOutput } from "./output.ts";
import { createProgram } from "./program.ts";

const output = processOutput();
try {
  await createProgram({ output, cwd: process.cwd() }).parseAsync(process.argv.slice(2), { from: "user" });
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
