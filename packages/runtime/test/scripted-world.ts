/**
 * A namespace served by a runtime worker in this process, on real parts: its agents (model
 * `scripted`, each told `You are <name>.` unless its spec says otherwise) answered by a scripted model
 * server of its own, the counter MCP server as `counter`, and the given human queues. The handoff and
 * tenant suites build their worlds with it.
 */
import type { Quotas, RunStore } from "@freehold/handoff";
import type { Tracer } from "@opentelemetry/api";
import { startScriptedModelServer, type ModelScriptInput, type ScriptedModelServer } from "@freehold/models";
import type { RedisClient } from "@freehold/handoff";
import { scriptedConfig } from "../../../test/fixtures/scripted-config.ts";
import {
  createRuntime,
  createRuntimeWorker,
  type LoopDriver,
  type Runtime,
  type RuntimeWorker,
} from "../src/index.ts";

export interface ScriptedWorld {
  readonly namespace: string;
  readonly model: ScriptedModelServer;
  readonly runtime: Runtime;
  readonly worker: RuntimeWorker;
  /** Closes the worker, the runtime and the model server. */
  close(): Promise<void>;
}

/**
 * Starts the model server, the runtime and its worker (ready: consuming its queues).
 *
 * @example
 * const world = await startScriptedWorld({
 *   connection, store, namespace: "acme", counterUrl: counter.url,
 *   script: [{ text: "Hello." }], agents: { front: {} },
 * });
 * await world.close();
 */
export async function startScriptedWorld(options: {
  readonly connection: RedisClient;
  readonly store: RunStore;
  readonly namespace: string;
  readonly counterUrl: string;
  readonly script: ModelScriptInput;
  /** Agent specs by name, over the defaults (`model: {ref: scripted}` and the instructions). */
  readonly agents: Record<string, Record<string, unknown>>;
  /** HumanQueue specs by name. */
  readonly humanQueues?: Record<string, Record<string, unknown>>;
  readonly quotas?: Quotas;
  /** Where the worker's spans go (default: the global tracer). */
  readonly tracer?: Tracer;
  /** The worker's drivers besides the built-in loop (framework adapters). */
  readonly drivers?: readonly LoopDriver[];
  /** Where agents' framework code (`spec.code`) is. */
  readonly codeRoot?: string;
  /** The worker's {@link RuntimeWorkerOptions.markRunningAfterMs}. */
  readonly markRunningAfterMs?: number;
}): Promise<ScriptedWorld> {
  const { namespace } = options;
  const model = await startScriptedModelServer({ script: options.script });
  const config = scriptedConfig({
    namespace,
    modelBaseUrl: model.baseUrl,
    model: { maxRetries: 0 },
    agents: options.agents,
    mcpServers: { counter: options.counterUrl },
    ...(options.humanQueues === undefined ? {} : { humanQueues: options.humanQueues }),
  });
  const runtime = await createRuntime(config, {
    resolveSecret: () => Promise.reject(new Error("no secrets")),
    ...(options.codeRoot === undefined ? {} : { codeRoot: options.codeRoot }),
  });
  const worker = createRuntimeWorker({
    connection: options.connection,
    store: options.store,
    agents: runtime.agents,
    sweepIntervalMs: 200,
    ...(options.quotas === undefined ? {} : { quotas: options.quotas }),
    ...(options.tracer === undefined ? {} : { tracer: options.tracer }),
    ...(options.drivers === undefined ? {} : { drivers: options.drivers }),
    ...(options.markRunningAfterMs === undefined ? {} : { markRunningAfterMs: options.markRunningAfterMs }),
  });
  await worker.ready();
  return {
    namespace,
    model,
    runtime,
    worker,
    async close() {
      await worker.close();
      await runtime.close();
      await model.close();
    },
  };
}
