/**
 * Where a command writes: standard output for results, standard error for progress and errors.
 * Commands take an {@link Output} so tests can capture what they print.
 *
 * @module
 */

import { redactUrls } from "@freehold/api";

/** The streams a command writes to. */
export interface Output {
  /** Results: what a script would pipe on. */
  stdout(text: string): void;
  /** Progress and errors, for people. */
  stderr(text: string): void;
  /** Whether stderr is a terminal (spinners and colour only then). */
  readonly interactive: boolean;
}

/** The process's own streams. */
export function processOutput(): Output {
  return {
    stdout: (text) => process.stdout.write(text),
    // Progress and errors may quote a Redis URL: never its password.
    stderr: (text) => process.stderr.write(redactUrls(text)),
    interactive: process.stderr.isTTY,
  };
}

/** An output that keeps what is written, for tests. */
export function captureOutput(): Output & { readonly out: string[]; readonly err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    interactive: false,
  };
}
