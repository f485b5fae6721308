/**
 * Helpers of the integration suites: where the fixtures are, how to start the stdio counter, and
 * waiting for a condition (polling with a deadline, never asserting how long it took).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { setTimeout as delay } from "node:timers/promises";
import { FreeholdError } from "@freehold/api";
import type { StdioMcpConnection } from "../src/index.ts";

/** The counter fixture server. */
export const counterServerPath = fileURLToPath(
  new URL("../../../test/fixtures/mcp/counter-server.ts", import.meta.url),
);
/** The npx-style wrapper fixture. */
export const spawnWrapperPath = fileURLToPath(
  new URL("../../../test/fixtures/mcp/spawn-wrapper.ts", import.meta.url),
);

/** A stdio connection to the counter fixture, run with this project's node. */
export function stdioCounter(args: readonly string[] = [], env?: Record<string, string>): StdioMcpConnection {
  return {
    transport: "stdio",
    command: process.execPath,
    args: [counterServerPath, "--stdio", ...args],
    ...(env === undefined ? {} : { env }),
  };
}

/** The `bin` script of a published MCP server installed in the test workspace package. */
export function publishedServerBin(name: string): string {
  const directory = new URL(`../../../test/node_modules/${name}/`, import.meta.url);
  const manifest = JSON.parse(readFileSync(new URL("package.json", directory), "utf8")) as {
    bin: string | Record<string, string>;
  };
  const bin = typeof manifest.bin === "string" ? manifest.bin : Object.values(manifest.bin)[0];
  if (bin === undefined) throw new Error(`${name} has no bin`);
  return fileURLToPath(new URL(bin, directory));
}

/** True while the process exists and is not a zombie waiting to be reaped. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  description: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${description}`, { cause: last });
    }
    await delay(50);
  }
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** The text of the first text block of a tool result. */
export function firstText(result: {
  content: readonly { type: string; text?: string }[];
}): string | undefined {
  return result.content.find((block) => block.type === "text")?.text;
}

/** The error a promise rejects with, which must be a `FreeholdError`. */
export async function rejection(promise: Promise<unknown>): Promise<FreeholdError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FreeholdError) return error;
    throw new Error("expected a FreeholdError", { cause: error });
  }
  throw new Error("expected the promise to reject");
}
