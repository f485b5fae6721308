/**
 * The operator's entry point, and the only place that reads the environment:
 *
 * - `KUBECONFIG`: a kubeconfig file; otherwise the in-cluster service account, otherwise ~/.kube/config.
 * - `FREEHOLD_RUNTIME_IMAGE` (required): the image of workers and MCP bridges.
 * - `FREEHOLD_REDIS_URL`: Redis with the admin credential (may `ACL SETUSER`): tenants' users and
 *   keys, HumanQueue status, Agent cleanup (optional; without it no Secret `freehold-redis` is made).
 * - `FREEHOLD_WORKER_REDIS_URL`: where workers reach Redis; as it is, the credential of single-tenant
 *   namespaces; with a tenant's user and password, of tenant namespaces (default: `FREEHOLD_REDIS_URL`).
 *   Both may name a Redis Cluster: `redis+cluster://[user:password@]host:port,host:port`.
 * - `FREEHOLD_NAMESPACES`: comma-separated namespaces served without a Tenant, or `*` for all
 *   (default: none, only tenants' namespaces).
 * - `FREEHOLD_OPERATOR_SERVICE_ACCOUNT`: the operator's ServiceAccount, bound to
 *   `freehold-workload-manager` in each tenant namespace (default `freehold-operator`).
 * - `FREEHOLD_WORKER_HEALTH_PORT`: give workers `--health-port` (probes, /metrics, scrape annotations).
 * - `FREEHOLD_RUN_RETENTION`: how long finished runs are kept (`7d`, `12h`, seconds; `0`: forever),
 *   passed to the workers.
 * - `FREEHOLD_METRICS_SCRAPE_NAMESPACES`: namespaces (comma-separated) a tenant's NetworkPolicy admits
 *   on that port, for Prometheus.
 * - `FREEHOLD_IMAGE_PULL_POLICY`: Always, IfNotPresent (default) or Never.
 * - `FREEHOLD_WATCH_NAMESPACE`: watch one namespace only.
 * - `FREEHOLD_LEADER_ELECTION`: `false` to run without a Lease (one replica only).
 * - `POD_NAMESPACE`, `POD_NAME`: the operator's namespace (the Lease, the tenants' canonical
 *   credentials, the gateway's and Redis' pods) and this replica's identity.
 * - `FREEHOLD_LEASE_DURATION_SECONDS`: how long the Lease lasts without renewal (default 15).
 * - `FREEHOLD_HEALTH_HOST`, `FREEHOLD_HEALTH_PORT`: where /healthz, /readyz and /metrics are served
 *   (default 0.0.0.0:8081).
 * - `FREEHOLD_DISCOVERY_ALLOW_INTERNAL`: `true` lets MCP tool discovery connect to loopback,
 *   link-local, cloud metadata and unspecified addresses (default `false`: refused).
 *
 * `node operators/freehold-operator/src/main.ts`; SIGTERM or SIGINT stops it gracefully. No log line
 * carries a URL's password (`user:password@` is replaced by `***@`).
 *
 * @module
 */
// First: zod reads it as it builds the schemas the next modules build.
import "@freehold/api/interpreted-parsing";
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { KubeConfig } from "@kubernetes/client-node";
import { connectRedis, isClusterUrl, parseClusterUrl, parseRetentionSeconds } from "@freehold/handoff";
import { startHealthServer } from "./health-server.ts";
import { createOperator } from "./operator.ts";
import { redactUrls } from "./redis-url.ts";
import { parseConfiguredNamespaces } from "./served-namespaces.ts";

const environment = process.env;
const serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

function fail(message: string): never {
  process.stderr.write(`freehold-operator: ${redactUrls(message)}\n`);
  process.exit(2);
}

function integer(name: string): number | undefined {
  const text = environment[name];
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) fail(`${name} must be a whole number, not ${text}`);
  return value;
}

const kubeConfig = new KubeConfig();
if (environment.KUBECONFIG !== undefined && environment.KUBECONFIG !== "") {
  kubeConfig.loadFromFile(environment.KUBECONFIG);
} else if (environment.KUBERNETES_SERVICE_HOST !== undefined) {
  kubeConfig.loadFromCluster();
} else {
  kubeConfig.loadFromDefault();
}

const runtimeImage = environment.FREEHOLD_RUNTIME_IMAGE;
if (runtimeImage === undefined || runtimeImage === "") {
  fail("set FREEHOLD_RUNTIME_IMAGE to the image of the runtime workers, e.g. ghcr.io/freehold/runtime:0.1.0");
}
const pullPolicy = environment.FREEHOLD_IMAGE_PULL_POLICY;
if (pullPolicy !== undefined && !["Always", "IfNotPresent", "Never"].includes(pullPolicy)) {
  fail(`FREEHOLD_IMAGE_PULL_POLICY must be Always, IfNotPresent or Never, not ${pullPolicy}`);
}
function optional(name: string): string | undefined {
  const value = environment[name];
  return value === undefined || value === "" ? undefined : value;
}

