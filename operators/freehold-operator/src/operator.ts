/**
 * The operator: informers, one controller per kind, leader election and a periodic resync. Only the
 * leader runs informers and controllers; a standby only campaigns. Losing the Lease stops the
 * controllers (waiting for reconciles in progress) and the replica campaigns again.
 *
 * @module
 */
import { hostname } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Redis } from "ioredis";
import { createClusterCache, type ClusterCache } from "./cluster-cache.ts";
import { createController, type Controller } from "./controller.ts";
import { createEventRecorder } from "./event-recorder.ts";
import { queueEverything, routeEvents, type KindQueues } from "./event-routing.ts";
import { createKubernetesClient, type KubernetesClient } from "./kubernetes-client.ts";
import { createKubernetesHttp } from "./kubernetes-http.ts";
import { createLeaderElector, type LeaderElector } from "./leader-election.ts";
import { createOperatorMetrics, type OperatorMetrics } from "./metrics.ts";
import { createAgentReconciler } from "./reconcile-agent.ts";
import { createHumanQueueReconciler } from "./reconcile-human-queue.ts";
import { createMcpServerReconciler, type McpServerReconcilerOptions } from "./reconcile-mcp-server.ts";
import { createModelReconciler } from "./reconcile-model.ts";
import type { Reconcile, ReconcileParts } from "./reconcile-parts.ts";
import type { TranslateOptions } from "./translate-options.ts";

/** Options of {@link createOperator}. */
export interface OperatorOptions {
  /** Where the API server is and how to authenticate (`loadFromDefault()`, `loadFromCluster()`). */
  readonly kubeConfig: KubeConfig;
  readonly translate: TranslateOptions;
  /** Watch one namespace only. Default: every namespace. */
  readonly namespace?: string;
  /** Redis, for HumanQueue status and Agent registry cleanup (with a finalizer). */
  readonly redis?: Redis;
  /** Reconciles at once, per kind. Default: 4. */
  readonly workers?: number;
  /** How often every resource is reconciled again even without events. Default: 10 minutes. */
  readonly resyncIntervalMs?: number;
  /** How often HumanQueue numbers are read from Redis. Default: 30 s. */
  readonly humanQueueIntervalMs?: number;
  readonly mcpServer?: McpServerReconcilerOptions;
  /** Leader election with a Lease; absent: this replica always leads (run one replica only). */
  readonly leaderElection?: {
    /** The namespace of the Lease: the operator's own. */
    readonly namespace: string;
    readonly name?: string;
    readonly leaseDurationSeconds?: number;
    readonly renewDeadlineMs?: number;
    readonly retryPeriodMs?: number;
  };
  /** This replica's name in the Lease and in Events. Default: hostname-pid. */
  readonly identity?: string;
  readonly log?: (line: string) => void;
}

/** A running operator. */
export interface Operator {
  /** Starts campaigning (or, without leader election, leading); resolves once under way. */
  start(): Promise<void>;
  /** Stops the controllers and informers and releases the Lease. */
  stop(): Promise<void>;
  isLeader(): boolean;
  /** A standby is ready; a leader once its caches are synced and its controllers run. */
  isReady(): boolean;
  readonly metrics: OperatorMetrics;
  readonly client: KubernetesClient;
}

interface Running {
  readonly cache: ClusterCache;
  readonly controllers: readonly Controller[];
  readonly resync: NodeJS.Timeout;
}

/**
 * @example
 * ```ts
 * const kubeConfig = new KubeConfig();
 * kubeConfig.loadFromDefault();
 * const operator = createOperator({ kubeConfig, translate: { runtimeImage: "ghcr.io/freehold/runtime:0.1.0" } });
 * await operator.start();
 * ```
 */
export function createOperator(options: OperatorOptions): Operator {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const identity = options.identity ?? `${hostname()}-${process.pid}`;
  const client = createKubernetesClient(createKubernetesHttp(options.kubeConfig));
  const metrics = createOperatorMetrics();
  const events = createEventRecorder(client, { instance: identity, log });
  let running: Running | undefined;
  let leading = false;
  let elector: LeaderElector | undefined;

  const startLeading = async (): Promise<void> => {
    leading = true;
    metrics.setLeader(true);
    const kedaAvailable = await client.serves("keda.sh/v1alpha1", "scaledobjects").catch(() => false);
    const cache = createClusterCache({
      kubeConfig: options.kubeConfig,
      client,
      kedaAvailable,
      log,
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    });
    const parts: ReconcileParts = {
      client,
      cache,
      events,
      translate: options.translate,
      redis: options.redis,
      log,
      now: () => new Date(),
    };
    const controller = (kind: string, reconcile: Reconcile): Controller =>
      createController({
        kind,
        reconcile,
        metrics,
        log,
        ...(options.workers === undefined ? {} : { workers: options.workers }),
      });
    const agents = controller("Agent", createAgentReconciler(parts));
    const models = controller("Model", createModelReconciler(parts));
    const servers = controller("MCPServer", createMcpServerReconciler(parts, options.mcpServer));
    const queues = controller(
      "HumanQueue",
      createHumanQueueReconciler(parts, {
        ...(options.humanQueueIntervalMs === undefined ? {} : { intervalMs: options.humanQueueIntervalMs }),
      }),
    );
    const kindQueues: KindQueues = {
      Agent: agents.queue,
      Model: models.queue,
      MCPServer: servers.queue,
      HumanQueue: queues.queue,
    };
    routeEvents(cache, kindQueues);
    await cache.start();
    const controllers = [agents, models, servers, queues];
    for (const started of controllers) started.start();
    const resync = setInterval(() => {
      queueEverything(cache, kindQueues);
    }, options.resyncIntervalMs ?? 600_000);
    running = { cache, controllers, resync };
    log(
      `operator leading: ${cache.agents.list().length} agents, ${cache.models.list().length} models, ${cache.mcpServers.list().length} MCP servers, ${cache.humanQueues.list().length} human queues${kedaAvailable ? "; KEDA found" : ""}`,
    );
  };

  const stopLeading = async (): Promise<void> => {
    leading = false;
    metrics.setLeader(false);
    const current = running;
    running = undefined;
    if (current === undefined) return;
    clearInterval(current.resync);
    await Promise.all(current.controllers.map((controller) => controller.stop()));
    await current.cache.stop();
  };

  return {
    metrics,
    client,
    async start() {
      const election = options.leaderElection;
      if (election === undefined) {
        await startLeading();
        return;
      }
      elector = createLeaderElector({ client, identity, log, ...election });
      elector.run({ onStartedLeading: startLeading, onStoppedLeading: stopLeading });
    },
    async stop() {
      if (elector === undefined) await stopLeading();
      else await elector.stop();
    },
    isLeader: () => leading,
    isReady: () => !leading || (running?.cache.synced() ?? false),
  };
}
