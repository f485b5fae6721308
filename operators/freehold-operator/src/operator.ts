/**
 * The operator: informers, one controller per kind (and one for the `freehold-redis` Secret of
 * single-tenant namespaces), leader election and a periodic resync. Only the leader runs informers
 * and controllers; a standby only campaigns. Losing the Lease stops the controllers (waiting for
 * reconciles in progress) and the replica campaigns again. When Redis (re)connects, and on every
 * resync, every Tenant is reconciled again with its Redis user and keys written anew: a Redis that
 * restarted without its ACL file gets the tenants' users back.
 *
 * @module
 */
import { hostname } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import type { RedisClient } from "@freehold/handoff";
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
import { createRedisSecretReconciler } from "./reconcile-redis-secret.ts";
import { redactUrls } from "./redis-url.ts";
import { createTenantReconciler } from "./reconcile-tenant.ts";
import type { ConfiguredNamespaces } from "./served-namespaces.ts";
import { routeTenantEvents } from "./tenant-event-routing.ts";
import type { TranslateOptions } from "./translate-options.ts";

/** Options of {@link createOperator}. */
export interface OperatorOptions {
  /** Where the API server is and how to authenticate (`loadFromDefault()`, `loadFromCluster()`). */
  readonly kubeConfig: KubeConfig;
  readonly translate: TranslateOptions;
  /** Watch one namespace only. Default: every namespace. */
  readonly namespace?: string;
  /**
   * Namespaces served without a Tenant (single-tenant mode), or `*` for every namespace (dev and
   * tests with cluster-admin credentials). Default: none, only the tenants' namespaces.
   */
  readonly servedNamespaces?: ConfiguredNamespaces;
  /** The operator's own namespace: the tenants' canonical Redis credentials live there. Default: the Lease's, else `default`. */
  readonly operatorNamespace?: string;
  /** The operator's ServiceAccount, bound in each tenant namespace. Default: `freehold-operator`. */
  readonly operatorServiceAccount?: string;
  /**
   * Redis with the admin credential (may `ACL SETUSER`): tenants' users and keys, HumanQueue
   * status, Agent registry cleanup (with a finalizer).
   */
  readonly redis?: RedisClient;
  /** Reconciles at once, per kind. Default: 4. */
  readonly workers?: number;
  /** How often every resource is reconciled again even without events. Default: 10 minutes. */
  readonly resyncIntervalMs?: number;
  /** How often HumanQueue numbers are read from Redis. Default: 30 s. */
  readonly humanQueueIntervalMs?: number;
  /** How often Tenants' usage is read. Default: 30 s. */
  readonly tenantUsageIntervalMs?: number;
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
  readonly onRedisReady: () => void;
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
  // No line carries a URL's password, whoever logs it.
  const write = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const log = (line: string): void => {
    write(redactUrls(line));
  };
  const identity = options.identity ?? `${hostname()}-${process.pid}`;
  const client = createKubernetesClient(createKubernetesHttp(options.kubeConfig));
  const metrics = createOperatorMetrics();
  const events = createEventRecorder(client, { instance: identity, log });
  let running: Running | undefined;
  let leading = false;
  let elector: LeaderElector | undefined;
  let redisEpoch = 0;
  const operatorNamespace = options.operatorNamespace ?? options.leaderElection?.namespace ?? "default";

  const startLeading = async (): Promise<void> => {
    leading = true;
    metrics.setLeader(true);
    const kedaAvailable = await client.serves("keda.sh/v1alpha1", "scaledobjects").catch(() => false);
    const cache = createClusterCache({
      kubeConfig: options.kubeConfig,
      client,
      kedaAvailable,
      operatorNamespace,
      log,
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
      ...(options.servedNamespaces === undefined ? {} : { servedNamespaces: options.servedNamespaces }),
    });
    const parts: ReconcileParts = {
      client,
      cache,
      events,
      translate: { operatorNamespace, ...options.translate },
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
    const tenants = controller(
      "Tenant",
      createTenantReconciler(parts, {
        operatorNamespace,
        operatorServiceAccount: options.operatorServiceAccount ?? "freehold-operator",
        redisEpoch: () => redisEpoch,
        ...(options.tenantUsageIntervalMs === undefined
          ? {}
          : { usageIntervalMs: options.tenantUsageIntervalMs }),
      }),
    );
    const redisSecrets = controller("RedisSecret", createRedisSecretReconciler(parts));
    const kindQueues: KindQueues = {
      Agent: agents.queue,
      Model: models.queue,
      MCPServer: servers.queue,
      HumanQueue: queues.queue,
      Tenant: tenants.queue,
      RedisSecret: redisSecrets.queue,
    };
    routeEvents(cache, kindQueues);
    routeTenantEvents(cache, kindQueues, { operatorNamespace });
    await cache.start();
    const controllers = [agents, models, servers, queues, tenants, redisSecrets];
    for (const started of controllers) started.start();
    // Redis came back (perhaps empty): write every tenant's user and keys again.
    const onRedisReady = (): void => {
      redisEpoch += 1;
      for (const tenant of cache.tenants.list()) tenants.queue.add(tenant.metadata.name);
    };
    options.redis?.on("ready", onRedisReady);
    const resync = setInterval(() => {
      redisEpoch += 1;
      queueEverything(cache, kindQueues);
    }, options.resyncIntervalMs ?? 600_000);
    running = { cache, controllers, resync, onRedisReady };
    queueEverything(cache, kindQueues);
    log(
      `operator leading: ${cache.tenants.list().length} tenants, ${cache.agents.list().length} agents, ${cache.models.list().length} models, ${cache.mcpServers.list().length} MCP servers, ${cache.humanQueues.list().length} human queues${kedaAvailable ? "; KEDA found" : ""}`,
    );
  };

  const stopLeading = async (): Promise<void> => {
    leading = false;
    metrics.setLeader(false);
    const current = running;
    running = undefined;
    if (current === undefined) return;
    clearInterval(current.resync);
    options.redis?.off("ready", current.onRedisReady);
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