function redisUrlOf(name: string): string | undefined {
  const url = optional(name);
  if (url === undefined) return undefined;
  if (isClusterUrl(url)) {
    try {
      parseClusterUrl(url);
    } catch (error) {
      fail(`${name}: ${(error as Error).message}`);
    }
    return url;
  }
  if (!URL.canParse(url) || !/^rediss?:$/.test(new URL(url).protocol)) {
    fail(
      `${name} must be a redis:// or rediss:// URL, or redis+cluster://host:port,host:port for a Redis Cluster, not ${url}`,
    );
  }
  return url;
}

if (optional("REDIS_URL") !== undefined && optional("FREEHOLD_REDIS_URL") === undefined) {
  fail("REDIS_URL was renamed: set FREEHOLD_REDIS_URL (the admin credential) instead");
}
const redisUrl = redisUrlOf("FREEHOLD_REDIS_URL");
const workerRedisUrl = redisUrlOf("FREEHOLD_WORKER_REDIS_URL") ?? redisUrl;
const servedNamespaces = parseConfiguredNamespaces(environment.FREEHOLD_NAMESPACES);
const workerHealthPort = integer("FREEHOLD_WORKER_HEALTH_PORT");
const metricsScrapeNamespaces = (environment.FREEHOLD_METRICS_SCRAPE_NAMESPACES ?? "")
  .split(",")
  .map((name) => name.trim())
  .filter((name) => name !== "");
for (const name of metricsScrapeNamespaces) {
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name))
    fail(`FREEHOLD_METRICS_SCRAPE_NAMESPACES: ${JSON.stringify(name)} is not a namespace name`);
}
const leaseDurationSeconds = integer("FREEHOLD_LEASE_DURATION_SECONDS");
const runRetention = optional("FREEHOLD_RUN_RETENTION");
if (runRetention !== undefined) {
  try {
    parseRetentionSeconds(runRetention, "FREEHOLD_RUN_RETENTION");
  } catch (error) {
    fail((error as Error).message);
  }
}
const operatorNamespace =
  environment.POD_NAMESPACE ??
  (existsSync(serviceAccountNamespace) ? readFileSync(serviceAccountNamespace, "utf8").trim() : "default");
const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString()} ${redactUrls(line)}\n`);
};

const allowInternal = environment.FREEHOLD_DISCOVERY_ALLOW_INTERNAL ?? "false";
if (allowInternal !== "true" && allowInternal !== "false") {
  fail(`FREEHOLD_DISCOVERY_ALLOW_INTERNAL must be true or false, not ${allowInternal}`);
}

const redis =
  redisUrl === undefined
    ? undefined
    : connectRedis(redisUrl, { maxRetriesPerRequest: 2, lazyConnect: false });
redis?.on("error", (error: Error) => {
  log(`redis: ${error.message}`);
});

const operator = createOperator({
  kubeConfig,
  translate: {
    runtimeImage,
    ...(workerRedisUrl === undefined ? {} : { workerRedisUrl }),
    ...(workerHealthPort === undefined ? {} : { workerHealthPort }),
    ...(metricsScrapeNamespaces.length === 0 ? {} : { metricsScrapeNamespaces }),
    ...(runRetention === undefined ? {} : { runRetention }),
    ...(pullPolicy === undefined
      ? {}
      : { imagePullPolicy: pullPolicy as "Always" | "IfNotPresent" | "Never" }),
  },
  ...(environment.FREEHOLD_WATCH_NAMESPACE === undefined
    ? {}
    : { namespace: environment.FREEHOLD_WATCH_NAMESPACE }),
  servedNamespaces,
  operatorNamespace,
  operatorServiceAccount: optional("FREEHOLD_OPERATOR_SERVICE_ACCOUNT") ?? "freehold-operator",
  ...(redis === undefined ? {} : { redis }),
  mcpServer: { allowInternalAddresses: allowInternal === "true" },
  ...(environment.FREEHOLD_LEADER_ELECTION === "false"
    ? {}
    : {
        leaderElection: {
          namespace: operatorNamespace,
          ...(leaseDurationSeconds === undefined ? {} : { leaseDurationSeconds }),
        },
      }),
  identity: environment.POD_NAME ?? `${hostname()}-${process.pid}`,
  log,
});

const health = await startHealthServer({
  host: environment.FREEHOLD_HEALTH_HOST ?? "0.0.0.0",
  port: integer("FREEHOLD_HEALTH_PORT") ?? 8081,
  ready: () => operator.isReady(),
  metrics: operator.metrics,
});
log(`freehold-operator: health at ${health.url} (/healthz, /readyz, /metrics)`);
await operator.start();

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  void (async () => {
    await operator.stop();
    await health.close();
    redis?.disconnect();
    process.exit(0);
  })();
};
process.on("SIGTERM", () => {
  stop("SIGTERM");
});
process.on("SIGINT", () => {
  stop("SIGINT");
});
