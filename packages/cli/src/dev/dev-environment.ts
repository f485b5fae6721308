/**
 * `freehold dev`'s environment: the manifests of a folder run without Kubernetes. It starts its own
 * Redis (a `redis-server` child on a free port) unless given one, resolves every namespace's agents
 * (stdio MCP servers start as children), and runs their workers in this process.
 *
 * @module
 */
import { FreeholdError, redactUrls, secretEnvName, type SecretKeySelector } from "@freehold/api";
import {
  connectRedis,
  createAgentQueues,
  createAgentRegistry,
  createRunStore,
  startRedisServer,
  type AgentQueues,
  type AgentRegistry,
  type RedisClient,
  type RedisServer,
  type RunStore,
} from "@freehold/handoff";
import { disposeLocalModels } from "@freehold/models";
import { createRuntime, createRuntimeWorker, type Runtime, type RuntimeWorker } from "@freehold/runtime";
import { delimiter } from "node:path";
import { binFolders, devRoot, loadDevResources, runtimeConfigs } from "./load-folder.ts";
import { adapterDrivers } from "../adapters.ts";

/** Options of {@link startDevEnvironment}. */
export interface DevEnvironmentOptions {
  /** The folder of manifests, or an entry module exporting `@freehold/sdk` definitions. */
  readonly directory: string;
  readonly cwd: string;
  /** Use this Redis instead of starting one. */
  readonly redisUrl?: string;
  /** Keep the started Redis's data here (append-only), instead of a temporary folder. */
  readonly dataDirectory?: string;
  /** Where Secret values come from: `FREEHOLD_SECRET_<NAME>_<KEY>` variables. */
  readonly environment: Readonly<Record<string, string | undefined>>;
  readonly modelsDirectory?: string;
  readonly log: (line: string) => void;
}

export interface DevEnvironment extends AsyncDisposable {
  readonly redisUrl: string;
  readonly connection: RedisClient;
  readonly store: RunStore;
  readonly queues: AgentQueues;
  readonly registry: AgentRegistry;
  readonly runtimes: readonly Runtime[];
  /** Run from an entry module: its definitions' manifests (YAML), for what reads manifests (the gateway). */
  readonly manifests?: string;
  close(): Promise<void>;
}

/**
 * Secret values as `freehold dev` reads them: `FREEHOLD_SECRET_<NAME>_<KEY>` variables.
 *
 * @example
 * ```ts
 * const key = await environmentSecrets(process.env)({ name: "openai", key: "apiKey" });
 * ```
 */
export function environmentSecrets(
  environment: Readonly<Record<string, string | undefined>>,
): (reference: SecretKeySelector) => Promise<string> {
  return (reference) => {
    const name = secretEnvName(reference);
    const value = environment[name];
    if (value === undefined) {
      return Promise.reject(
        new FreeholdError(
          "secret.not-found",
          `Secret ${reference.name} key ${reference.key} is not set; freehold dev reads it from the environment variable ${name}`,
          { details: { secret: reference.name, key: reference.key, variable: name } },
        ),
      );
    }
    return Promise.resolve(value);
  };
}

/**
 * What a folder's stdio MCP servers start with: the usual minimal environment, with the folder's npm
 * binaries on PATH.
 *
 * @example
 * ```ts
 * createMcpPool(servers, { baseEnvironment: stdioEnvironment({ directory: "examples/quickstart", cwd, environment: process.env }) });
 * ```
 */
export function stdioEnvironment(
  options: Pick<DevEnvironmentOptions, "directory" | "cwd" | "environment">,
): Record<string, string> {
  const baseEnvironment: Record<string, string> = {};
  for (const name of ["HOME", "LOGNAME", "SHELL", "TERM", "USER"]) {
    const value = options.environment[name];
    if (value !== undefined) baseEnvironment[name] = value;
  }
  baseEnvironment.PATH = [
    ...binFolders(devRoot(options.directory, options.cwd)),
    options.environment.PATH ?? "",
  ]
    .filter((entry) => entry !== "")
    .join(delimiter);
  return baseEnvironment;
}

/**
 * @example
 * ```ts
 * await using environment = await startDevEnvironment({ directory: "examples/quickstart", cwd, environment: process.env, log });
 * ```
 */
export async function startDevEnvironment(options: DevEnvironmentOptions): Promise<DevEnvironment> {
  const { resources, root, yaml, inProcessServers } = await loadDevResources(options.directory, options.cwd);
  const configs = runtimeConfigs(resources);
  const resolveSecret = environmentSecrets(options.environment);

  const baseEnvironment = stdioEnvironment(options);

  const cleanups: (() => Promise<unknown>)[] = [];
  // The in-process model (if any agent uses one) holds native memory until released.
  cleanups.push(() => disposeLocalModels());
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    let redisUrl = options.redisUrl;
    if (redisUrl === undefined) {
      const server: RedisServer = await startRedisServer({
        ...(options.dataDirectory === undefined
          ? {}
          : { dataDirectory: options.dataDirectory, appendOnly: true }),
      });
      cleanups.push(() => server.stop());
      redisUrl = server.url;
      options.log(`redis-server started at ${redactUrls(redisUrl)}`);
    }
    const connection = connectRedis(redisUrl, { maxRetriesPerRequest: null });
    cleanups.push(() => {
      connection.disconnect();
      return Promise.resolve();
    });
    const store = createRunStore(connection);
    const queues = createAgentQueues(connection);
    cleanups.push(() => queues.close());

    const runtimes: Runtime[] = [];
    for (const config of configs) {
      const runtime = await createRuntime(config, {
        resolveSecret,
        mcp: { baseEnvironment },
        codeRoot: root,
        inProcessServers: inProcessServers.get(config.namespace) ?? {},
        ...(options.modelsDirectory === undefined ? {} : { modelsDirectory: options.modelsDirectory }),
      });
      cleanups.push(() => runtime.close());
      runtimes.push(runtime);
      const worker: RuntimeWorker = createRuntimeWorker({
        connection,
        store,
        agents: runtime.agents,
        log: options.log,
        drivers: await adapterDrivers(runtime.agents),
      });
      cleanups.push(() => worker.close());
      await worker.ready();
      options.log(
        `namespace ${config.namespace}: agents ${runtime.agents.map((agent) => agent.name).join(", ")}` +
          (config.mcpServers.length === 0
            ? ""
            : `; MCP servers ${config.mcpServers.map((server) => server.metadata.name).join(", ")}`),
      );
    }
    return {
      redisUrl,
      connection,
      store,
      queues,
      registry: createAgentRegistry(connection),
      runtimes,
      ...(yaml === undefined ? {} : { manifests: yaml }),
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
