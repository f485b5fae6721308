/**
 * The world of the tenancy suite: a real kube-apiserver with its controller manager, a real
 * redis-server whose default user has a password (ACLs on), the operator in this process serving
 * tenants and three single-tenant namespaces, and probes: kubectl reads, Tenant Events, connections
 * with a tenant's credential and whether Redis accepts a password.
 */
import { join } from "node:path";
import type { Condition } from "@freehold/api";
import { startRedisServer, type RedisServer } from "@freehold/handoff";
import { KubeConfig } from "@kubernetes/client-node";
import { Redis } from "ioredis";
import type { Deployment, KubernetesObject } from "../src/kubernetes-objects.ts";
import { createOperator, type Operator } from "../src/operator.ts";
import { getJson, startOperatorTestCluster, type OperatorTestCluster } from "./test-cluster.ts";
import { secretValue } from "./worker-from-deployment.ts";
import type { Kubectl } from "../../../test/cluster/kubectl.ts";

export const examples = join(import.meta.dirname, "..", "..", "..", "examples");
export const operatorNamespace = "freehold-system";
export const adminPassword = "admin-password-of-the-test-redis";
/** Served without a Tenant (FREEHOLD_NAMESPACES). */
export const singleTenant = ["examples-handoffs", "examples-quickstart", "examples-models"];

/** A stored resource with conditions. */
export interface Stored extends KubernetesObject {
  readonly spec?: Record<string, unknown>;
  readonly status?: { readonly conditions?: Condition[]; readonly [field: string]: unknown };
}

/** The running world and its probes. */
export interface TenancyFixture {
  readonly kubectl: Kubectl;
  readonly kubeconfig: string;
  readonly redisServer: RedisServer;
  /** Redis as the admin (the default user with its password). */
  readonly admin: Redis;
  readonly operator: Operator;
  /** What the operator logged. */
  readonly logs: readonly string[];
  kubectlOk(args: readonly string[], input?: string): Promise<string>;
  apply(objects: readonly object[]): Promise<void>;
  tenant(name: string): Promise<Stored>;
  /** A Secret key's value as text. */
  secretValue(namespace: string, name: string, key: string): Promise<string>;
  exists(args: readonly string[]): Promise<boolean>;
  /** The reasons of the Events about a Tenant (cluster-scoped: they are in `default`). */
  tenantEvents(name: string): Promise<string[]>;
  /** A connection with a credential URL; no retries, so a refused password fails at once. */
  connect(url: string): Promise<Redis>;
  /** Whether Redis lets a user in with a password: "OK", or its refusal (WRONGPASS ...). */
  authenticate(username: string, password: string): Promise<string>;
  configHash(namespace: string, deployment: string): Promise<string | undefined>;
  stop(): Promise<void>;
}

/** The condition of a type. */
export function condition(object: Stored, type: string): Condition | undefined {
  return object.status?.conditions?.find((candidate) => candidate.type === type);
}

/** A connection that fails at once instead of retrying, for probes; not connected yet. */
export function probeClient(url: string): Redis {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => undefined);
  return client;
}

/** What a refused command says, or "not refused". */
export async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return "not refused";
}

/**
 * Starts the world: cluster, Redis, the operator (operator namespace `freehold-system`, stand-ins
 * for the chart's ClusterRoles `freehold-workload-manager` and `freehold-tenant-admin`), and applies
 * examples/tenants.
 */
export async function startTenancyFixture(): Promise<TenancyFixture> {
  const [test, redisServer]: [OperatorTestCluster, RedisServer] = await Promise.all([
    startOperatorTestCluster(),
    startRedisServer({ password: adminPassword }),
  ]);
  const admin = new Redis(redisServer.url, { maxRetriesPerRequest: 2 });
  admin.on("error", () => undefined);
  const operatorRedis = new Redis(redisServer.url, { maxRetriesPerRequest: 2 });
  operatorRedis.on("error", () => undefined);
  const logs: string[] = [];
  const clients: Redis[] = [];
  const kubectlOk = async (args: readonly string[], input?: string): Promise<string> => {
    const result = await test.kubectl(args, input);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  };
  const apply = async (objects: readonly object[]): Promise<void> => {
    await kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
  };
  for (const namespace of [operatorNamespace, "legacy", "nowhere", ...singleTenant]) {
    await kubectlOk(["create", "namespace", namespace]);
  }
  await apply([
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "freehold-workload-manager" },
      rules: [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["create"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "freehold-tenant-admin" },
      rules: [{ apiGroups: ["freehold.dev"], resources: ["agents"], verbs: ["create"] }],
    },
  ]);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(test.cluster.kubeconfig);
  const operator = createOperator({
    kubeConfig,
    translate: { runtimeImage: "ghcr.io/freehold/runtime:0.1.0", workerRedisUrl: redisServer.url },
    servedNamespaces: singleTenant,
    operatorNamespace,
    operatorServiceAccount: "freehold-operator",
    redis: operatorRedis,
    tenantUsageIntervalMs: 1_000,
    humanQueueIntervalMs: 1_000,
    mcpServer: { retryMs: 5_000, timeoutMs: 2_000, allowInternalAddresses: true },
    log: (line) => logs.push(line),
  });
  await operator.start();
  // The Tenants first: globex.yaml's Model and Agent are refused until their namespace exists.
  await test.kubectl(["apply", "-f", join(examples, "tenants")]);

  return {
    kubectl: test.kubectl,
    kubeconfig: test.cluster.kubeconfig,
    redisServer,
    admin,
    operator,
    logs,
    kubectlOk,
    apply,
    tenant: (name) => getJson<Stored>(test.kubectl, ["tenant", name]),
    secretValue: (namespace, name, key) => secretValue(test.kubectl, namespace, name, key),
    async exists(args) {
      const result = await test.kubectl(["get", ...args]);
      if (result.code === 0) return true;
      if (result.stderr.includes("NotFound")) return false;
      throw new Error(`kubectl get ${args.join(" ")}: ${result.stderr}`);
    },
    async tenantEvents(name) {
      const events = await getJson<{ items: { reason: string }[] }>(test.kubectl, [
        "-n",
        "default",
        "events",
        `--field-selector=involvedObject.name=${name},involvedObject.kind=Tenant`,
      ]);
      return events.items.map((event) => event.reason);
    },
    async connect(url) {
      const client = probeClient(url);
      clients.push(client);
      await client.connect();
      return client;
    },
    async authenticate(username, password) {
      const probe = new Redis({
        host: "127.0.0.1",
        port: redisServer.port,
        username,
        password,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      // A refused password closes the connection; the refusal itself comes as an error event.
      let refused: string | undefined;
      probe.on("error", (error: Error) => {
        refused ??= error.message;
      });
      try {
        await probe.connect();
        await probe.ping();
        return "OK";
      } catch (error) {
        return refused ?? (error instanceof Error ? error.message : String(error));
      } finally {
        probe.disconnect();
      }
    },
    async configHash(namespace, name) {
      const deployment = await getJson<Deployment>(test.kubectl, ["-n", namespace, "deployment", name]);
      return deployment.spec.template.metadata.annotations?.["freehold.dev/config-hash"];
    },
    async stop() {
      for (const client of clients) client.disconnect();
      await operator.stop();
      admin.disconnect();
      operatorRedis.disconnect();
      await Promise.all([test.stop(), redisServer.stop()]);
    },
  };
}
