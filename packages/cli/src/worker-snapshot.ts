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
import { FreeholdError, RunJob, RunState, RuntimeConfig } from "@freehold/api";
import { newRun } from "@freehold/handoff";
import { prepareMcpSchemas } from "@freehold/mcp";
import { realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { startupSnapshot } from "node:v8";
import type { z } from "zod";
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

/** Parses a sample with `schema`; a sample it refuses fails the snapshot's build, naming it. */
function parseSample(what: string, schema: z.ZodType, sample: unknown): void {
  const parsed = schema.safeParse(sample);
  if (!parsed.success) throw new Error(`the snapshot's sample ${what} is invalid: ${parsed.error.message}`);
}

/**
 * Parses a configuration like the operator's while the snapshot is built, and a sample of what a
 * worker parses before its first model call (a run's job and its first state, the MCP messages of
 * connecting and listing tools): zod prepares each schema (its shape, its checks) on first use, and
 * that work is then in the snapshot instead of in every start (about 20 ms of one for the
 * configuration; the rest, with the command line below, a few ms more: 4-6 ms in the medians of
 * four runs of 25-40 starts from each snapshot, alternated, but 4 ms the other way in a fifth run
 * of 20: at the edge of what the noise of a shared machine shows).
 */
function prepareSchemas(): void {
  const metadata = (name: string): { name: string; namespace: string } => ({ name, namespace: "snapshot" });
  const resource = (kind: string, name: string, spec: unknown): unknown => ({
    apiVersion: "freehold.dev/v1alpha1",
    kind,
    metadata: metadata(name),
    spec,
  });
  parseSample("configuration", RuntimeConfig, {
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
  parseSample("run job", RunJob, { schemaVersion: 1, runId: "snapshot", namespace: "snapshot" });
  // A fixed time: nothing in the snapshot may depend on when it was built.
  parseSample(
    "run",
    RunState,
    newRun({ id: "snapshot", namespace: "snapshot", agent: "agent", input: "Hi", now: new Date(0) }),
  );
  prepareMcpSchemas();
}

/**
 * Parses a worker's command line, as `freehold worker` does, while the snapshot is built, with a
 * command that does nothing: V8 compiles a function when it first runs, and the snapshot keeps what
 * was compiled, so commander's parsing and the worker command's checks are not compiled again in
 * every start. The program is thrown away, and nothing of the build's environment goes into it; what
 * a worker parses is its own command line, in the main function below.
 */
async function prepareCommandLine(): Promise<void> {
  const output: Output = { stdout: () => undefined, stderr: () => undefined, interactive: false };
  const program = rootCommand(output);
  registerWorkerCommand(
    program,
    { output, cwd: "/", environment: {}, stopped: () => Promise.resolve() },
    () => Promise.resolve({ workerCommand: () => Promise.resolve() }),
  );
  const args = [
    "worker",
    "--config",
    "config.json",
    "--redis-url",
    "redis://127.0.0.1:6379",
    "--concurrency",
    "1",
  ];
  await program.parseAsync(args, { from: "user" });
}

prepareSchemas();
// Node takes the snapshot once the event loop is empty: after the command line is parsed and the
// main function set. (A failure fails the build: an unhandled rejection ends the process.)
void prepareCommandLine().then(() => {
  snapshotModulesLoaded();
  startupSnapshot.setDeserializeMainFunction(() =>
    runMain((context) => {
      const program = rootCommand(context.output);
      registerWorkerCommand(program, context, () => Promise.resolve({ workerCommand }));
      return program;
    }, process.argv.slice(1)),
  );
});
