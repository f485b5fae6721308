/**
 * Shared by the worker benchmarks: a runtime configuration for one agent on the scripted model and
 * the counter MCP server, and a `freehold worker` child process to measure, started as the runtime
 * image starts it: the bundle's `freehold` script, which starts a worker from its startup snapshot
 * (`packages/cli/bundle`, built by packages/cli/scripts/build.ts); or from the bundle's modules.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RuntimeConfig } from "@freehold/api";
import { buildCli, cliBundle, imageCommand, imageCommandEnvironment } from "../packages/cli/scripts/build.ts";
import { imageEnvironment } from "../test/fixtures/image-environment.ts";

/** Builds the bundle the workers start from when a source changed since the last build. */
export async function ensureBundle(): Promise<void> {
  const build = await buildCli();
  if (build.built) process.stderr.write(`built ${build.directory} in ${Math.round(build.milliseconds)} ms\n`);
}

/**
 * A runtime configuration for the agent `adder` (spec.limits as given) in `namespace` (default
 * `bench`), which may hand a conversation to the human queue `support` (its model gets
 * `transfer_to_human_support`). `addPolicy` sets the `onInterrupt` policy of the counter's `add`
 * tool (default: none set, so `retry`, as the server annotates it read-only).
 */
export function benchConfig(
  modelBaseUrl: string,
  mcpUrl: string,
  limits: Record<string, number> = {},
  namespace = "bench",
  addPolicy?: "retry" | "fail" | "ask",
): RuntimeConfig {
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
          tools: [
            {
              mcpServer: "counter",
              allow: ["add"],
              ...(addPolicy === undefined ? {} : { onInterrupt: { tools: { add: addPolicy } } }),
            },
          ],
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

/**
 * How a worker process starts: as the runtime image starts it (its startup snapshot), or from the
 * bundle's modules (`node bin.js worker`, what the image did before it had a snapshot).
 */
export type WorkerStart = "image" | "bundle";

/**
 * Starts `freehold worker` (`from` the image's command, by default); resolves once it says it is
 * ready. The compile cache is the bundle's: a worker from the snapshot compiles nothing at start.
 */
export function startWorker(
  config: string,
  redisUrl: string,
  concurrency: number,
  compileCache: CompileCache,
  from: WorkerStart = "image",
): { child: ChildProcess; ready: Promise<void> } {
  const {
    NODE_COMPILE_CACHE: _cache,
    NODE_DISABLE_COMPILE_CACHE: _disabled,
    NODE_OPTIONS: _options,
    ...inherited
  } = process.env;
  const environment = { ...inherited, PATH: imageCommandEnvironment().PATH, ...imageEnvironment() };
  const args = ["worker", "--config", config, "--redis-url", redisUrl, "--concurrency", String(concurrency)];
  const child = spawn(
    from === "image" ? imageCommand : process.execPath,
    from === "image" ? args : [cliBundle, ...args],
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

export { median } from "./stats.ts";

export const round1 = (value: number): number => Math.round(value * 10) / 10;

/** A loop's model calls, and when its clock stopped (`process.hrtime.bigint()`); default: when it returned. */
export type Timed = number | { readonly modelCalls: number; readonly endedAt: bigint };

/** Milliseconds per model call of one loop: from the call until its clock stops. */
export async function timePerStep(loop: () => Promise<Timed>): Promise<number> {
  const started = process.hrtime.bigint();
  const timed = await loop();
  const endedAt = typeof timed === "number" ? process.hrtime.bigint() : timed.endedAt;
  const modelCalls = typeof timed === "number" ? timed : timed.modelCalls;
  return Number(endedAt - started) / 1e6 / modelCalls;
}

/**
 * Reads a worker's log for the ends of runs: `log` is the worker's, `end(runId)` resolves with the
 * line and the moment it was logged (the clock of the worker path stops there; what a bench checks
 * afterwards is not timed).
 */
export function runEnds(): {
  readonly log: (line: string) => void;
  readonly end: (runId: string) => Promise<{ readonly line: string; readonly at: bigint }>;
} {
  const waiting = new Map<string, (ended: { line: string; at: bigint }) => void>();
  return {
    log: (line) => {
      const at = process.hrtime.bigint();
      const match = /^run (\S+): (\w+) after \d+ steps$/.exec(line);
      if (match?.[1] === undefined) return;
      waiting.get(match[1])?.({ line, at });
      waiting.delete(match[1]);
    },
    end: (runId) => new Promise((resolve) => waiting.set(runId, resolve)),
  };
}
