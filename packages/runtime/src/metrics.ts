/**
 * The worker's Prometheus metrics, on a prom-client `Registry` the process owns (one per worker):
 * runs started and finished, steps, tokens, model and tool call latency, all derived from the events
 * each checkpoint writes; and, read from Redis when scraped, each agent's queue depth and each human
 * queue's waiting items and oldest wait. Labels are bounded: namespace, agent, the configured model,
 * MCP server and tool names, statuses and error codes; never run ids.
 *
 * @module
 */
import type { RunEvent, RunState } from "@freehold/api";
import { humanQueueCounts, type AgentQueues, type RedisClient } from "@freehold/handoff";
import { createRequire } from "node:module";
import type * as PromClient from "prom-client";
import type { Registry } from "prom-client";

/**
 * prom-client, loaded the first time metrics are asked for: a worker that keeps none never pays for
 * loading it (it is CommonJS, so this is the same module an `import` gets).
 */
function promClient(): typeof PromClient {
  return createRequire(import.meta.url)("prom-client") as typeof PromClient;
}

/** Latency buckets of a model call, in seconds. */
const modelBuckets = [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300];
/** Latency buckets of a tool call, in seconds. */
const toolBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** How long one scrape waits for Redis before it reports no queue figures. */
const collectTimeoutMs = 2000;
/**
 * The bands of a human queue's waiting set: `inbox.ts` scores an item `rank * 1e13 + queuedAt`
 * (rank 0 for urgent to 3 for low), so the oldest item of a band is the band's lowest score.
 */

/** What the metrics read of an agent (a ResolvedAgent is one). */
export interface MetricsAgent {
  readonly namespace: string;
  readonly name: string;
  readonly model: { readonly provider: string; readonly modelId: string };
  /** The namespace's human queues, whose inboxes are read when scraped. */
  readonly humanQueues: ReadonlyMap<string, unknown>;
}

/** The metrics of one agent, with its label values bound once. */
export interface AgentMetrics {
  /**
   * Records what a checkpoint wrote (call after it succeeded): a run's first checkpoint starts it,
   * `model-call-end` is a step with its tokens and latency, `tool-call-end` a tool call's latency,
   * `run-end` the run's end.
   */
  observeCheckpoint(previous: RunState, events: readonly RunEvent[]): void;
}

/** The metrics of a worker. */
export interface RuntimeMetrics {
  forAgent(agent: MetricsAgent): AgentMetrics;
}

/** What the scrape-time gauges read. */
export interface RuntimeMetricsSources {
  readonly redis: RedisClient;
  readonly queues: AgentQueues;
  readonly agents: readonly MetricsAgent[];
  /** Where a failed collection is reported. */
  readonly log: (line: string) => void;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} took longer than ${collectTimeoutMs} ms`));
    }, collectTimeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => {
    clearTimeout(timer);
  });
}

/** Items waiting in a human queue and when the oldest of them was queued (ms), across its shards. */
export async function humanQueueWaiting(
  redis: RedisClient,
  namespace: string,
  queue: string,
): Promise<{ readonly waiting: number; readonly oldestQueuedAt: number | undefined }> {
  const { waiting, oldestQueuedAt } = await humanQueueCounts(redis, namespace, queue);
  return { waiting, oldestQueuedAt };
}

/**
 * A registry for one worker process, with the default process metrics (CPU, memory, event loop lag,
 * garbage collection) already on it.
 *
 * @example
 * ```ts
 * const registry = createMetricsRegistry();
 * const worker = createRuntimeWorker({ connection, store, agents, metrics: registry });
 * response.end(await registry.metrics());
 * ```
 */
export function createMetricsRegistry(): Registry {
  const { Registry, collectDefaultMetrics } = promClient();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Registers the worker's metrics on `registry` (once per registry).
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * const metrics = createRuntimeMetrics(registry, { redis, queues, agents, log });
 * const billing = metrics.forAgent(agents[0]);
 * billing.observeCheckpoint(previous, events);
 * await registry.metrics(); // "freehold_runs_started_total{namespace="acme",agent="billing"} 1 ..."
 * ```
 */
