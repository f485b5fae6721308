/**
 * The entry of the worker's startup snapshot (`packages/cli/bundle/worker.blob`): `freehold worker`
 * with every module it needs already loaded, started with `node --snapshot-blob worker.blob worker
 * ...` (the runtime image's `freehold` does so for `freehold worker`: scripts/freehold.sh). Node
 * deserializes the heap instead of loading and running the modules, which takes the worker to its
 * first model call in about half the time from the bundle, and it idles in less memory.
 *
 * packages/cli/scripts/build.ts bundles this file into one CommonJS file (a snapshot holds a single
 * script) and builds the snapshot from it with the Node that will run it (a snapshot only starts
 * the Node binary that built it). What it cannot do, and what is done about it:
 * - Code deserialized from a snapshot cannot `import()`. The framework adapters, an agent's own
 *   framework code and the in-process model runtime are loaded so: a configuration that needs one
 *   (`snapshotUnsupported`) makes the worker start again from the bundle, in the same process
 *   (`process.execve`: same process id, same arguments), saying why on its first line.
 * - What a module computes when it loads is computed once, when the snapshot is built: nothing on
 *   the worker's path may read the environment, the time or random values then. `crypto.randomUUID`
 *   is refused while it is built (snapshot-guard.ts); the fetch reads `NODE_USE_ENV_PROXY` per
 *   request, and `node:http` is loaded by the first request (a snapshot cannot hold its parser).
 *   `DEBUG`, which the debug package under ioredis reads as it loads, makes the worker start from
 *   the bundle.
 *
 * @module
 */
import { snapshotModulesLoaded } from "./snapshot-guard.ts";
import "@freehold/api/interpreted-parsing";
import { FreeholdError, RuntimeConfig } from "@freehold/api";
import { realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { startupSnapshot } from "node:v8";
import { readRuntimeConfig, runWorker, snapshotUnsupported, type WorkerOptions } from "./commands/worker.ts";
import { runMain } from "./main.ts";
import type { Output } from "./output.ts";
import { rootCommand } from "./program-base.ts";
import { registerWorkerCommand } from "./worker-program.ts";

/**
 * The folder the snapshot was built in: its script's, as the bundled modules saw it then (paths they
 * resolve from, such as prom-client's, are this folder's).
 */
const builtIn = import.meta.dirname;

/** The snapshot this process started from (`--snapshot-blob <file>`), and the rest of Node's options. */
function startOptions(): { blob: string | undefined; nodeOptions: string[] } {
  const nodeOptions: string[] = [];
  let blob: string | undefined;
  for (let index = 0; index < process.execArgv.length; index += 1) {
    const option = process.execArgv[index] ?? "";
    if (option === "--snapshot-blob") {
      blob = process.execArgv[index + 1];
      index += 1;
    } else if (option.startsWith("--snapshot-blob=")) {
      blob = option.slice("--snapshot-blob=".length);
    } else {
      nodeOptions.push(option);
    }
  }
  return { blob, nodeOptions };
}

/** Why this snapshot cannot serve here: it was built in another folder (an image or a bundle moved). */
function movedFrom(blob: string | undefined): string | undefined {
  const here = blob === undefined ? builtIn : dirname(realpathSync(blob));
  try {
    if (realpathSync(builtIn) === here) return undefined;
  } catch {
    // That folder is gone.
  }
  return `it was built in ${builtIn}, not in ${here}`;
}

/**
 * Starts the worker again, in this process, from the bundle beside the snapshot: same process id,
 * same arguments, same environment. Says why first.
 */
function restartFromBundle(reason: string, output: Output): never {
  const { blob, nodeOptions } = startOptions();
  const bundleExecutable = join(blob === undefined ? builtIn : dirname(blob), "bin.js");
  output.stderr(`worker: starting from the bundle, not the startup snapshot: ${reason}\n`);
  if (process.execve === undefined) {
    throw new FreeholdError(
      "worker.snapshot-unsupported",
      `the startup snapshot cannot run this worker (${reason}), and this platform cannot start it again: run ${bundleExecutable} worker instead`,
    );
  }
  process.execve(
    process.execPath,
    [process.execPath, ...nodeOptions, bundleExecutable, ...process.argv.slice(1)],
    process.env,
  );
  // Not reached: execve replaces the process, or throws.
  throw new FreeholdError("worker.restart-failed", `could not start ${bundleExecutable}`);
}

async function workerCommand(options: WorkerOptions, output: Output, stopped: Promise<void>): Promise<void> {
  const moved = movedFrom(startOptions().blob);
  if (moved !== undefined) restartFromBundle(moved, output);
  // The debug package (under ioredis) reads DEBUG as it loads: here, when the snapshot was built.
  if (process.env.DEBUG !== undefined) restartFromBundle("DEBUG is set (read as modules load)", output);
  const config = readRuntimeConfig(options.config);
  const unsupported = snapshotUnsupported(config);
  if (unsupported !== undefined) restartFromBundle(unsupported, output);
  await runWorker(config, options, output, stopped);
}

/**
 * Parses a configuration like the operator's while the snapshot is built: zod prepares each schema
 * (its shape, its checks) on first use, and that work is then in the snapshot instead of in every
 * start (about 20 ms of one).
 */
function prepareSchemas(): void {
  const metadata = (name: string): { name: string; namespace: string } => ({ name, namespace: "snapshot" });
  const resource = (kind: string, name: string, spec: unknown): unknown => ({
    apiVersion: "freehold.dev/v1alpha1",
    kind,
    metadata: metadata(name),
    spec,
  });
  const parsed = RuntimeConfig.safeParse({
    schemaVersion: 1,
    namespace: "snapshot",
    agents: [
      resource("Agent", "agent", {
        model: { ref: "model" },
        instructions: "Answer.",
        tools: [{ mcpServer: "tools", allow: ["tool"] }],
        handoffs: [{ humanQueue: "people" }, { agent: "peer" }],
      }),
    ],
    peers: [{ name: "peer", description: "Another agent." }],
    models: [
      resource("Model", "model", {
        provider: "openai-compatible",
        model: "model",
        baseUrl: "http://127.0.0.1:1/v1",
        apiKeySecretRef: { name: "model", key: "api-key" },
      }),
    ],
    mcpServers: [resource("MCPServer", "tools", { http: { url: "http://127.0.0.1:1/mcp" } })],
    humanQueues: [resource("HumanQueue", "people", { description: "People." })],
  });
  if (!parsed.success)
    throw new Error(`the snapshot's sample configuration is invalid: ${parsed.error.message}`);
}

prepareSchemas();
snapshotModulesLoaded();
startupSnapshot.setDeserializeMainFunction(() =>
  runMain((context) => {
    const program = rootCommand(context.output);
    registerWorkerCommand(program, context, () => Promise.resolve({ workerCommand }));
    return program;
  }, process.argv.slice(1)),
);
