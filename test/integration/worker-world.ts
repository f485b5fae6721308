/**
 * What the suites of `freehold worker` processes start before their tests and stop after: a real
 * redis-server, or the Redis the suite chooses (a connection, a run store and queues on it), the
 * scripted model server with the suite's script, the counter MCP server (as `counter`, over
 * streamable HTTP), the workers' configuration (one namespace) and a fleet of workers on it (none
 * started: the suite starts them).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  connectRedis,
  createAgentQueues,
  createRunStore,
  startRedisServer,
  type AgentQueues,
  type RedisClient,
  type RunStore,
} from "@freehold/handoff";
import { startScriptedModelServer, type ModelScriptInput, type ScriptedModelServer } from "@freehold/models";
import { afterAll, beforeAll } from "vitest";
import { startCounterServer, type CounterServer } from "../fixtures/mcp/counter-server.ts";
import type { TestRedis } from "../fixtures/redis-backends.ts";
import { writeScriptedConfig } from "../fixtures/scripted-config.ts";
import { createWorkerFleet, type WorkerFleet } from "./worker-fleet.ts";

export interface WorkerWorld {
  readonly redis: TestRedis;
  readonly connection: RedisClient;
  readonly store: RunStore;
  readonly queues: AgentQueues;
  readonly model: ScriptedModelServer;
  readonly counter: CounterServer;
  /** The workers' configuration file. */
  readonly configFile: string;
  readonly fleet: WorkerFleet;
}

export interface WorkerWorldOptions {
  readonly namespace: string;
  /** Starts the Redis (a backend's `start`, see redis-backends.ts); default one redis-server. */
  readonly redis?: () => Promise<TestRedis>;
  readonly script: ModelScriptInput;
  /** Agent specs by name (see scriptedConfig); the MCP server `counter` is there to allow. */
  readonly agents: Readonly<Record<string, Record<string, unknown>>>;
  /** The workers' options (see createWorkerFleet). */
  readonly workers: {
    readonly concurrency: number;
    readonly lockDurationSeconds: number;
    readonly maxStalls?: number;
    /** As the runtime image starts them (default), or from the bundle's modules. */
    readonly from?: "image" | "bundle";
  };
}

/**
 * Starts the world before the file's tests and stops it after; read the fields inside tests.
 *
 * @example
 * const world = useWorkerWorld({ namespace: "stalls", script, agents: { crasher: {} }, workers: { concurrency: 1, lockDurationSeconds: 1 } });
 * it("runs", async () => { world.fleet.start(); });
 */
export function useWorkerWorld(options: WorkerWorldOptions): WorkerWorld {
  let current: (WorkerWorld & { readonly directory: string }) | undefined;
  beforeAll(async () => {
    const directory = mkdtempSync(join(tmpdir(), `freehold-${options.namespace}-`));
    const redis = await (options.redis ?? startRedisServer)();
    const connection = connectRedis(redis.url, { maxRetriesPerRequest: null });
    const counter = await startCounterServer({ transport: "http" });
    const model = await startScriptedModelServer({ script: options.script });
    const configFile = writeScriptedConfig(join(directory, "config.json"), {
      namespace: options.namespace,
      modelBaseUrl: model.baseUrl,
      agents: options.agents,
      mcpServers: { counter: counter.url },
    });
    current = {
      directory,
      redis,
      connection,
      store: createRunStore(connection),
      queues: createAgentQueues(connection),
      model,
      counter,
      configFile,
      fleet: createWorkerFleet({ configFile, redisUrl: redis.url, ...options.workers }),
    };
  });
  afterAll(async () => {
    if (current === undefined) return;
    current.fleet.killAll();
    await current.queues.close();
    await current.model.close();
    await current.counter.close();
    current.connection.disconnect();
    await current.redis.stop();
    rmSync(current.directory, { recursive: true, force: true });
  });
  const started = (): WorkerWorld => {
    if (current === undefined) throw new Error("useWorkerWorld: read its fields inside a test");
    return current;
  };
  return {
    get redis() {
      return started().redis;
    },
    get connection() {
      return started().connection;
    },
    get store() {
      return started().store;
    },
    get queues() {
      return started().queues;
    },
    get model() {
      return started().model;
    },
    get counter() {
      return started().counter;
    },
    get configFile() {
      return started().configFile;
    },
    get fleet() {
      return started().fleet;
    },
  };
}