export function createRuntimeMetrics(registry: Registry, sources: RuntimeMetricsSources): RuntimeMetrics {
  const { Counter, Gauge, Histogram } = promClient();
  const registers = [registry];
  const runsStarted = new Counter({
    name: "freehold_runs_started_total",
    help: "Runs that started on this worker (their first step), by agent.",
    labelNames: ["namespace", "agent"] as const,
    registers,
  });
  const runsFinished = new Counter({
    name: "freehold_runs_finished_total",
    help: "Runs that ended on this worker, by agent, status and reason (the error code of a failed run, the limit of one past a limit).",
    labelNames: ["namespace", "agent", "status", "reason"] as const,
    registers,
  });
  const steps = new Counter({
    name: "freehold_steps_total",
    help: "Steps (model calls that answered), by agent.",
    labelNames: ["namespace", "agent"] as const,
    registers,
  });
  const tokens = new Counter({
    name: "freehold_tokens_total",
    help: "Model tokens, by agent, model and direction (in: prompt, out: completion).",
    labelNames: ["namespace", "agent", "model", "direction"] as const,
    registers,
  });
  const modelSeconds = new Histogram({
    name: "freehold_model_call_seconds",
    help: "Latency of model calls that answered, by agent and model.",
    labelNames: ["namespace", "agent", "model"] as const,
    buckets: modelBuckets,
    registers,
  });
  const toolSeconds = new Histogram({
    name: "freehold_tool_call_seconds",
    help: "Latency of MCP tool calls, by agent, MCP server and tool.",
    labelNames: ["namespace", "agent", "server", "tool"] as const,
    buckets: toolBuckets,
    registers,
  });
  const { agents, log } = sources;

  new Gauge({
    name: "freehold_agent_queue_depth",
    help: "Runs on an agent's queue: waiting, prioritized, delayed and active jobs.",
    labelNames: ["namespace", "agent"] as const,
    registers,
    async collect() {
      this.reset();
      try {
        const depths = await withTimeout(
          Promise.all(agents.map((agent) => sources.queues.depth(agent.namespace, agent.name))),
          "reading the agents' queue depths",
        );
        agents.forEach((agent, index) => {
          this.labels(agent.namespace, agent.name).set(depths[index] ?? 0);
        });
      } catch (error) {
        log(`metrics: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
  });

  const humanQueues = [
    ...new Map(
      agents.flatMap((agent) =>
        [...agent.humanQueues.keys()].map((queue) => [
          `${agent.namespace}/${queue}`,
          { namespace: agent.namespace, queue },
        ]),
      ),
    ).values(),
  ];
  // One read of Redis per scrape fills both inbox gauges: the second collect joins the first's read.
  let reading: Promise<{ waiting: number; oldestQueuedAt: number | undefined }[] | undefined> | undefined;
  const readInbox = (): Promise<{ waiting: number; oldestQueuedAt: number | undefined }[] | undefined> => {
    reading ??= withTimeout(
      Promise.all(
        humanQueues.map(({ namespace, queue }) => humanQueueWaiting(sources.redis, namespace, queue)),
      ),
      "reading the human queues",
    )
      .catch((error: unknown) => {
        log(`metrics: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      })
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };
  new Gauge({
    name: "freehold_inbox_waiting",
    help: "Items waiting (not claimed) in a human queue.",
    labelNames: ["namespace", "queue"] as const,
    registers,
    async collect() {
      this.reset();
      const stats = await readInbox();
      humanQueues.forEach(({ namespace, queue }, index) => {
        const stat = stats?.[index];
        if (stat !== undefined) this.labels(namespace, queue).set(stat.waiting);
      });
    },
  });
  new Gauge({
    name: "freehold_inbox_oldest_age_seconds",
    help: "How long the oldest waiting item of a human queue has waited (0 when none waits).",
    labelNames: ["namespace", "queue"] as const,
    registers,
    async collect() {
      this.reset();
      const now = Date.now();
      const stats = await readInbox();
      humanQueues.forEach(({ namespace, queue }, index) => {
        const oldest = stats?.[index]?.oldestQueuedAt;
        if (stats?.[index] !== undefined)
          this.labels(namespace, queue).set(oldest === undefined ? 0 : Math.max(0, now - oldest) / 1000);
      });
    },
  });

  return {
    forAgent(agent) {
      const { namespace, name } = agent;
      const model = `${agent.model.provider}/${agent.model.modelId}`;
      const started = runsStarted.labels(namespace, name);
      const stepCount = steps.labels(namespace, name);
      const tokensIn = tokens.labels(namespace, name, model, "in");
      const tokensOut = tokens.labels(namespace, name, model, "out");
      const modelLatency = modelSeconds.labels(namespace, name, model);
      const toolLatency = new Map<string, Map<string, PromClient.Histogram.Internal<string>>>();
      const toolChild = (server: string, tool: string): PromClient.Histogram.Internal<string> => {
        let tools = toolLatency.get(server);
        if (tools === undefined) {
          tools = new Map();
          toolLatency.set(server, tools);
        }
        let child = tools.get(tool);
        if (child === undefined) {
          child = toolSeconds.labels(namespace, name, server, tool);
          tools.set(tool, child);
        }
        return child;
      };
      return {
        observeCheckpoint(previous, events) {
          if (previous.revision === 0) started.inc();
          for (const event of events) {
            if (event.type === "model-call-end") {
              stepCount.inc();
              tokensIn.inc(event.usage.inputTokens);
              tokensOut.inc(event.usage.outputTokens);
              modelLatency.observe(event.durationMs / 1000);
            } else if (event.type === "tool-call-end") {
              // Only calls that reached an MCP server: not handoffs, delegations or invalid calls.
              const record = previous.pendingToolCalls.find((call) => call.toolCall.id === event.toolCallId);
              if (record?.server !== undefined && record.tool !== undefined && record.special === undefined)
                toolChild(record.server, record.tool).observe(event.durationMs / 1000);
            } else if (event.type === "run-end") {
              const reason =
                event.status === "failed"
                  ? (event.error?.code ?? "")
                  : event.status === "limit_exceeded"
                    ? (event.limit ?? "")
                    : "";
              runsFinished.labels(namespace, name, event.status, reason).inc();
            }
          }
        },
      };
    },
  };
}
