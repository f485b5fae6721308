/**
 * `freehold worker --config <file>`: the runtime worker as it runs in a cluster: one RuntimeConfig
 * (the ConfigMap the operator renders), Redis from `--redis-url`, Secret values from
 * `FREEHOLD_SECRET_*` environment variables. SIGTERM stops it gracefully.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { FreeholdError, RuntimeConfig, secretEnvName } from "@freehold/api";
import { connectRedis, createRunStore } from "@freehold/handoff";
import { disposeLocalModels } from "@freehold/models";
import { createMetricsRegistry, createRuntime, createRuntimeWorker } from "@freehold/runtime";
import { parse } from "yaml";
import { adapterDrivers } from "../adapters.ts";
import { startHealthServer } from "../health-server.ts";
import type { Output } from "../output.ts";

export interface WorkerOptions {
  readonly config: string;
  readonly redisUrl: string;
  readonly concurrency: number;
  /** Serve /healthz, /readyz (for Kubernetes probes) and /metrics (Prometheus) on this port. */
  readonly healthPort?: number;
  /** How long a run's lock lasts; a dead worker's runs resume elsewhere after about this long. */
  readonly lockDurationMs?: number;
  /** How long finished runs are kept, in seconds (0: forever); default 7 days. */
  readonly runRetentionSeconds?: number;
  /** Stalls without progress that fail a run; default 3. */
  readonly maxStalls?: number;
  readonly environment: Readonly<Record<string, string | undefined>>;
  readonly modelsDirectory?: string;
  /** Where agents' own framework code is (`spec.code.module` is relative to it); default: the working directory. */
  readonly codeRoot?: string;
}

/**
 * JSON (what the operator renders) with the JSON parser, which is many times faster than a YAML
 * parser on a start's critical path; anything else as YAML.
 */
function parseConfigText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return parse(text);
  }
}

/** Reads and checks a runtime configuration file (YAML or JSON). */
export function readRuntimeConfig(path: string): RuntimeConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new FreeholdError(
      "worker.config-missing",
      `cannot read the runtime configuration ${path}: ${(error as Error).message}`,
    );
  }
  const result = RuntimeConfig.safeParse(parseConfigText(text));
  if (!result.success) {
    throw new FreeholdError(
      "worker.config-invalid",
      `${path} is not a valid runtime configuration:\n${result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`).join("\n")}`,
    );
  }
  return result.data;
}

/**
 * Why a worker of `config` cannot run from the worker's startup snapshot, or undefined when it can.
 * Code deserialized from a snapshot cannot `import()` a module, and these are loaded so: the
 * framework adapters (and an agent's own framework code) and the in-process model runtime.
 */
export function snapshotUnsupported(config: RuntimeConfig): string | undefined {
  const framework = config.agents.find((agent) => agent.spec.framework !== "freehold");
  if (framework !== undefined) {
    return `agent ${framework.metadata.name} runs on the ${framework.spec.framework} framework`;
  }
  const local = config.models.find((model) => model.spec.provider === "local");
  return local === undefined ? undefined : `model ${local.metadata.name} runs in the worker (provider local)`;
}

export async function workerCommand(
  options: WorkerOptions,
  output: Output,
  stopped: Promise<void>,
): Promise<void> {
  await runWorker(readRuntimeConfig(options.config), options, output, stopped);
}

/** Runs the worker of a configuration already read (workerCommand reads it from `options.config`). */
export async function runWorker(
  config: RuntimeConfig,
  options: WorkerOptions,
  output: Output,
  stopped: Promise<void>,
): Promise<void> {
  const log = (line: string): void => {
    output.stderr(`${line}\n`);
  };
  const runtime = await createRuntime(config, {
    resolveSecret: (reference) => {
      const value = options.environment[secretEnvName(reference)];
      return value === undefined
        ? Promise.reject(
            new FreeholdError(
              "secret.not-found",
              `Secret ${reference.name} key ${reference.key} is not in ${secretEnvName(reference)}`,
            ),
          )
        : Promise.resolve(value);
    },
    ...(options.modelsDirectory === undefined ? {} : { modelsDirectory: options.modelsDirectory }),
    ...(options.codeRoot === undefined ? {} : { codeRoot: options.codeRoot }),
  });
  // The MCP sessions are opening (the pool starts them): the tools are listed as soon as each is
  // open, while the worker gets ready, not when the first run needs them. A failure is the run's to
  // report, when it lists them again.
  for (const agent of runtime.agents) agent.broker.listTools().catch(() => undefined);
  const connection = connectRedis(options.redisUrl, { maxRetriesPerRequest: null });
  // Metrics are kept when someone can read them: on the health port.
  const metrics = options.healthPort === undefined ? undefined : createMetricsRegistry();
  const worker = createRuntimeWorker({
    connection,
    store: createRunStore(
      connection,
      options.runRetentionSeconds === undefined ? {} : { retentionSeconds: options.runRetentionSeconds },
    ),
    agents: runtime.agents,
    concurrency: options.concurrency,
    ...(options.lockDurationMs === undefined ? {} : { lockDurationMs: options.lockDurationMs }),
    ...(options.maxStalls === undefined ? {} : { maxStalls: options.maxStalls }),
    log,
    ...(metrics === undefined ? {} : { metrics }),
    drivers: await adapterDrivers(runtime.agents),
  });
  let ready = false;
  const health =
    options.healthPort === undefined
      ? undefined
      : await startHealthServer({
          port: options.healthPort,
          ready: async () => {
            await connection.ping();
            return ready;
          },
          ...(metrics === undefined ? {} : { metrics }),
        });
  await worker.ready();
  ready = true;
  log(
    `worker ready: namespace ${config.namespace}, agents ${runtime.agents.map((agent) => agent.name).join(", ")}`,
  );
  await stopped;
  log("stopping: runs in progress stop at their next step and go back on their queue");
  ready = false;
  await worker.close();
  await runtime.close();
  await health?.close();
  connection.disconnect();
  await disposeLocalModels();
  log("worker stopped");
}
