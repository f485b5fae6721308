/**
 * Shared by the worker benchmarks: a runtime configuration for one agent on the scripted model and
 * the counter MCP server, and a `freehold worker` child process to measure, started from the bundle
 * (`packages/cli/bundle`, built by packages/cli/scripts/build.ts) as the runtime image starts it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RuntimeConfig } from "@freehold/api";
import { buildCli, cliBundle } from "../packages/cli/scripts/build.ts";

const bin = cliBundle;

/** Builds the bundle the workers start from when a source changed since the last build. */
export async function ensureBundle(): Promise<void> {
  const build = await buildCli();
  if (build.built) process.stderr.write(`built ${build.directory} in ${Math.round(build.milliseconds)} ms\n`);
}

/**
 * A runtime configuration for the agent `adder` (spec.limits as given) in namespace `bench`, which
 * may hand a conversation to the human queue `support` (its model gets `transfer_to_human_support`).
 */
export function benchConfig(
  modelBaseUrl: string,
  mcpUrl: string,
  limits: Record<string, number> = {},
): RuntimeConfig {
  const namespace = "bench";
  return RuntimeConfig.parse({
    schemaVersion: 1,
    namespace,
    agents: [
      {
        apiVersion: "freehold.dev/v1alpha1",
        kind: "Agent",
        metadata: { name: "adder", namespace },
        spec: {
          model: { ref: "scripted" },
          instructions: "Add.",
          tools: [{ mcpServer: "counter", allow: ["add"] }],
          handoffs: [{ humanQueue: "support" }],
          limits,
        },
      },
    ],
    models: [
      {
        apiVersion: "freehold.dev/v1alpha1",
        kind: "Model",
        metadata: { name: "scripted", namespace },
        spec: { provider: "openai-compatible", model: "scripted-model", baseUrl: modelBaseUrl },
      },
    ],
    humanQueues: [
      {
        apiVersion: "freehold.dev/v1alpha1",
        kind: "HumanQueue",
        metadata: { name: "support", namespace },
        spec: { description: "People who answer what the agent cannot." },
      },
    ],
    mcpServers: [
      {
        apiVersion: "freehold.dev/v1alpha1",
        kind: "MCPServer",
        metadata: { name: "counter", namespace },
        spec: { http: { url: mcpUrl } },
      },
    ],
  });
}

/** Writes a runtime configuration file and returns its path. */
export function writeConfig(modelBaseUrl: string, mcpUrl: string): string {
  const config = benchConfig(modelBaseUrl, mcpUrl);
  const file = join(mkdtempSync(join(tmpdir(), "freehold-bench-")), "config.json");
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/**
 * Node's compile cache as the runtime image ships it: a folder warmed by one start of the worker
 * (the image warms it at build time), for the worker processes a bench measures.
 */
export function compileCacheDirectory(): string {
  return mkdtempSync(join(tmpdir(), "freehold-bench-compile-cache-"));
}

/** How a worker process starts: with the image's warmed compile cache, or with none at all. */
export type CompileCache = { readonly directory: string } | "none";

/** Starts `freehold worker`; resolves once it says it is ready. */
export function startWorker(
  config: string,
  redisUrl: string,
  concurrency: number,
  compileCache: CompileCache,
): { child: ChildProcess; ready: Promise<void> } {
  const { NODE_COMPILE_CACHE: _cache, NODE_DISABLE_COMPILE_CACHE: _disabled, ...environment } = process.env;
  const child = spawn(
    process.execPath,
    [bin, "worker", "--config", config, "--redis-url", redisUrl, "--concurrency", String(concurrency)],
    {
      stdio: ["ignore", "ignore", "pipe"],
      env:
        compileCache === "none"
          ? { ...environment, NODE_DISABLE_COMPILE_CACHE: "1" }
          : { ...environment, NODE_COMPILE_CACHE: compileCache.directory },
    },
  );
  let output = "";
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("worker ready")) resolve();
    });
    child.once("exit", (code) => {
      reject(new Error(`worker exited with ${code}:\n${output}`));
    });
  });
  return { child, ready };
}

/** Resident memory of a process, in MiB (Linux). */
export function residentMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? 0) / 1024;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export const round1 = (value: number): number => Math.round(value * 10) / 10;
