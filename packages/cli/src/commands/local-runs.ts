/**
 * Runs started from the command line, on Redis: `freehold run` and `freehold chat` connect the same
 * way (a running `freehold dev` or cluster's Redis, or `--dev <folder>` started in this process),
 * find the agent's namespace the same way, and record who started a run the same way.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { userInfo } from "node:os";
import { FreeholdError, redactUrls, type ChatMessage, type RunState } from "@freehold/api";
import { createRunStarters, localIdentity } from "@freehold/gateway";
import {
  connectRedis,
  createAgentQueues,
  createAgentRegistry,
  createRunStore,
  startRun,
  type AgentQueues,
  type AgentRegistry,
  type RedisClient,
  type RunStore,
} from "@freehold/handoff";
import { startDevEnvironment, type DevEnvironment } from "../dev/dev-environment.ts";

/** Where runs go: `--dev`, `--redis-url` and the settings of a `freehold dev` folder. */
export interface LocalRunsOptions {
  readonly redisUrl?: string;
  /** A folder of manifests to run in this process. */
  readonly dev?: string;
  readonly cwd: string;
  readonly environment: Readonly<Record<string, string | undefined>>;
  readonly modelsDirectory?: string;
}

/** A connection to start, follow and cancel runs with. */
export interface LocalRuns {
  readonly redisUrl: string;
  readonly connection: RedisClient;
  readonly store: RunStore;
  readonly queues: AgentQueues;
  readonly registry: AgentRegistry;
  /** The folder's environment, when `--dev` started one. */
  readonly dev?: DevEnvironment;
  /** The namespace of `agent`: the given one, else the `--dev` folder's, else `default`. */
  namespaceOf(agent: string, namespace?: string): string;
  /** Starts a run as the local user (`local:<USER>`), after checking the agent exists. */
  start(request: {
    readonly namespace: string;
    readonly agent: string;
    readonly input: string;
    readonly history?: readonly ChatMessage[];
  }): Promise<RunState>;
  close(): Promise<void>;
}

/** How long the first answer of a given Redis may take before the command gives up. */
const redisAnswerMs = 5_000;

/**
 * A connection to a Redis that answers: one that does not (down, wrong URL or password) fails with
 * `cli.redis-unreachable` at once, instead of the client retrying for ever.
 */
async function connectReachable(url: string): Promise<RedisClient> {
  const connection = connectRedis(url, { maxRetriesPerRequest: null });
  let lastError: unknown;
  const onError = (error: unknown): void => {
    lastError = error;
  };
  connection.on("error", onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      connection.ping(),
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(new Error(lastError instanceof Error ? lastError.message : "no answer"));
        }, redisAnswerMs);
      }),
    ]);
    return connection;
  } catch (error) {
    connection.disconnect();
    throw new FreeholdError(
      "cli.redis-unreachable",
      `Redis at ${redactUrls(url)} does not answer (${redactUrls(error instanceof Error ? error.message : String(error))}); start it (or \`freehold dev\`), or pass the right --redis-url / FREEHOLD_REDIS_URL (freehold doctor checks it)`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
    connection.off("error", onError);
  }
}

/**
 * Connects (starting the `--dev` folder's agents first), or fails with `cli.no-redis`.
 *
 * @example
 * ```ts
 * const runs = await openLocalRuns({ dev: "examples/quickstart", cwd, environment: process.env }, console.error);
 * const run = await runs.start({ namespace: runs.namespaceOf("assistant"), agent: "assistant", input: "Hi" });
 * ```
 */
export async function openLocalRuns(
  options: LocalRunsOptions,
  log: (line: string) => void,
): Promise<LocalRuns> {
  const dev =
    options.dev === undefined
      ? undefined
      : await startDevEnvironment({
          directory: options.dev,
          cwd: options.cwd,
          environment: options.environment,
          log,
          ...(options.modelsDirectory === undefined ? {} : { modelsDirectory: options.modelsDirectory }),
        });
  const redisUrl = dev?.redisUrl ?? options.redisUrl;
  if (redisUrl === undefined) {
    throw new FreeholdError(
      "cli.no-redis",
      "no Redis to run on: pass --dev <folder> to run a folder's agents here, or --redis-url (or FREEHOLD_REDIS_URL) of a running `freehold dev`",
    );
  }
  const connection = dev?.connection ?? (await connectReachable(redisUrl));
  const queues = dev?.queues ?? createAgentQueues(connection);
  const store = createRunStore(connection);
  const registry = createAgentRegistry(connection);
  const starters = createRunStarters(connection, store);
  const user = localIdentity(options.environment.USER ?? userInfo().username);
  return {
    redisUrl,
    connection,
    store,
    queues,
    registry,
    ...(dev === undefined ? {} : { dev }),
    namespaceOf(agent, namespace) {
      return (
        namespace ??
        dev?.runtimes.find((runtime) => runtime.agents.some((each) => each.name === agent))?.namespace ??
        "default"
      );
    },
    async start(request) {
      await registry.require(request.namespace, request.agent);
      // Who starts it is recorded first, so no approval of the run can come before the record.
      const runId = randomUUID();
      await starters.record(request.namespace, runId, user);
      try {
        return await startRun({ redis: connection, store, queues }, { ...request, runId });
      } catch (error) {
        await starters.forget(request.namespace, runId);
        throw error;
      }
    },
    async close() {
      if (dev === undefined) {
        await queues.close();
        connection.disconnect();
      } else {
        await dev.close();
      }
    },
  };
}
