/**
 * The operator on a real kube-apiserver (with kube-controller-manager for ReplicaSets and garbage
 * collection), run in this process against Redis: the ACME example becomes ServiceAccounts,
 * ConfigMaps with the runtime config, Deployments and Services owned by their Agents; conditions
 * progress and say what is missing; a Secret change rolls the workers; deleting an Agent removes
 * its objects and its registry entry; MCP servers' tools and human queues' numbers reach status.
 */
import { join } from "node:path";
import { RuntimeConfig, secretEnvName, type Condition } from "@freehold/api";
import {
  createAgentRegistry,
  inboxItemKey,
  inboxQueueKey,
  startRedisServer,
  type RedisServer,
} from "@freehold/handoff";
import { KubeConfig } from "@kubernetes/client-node";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCounterServer, type CounterServer } from "../../../test/fixtures/mcp/counter-server.ts";
import { createOperator, type Operator } from "../src/operator.ts";
import { startHealthServer, type HealthServer } from "../src/health-server.ts";
import type { ConfigMap, Deployment, KubernetesObject, NetworkPolicy } from "../src/kubernetes-objects.ts";
import { eventually, getJson, startOperatorTestCluster, type OperatorTestCluster } from "./test-cluster.ts";

const root = join(import.meta.dirname, "..", "..", "..");
const runtimeImage = "ghcr.io/freehold/runtime:0.1.0";

interface Stored extends KubernetesObject {
  readonly status?: {
    readonly conditions?: Condition[];
    readonly observedGeneration?: number;
    readonly [field: string]: unknown;
  };
}

let test: OperatorTestCluster;
let redisServer: RedisServer;
let redis: Redis;
let operator: Operator;
let health: HealthServer;
let counter: CounterServer;
const logs: string[] = [];

function condition(object: Stored, type: string): Condition | undefined {
  return object.status?.conditions?.find((candidate) => candidate.type === type);
}

async function kubectlOk(args: readonly string[], input?: string): Promise<string> {
  const result = await test.kubectl(args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

beforeAll(async () => {
  [test, redisServer, counter] = await Promise.all([
    startOperatorTestCluster(),
    startRedisServer(),
    startCounterServer({ transport: "http", requireAuthorization: "Bearer let-me-in" }),
  ]);
  redis = new Redis(redisServer.url, { maxRetriesPerRequest: 2 });
  await kubectlOk(["create", "namespace", "acme"]);
  await kubectlOk(["-n", "acme", "create", "secret", "generic", "openai", "--from-literal=api-key=sk-first"]);
  await kubectlOk([
    "-n",
    "acme",
    "create",
    "secret",
    "generic",
    "billing-mcp",
    "--from-literal=authorization=Bearer x",
  ]);
  await kubectlOk(["apply", "-f", join(root, "examples", "acme-support")]);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(test.cluster.kubeconfig);
  operator = createOperator({
    kubeConfig,
    translate: { runtimeImage, workerRedisUrl: "redis://redis.freehold-system.svc:6379" },
    servedNamespaces: "*",
    redis,
    humanQueueIntervalMs: 500,
    // The MCP servers of this suite run on 127.0.0.1.
    mcpServer: { retryMs: 2_000, timeoutMs: 3_000, allowInternalAddresses: true },
    leaderElection: { namespace: "default", leaseDurationSeconds: 5, retryPeriodMs: 500 },
    identity: "operator-under-test",
    log: (line) => logs.push(line),
  });
  health = await startHealthServer({ ready: () => operator.isReady(), metrics: operator.metrics });
  await operator.start();
});

afterAll(async () => {
  await operator.stop();
  await health.close();
  redis.disconnect();
  await Promise.all([test.stop(), redisServer.stop(), counter.close()]);
});

describe("the ACME example", () => {
  it("becomes a ServiceAccount, ConfigMap, Deployment and Service per agent, owned by the agent", async () => {
    const agent = await getJson<Stored>(test.kubectl, ["-n", "acme", "agent", "support"]);
    const objects = await eventually(async () => {
      const found = await Promise.all(
        ["serviceaccount", "configmap", "deployment", "service"].map((kind) =>
          getJson<KubernetesObject>(test.kubectl, ["-n", "acme", kind, "support-agent"]),
        ),
      );
      return found;
    });
    for (const object of objects) {
      expect(object.metadata.ownerReferences).toEqual([
        {
          apiVersion: "freehold.dev/v1alpha1",
          kind: "Agent",
          name: "support",
          uid: agent.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(object.metadata.labels?.["app.kubernetes.io/managed-by"]).toBe("freehold-operator");
    }
    const configMap = objects[1] as ConfigMap;
    const config = RuntimeConfig.parse(JSON.parse(configMap.data["config.json"] ?? "null"));
    expect(config.agents.map((item) => item.metadata.name)).toEqual(["support"]);
    expect(config.models.map((model) => model.metadata.name)).toEqual(["hosted"]);
    expect(config.humanQueues.map((queue) => queue.metadata.name)).toEqual(["support-desk"]);
    const deployment = objects[2] as Deployment;
    const [container] = deployment.spec.template.spec.containers;
    expect(container?.image).toBe(runtimeImage);
    expect(container?.command).toEqual([
      "freehold",
      "worker",
      "--config",
      "/etc/freehold/config.json",
      "--concurrency",
      "10",
    ]);
    expect(container?.env).toContainEqual({
      name: secretEnvName({ name: "openai", key: "api-key" }),
      valueFrom: { secretKeyRef: { name: "openai", key: "api-key" } },
    });
    expect(JSON.stringify(objects)).not.toContain("sk-first");
    expect(deployment.spec.template.metadata.annotations?.["freehold.dev/config-hash"]).toMatch(
      /^[0-9a-f]{16}$/,
    );
    expect(deployment.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true });
  });

  it("gets ReplicaSets and pods from the controller manager", async () => {
    await eventually(async () => {
      const pods = await getJson<{ items: KubernetesObject[] }>(test.kubectl, [
        "-n",
        "acme",
        "pods",
        "-l",
        "freehold.dev/agent=triage",
      ]);
      expect(pods.items).toHaveLength(1);
    });
  });

  it("makes an HPA for an agent with autoscaling, and leaves replicas to it", async () => {
    const hpa = await eventually(() =>
      getJson<{ spec: { minReplicas: number; maxReplicas: number } }>(test.kubectl, [
        "-n",
        "acme",
        "horizontalpodautoscaler",
        "billing-agent",
      ]),
    );
    expect(hpa.spec).toMatchObject({ minReplicas: 1, maxReplicas: 5 });
  });

  it("progresses the conditions; Ready waits for workers (no node runs pods here)", async () => {
    const agent = await eventually(async () => {
      const stored = await getJson<Stored>(test.kubectl, ["-n", "acme", "agent", "triage"]);
      expect(condition(stored, "Ready")?.reason).toBe("WorkersNotReady");
      return stored;
    });
    for (const type of ["ModelResolved", "ToolsResolved", "HandoffsResolved"]) {
      expect(condition(agent, type)).toMatchObject({
        status: "True",
        observedGeneration: agent.metadata.generation,
      });
    }
    expect(agent.status?.observedGeneration).toBe(agent.metadata.generation);
    expect(agent.status?.model).toBe("openai-compatible/Qwen/Qwen3-8B");
    const listed = await kubectlOk(["-n", "acme", "get", "agents"]);
    expect(listed).toMatch(/triage\s+False\s+default\s+freehold\s+0/);
  });

  it("validates Models", async () => {
    const model = await eventually(async () => {
      const stored = await getJson<Stored>(test.kubectl, ["-n", "acme", "model", "hosted"]);
      expect(condition(stored, "Ready")?.status).toBe("True");
      return stored;
    });
    expect(condition(model, "SecretResolved")).toMatchObject({ status: "True", reason: "Resolved" });
  });
});

describe("a missing Model", () => {
  it("gives ModelResolved=False naming it, and no workers, until it appears", async () => {
    await kubectlOk(["create", "namespace", "missing"]);
    await kubectlOk(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "freehold.dev/v1alpha1",
        kind: "Agent",
        metadata: { name: "lonely", namespace: "missing" },
        spec: { model: { ref: "default" }, instructions: "Wait for your model." },
      }),
    );
    const agent = await eventually(async () => {
      const stored = await getJson<Stored>(test.kubectl, ["-n", "missing", "agent", "lonely"]);
      expect(condition(stored, "ModelResolved")?.status).toBe("False");
      return stored;
    });
    expect(condition(agent, "ModelResolved")).toMatchObject({
      reason: "ModelNotFound",
      message: "Model default not found in namespace missing; apply it or change spec.model.ref",
    });
    expect(condition(agent, "Ready")).toMatchObject({ status: "False", reason: "ModelNotFound" });
    expect((await test.kubectl(["-n", "missing", "get", "deployment", "lonely-agent"])).code).not.toBe(0);
    const events = await kubectlOk([
      "-n",
      "missing",
      "get",
      "events",
      "--field-selector=involvedObject.name=lonely",
    ]);
    expect(events).toContain("ModelNotFound");

    await kubectlOk(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "freehold.dev/v1alpha1",
        kind: "Model",
        metadata: { name: "default", namespace: "missing" },
        spec: { provider: "openai-compatible", model: "scripted", baseUrl: "http://127.0.0.1:8765/v1" },
      }),
    );
    await eventually(async () => {
      const stored = await getJson<Stored>(test.kubectl, ["-n", "missing", "agent", "lonely"]);
      expect(condition(stored, "ModelResolved")).toMatchObject({ status: "True", reason: "Resolved" });
      expect(condition(stored, "Ready")?.reason).toBe("WorkersNotReady");
    });
    await eventually(() => getJson(test.kubectl, ["-n", "missing", "deployment", "lonely-agent"]));
  });

  it("then becomes Ready once a worker pod is ready", async () => {
    // No kubelet runs here: mark the worker's pod ready as a kubelet would.
    const pod = await eventually(async () => {
      const pods = await getJson<{ items: KubernetesObject[] }>(test.kubectl, [
        "-n",
        "missing",
        "pods",
        "-l",
        "freehold.dev/agent=lonely",
      ]);
      const [first] = pods.items;
      if (first === undefined) throw new Error("no worker pod yet");
      return first;
    });
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    await kubectlOk([
      "-n",
      "missing",
      "patch",
      "pod",
      pod.metadata.name,
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({
        status: {
          phase: "Running",
          conditions: [{ type: "Ready", status: "True", lastTransitionTime: now }],
        },
      }),
    ]);
    const agent = await eventually(async () => {
      const stored = await getJson<Stored>(test.kubectl, ["-n", "missing", "agent", "lonely"]);
      expect(condition(stored, "Ready")).toMatchObject({ status: "True", reason: "WorkersReady" });
      return stored;
    });
    expect(condition(agent, "Ready")?.message).toBe("1/1 workers of Deployment lonely-agent ready");
    expect(agent.status?.readyReplicas).toBe(1);
    const listed = await kubectlOk(["-n", "missing", "get", "agents"]);
    expect(listed).toMatch(/lonely\s+True\s+default\s+freehold\s+1/);
  });
});

describe("a Secret change", () => {
  it("rolls the Deployments of the agents that read it", async () => {
    const hashOf = async (name: string): Promise<string | undefined> =>
      (await getJson<Deployment>(test.kubectl, ["-n", "acme", "deployment", name])).spec.template.metadata
        .annotations?.["freehold.dev/config-hash"];
    const before = await eventually(async () => {
      const hash = await hashOf("support-agent");
      expect(hash).toBeDefined();
      return hash;
    });
    const untouched = await eventually(() => hashOf("researcher-agent"));
    const secret = await kubectlOk([
      "-n",
      "acme",
      "create",
      "secret",
      "generic",
      "openai",
      "--from-literal=api-key=sk-rotated",
      "--dry-run=client",
      "-o",
      "json",
    ]);
    await kubectlOk(["replace", "-f", "-"], secret);
    await eventually(async () => {
      expect(await hashOf("support-agent")).not.toBe(before);
    });
    // researcher's model (default) falls back to hosted, which reads the key: it rolls too.
    await eventually(async () => {
      expect(await hashOf("researcher-agent")).not.toBe(untouched);
    });
    await eventually(async () => {
      const sets = await getJson<{ items: KubernetesObject[] }>(test.kubectl, [
        "-n",
        "acme",
        "replicasets",
        "-l",
        "freehold.dev/agent=support",
      ]);
      expect(sets.items.length).toBeGreaterThanOrEqual(2);
    });
  });
});

describe("deleting an Agent", () => {
  it("removes its objects and its registry entry", async () => {
    await createAgentRegistry(redis).register("acme", { name: "triage" });
    const agent = await eventually(async () => {
      const stored = await getJson<Stored>(test.kubectl, ["-n", "acme", "agent", "triage"]);
      expect(stored.metadata.finalizers).toContain("freehold.dev/agent-registry");
      return stored;
    });
    expect(agent.metadata.finalizers).toEqual(["freehold.dev/agent-registry"]);
    await kubectlOk(["-n", "acme", "delete", "agent", "triage", "--wait=true", "--timeout=30s"]);
    await eventually(async () => {
      for (const kind of ["deployment", "configmap", "service", "serviceaccount"]) {
        const got = await test.kubectl(["-n", "acme", "get", kind, "triage-agent"]);
        expect(got.stderr, kind).toMatch(/NotFound/);
      }
    });
    expect((await createAgentRegistry(redis).list("acme")).map((entry) => entry.name)).not.toContain(
      "triage",
    );
  });
});

describe("an MCP server", () => {
  it("gets its tools listed in status, with a header from a Secret", async () => {
    await kubectlOk(["create", "namespace", "tools"]);
    await kubectlOk([
      "-n",
      "tools",
      "create",
      "secret",
      "generic",
      "counter",
      "--from-literal=token=Bearer let-me-in",
    ]);
    await kubectlOk(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "freehold.dev/v1alpha1",
        kind: "MCPServer",
        metadata: { name: "counter", namespace: "tools" },
        spec: {
          http: {
            url: counter.url,
            headers: [{ name: "Authorization", secretKeyRef: { name: "counter", key: "token" } }],
          },
        },
      }),
    );
    const server = await eventually(async () => {
      const stored = await getJson<Stored>(test.kubectl, ["-n", "tools", "mcpserver", "counter"]);
      expect(condition(stored, "Ready")?.status).toBe("True");
      return stored;
    });
    const tools = server.status?.tools as { name: string }[];
    expect(tools.map((tool) => tool.name)).toContain("add");
    expect(server.status?.url).toBe(counter.url);
  });

  it("is not Ready, with a generic error, when it cannot be reached", async () => {
    const stored = await eventually(async () => {
      const got = await getJson<Stored>(test.kubectl, ["-n", "acme", "mcpserver", "knowledge-base"]);
      expect(condition(got, "Ready")?.status).toBe("False");
      return got;
    });
    expect(condition(stored, "Ready")?.reason).toBe("Unreachable");
    // Generic: how it failed (no such host here) is only in the operator's log.
    expect(condition(stored, "Ready")?.message).toBe(
      "could not discover tools at http://knowledge-base-mcp.acme.svc:8080/mcp",
    );
    expect(logs.some((line) => line.includes("could not discover tools at http://knowledge-base-mcp"))).toBe(
      true,
    );
  });
});

describe("a stdio MCP server's bridge token", () => {
  const hashOf = async (name: string): Promise<string | undefined> =>
    (await getJson<Deployment>(test.kubectl, ["-n", "acme", "deployment", name])).spec.template.metadata
      .annotations?.["freehold.dev/config-hash"];
  const tokenOf = async (): Promise<string> => {
    const secret = await getJson<KubernetesObject & { data: Record<string, string> }>(test.kubectl, [
      "-n",
      "acme",
      "secret",
      "knowledge-base-mcp-token",
    ]);
    const text = (key: string): string => Buffer.from(secret.data[key] ?? "", "base64").toString("utf8");
    expect(text("authorization")).toBe(`Bearer ${text("token")}`);
    return text("token");
  };

  it("is a Secret the operator makes, owned by the server, read by the bridge and the agents that use it; deleting it rolls both", async () => {
    const server = await getJson<Stored>(test.kubectl, ["-n", "acme", "mcpserver", "knowledge-base"]);
    const first = await eventually(tokenOf);
    expect(first.length).toBeGreaterThanOrEqual(40);
    const secret = await getJson<KubernetesObject>(test.kubectl, [
      "-n",
      "acme",
      "secret",
      "knowledge-base-mcp-token",
    ]);
    expect(secret.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "MCPServer",
      uid: server.metadata.uid,
    });

    const [bridge, worker] = await eventually(async () => {
      const found = await Promise.all(
        ["knowledge-base-mcp", "researcher-agent"].map((name) =>
          getJson<Deployment>(test.kubectl, ["-n", "acme", "deployment", name]),
        ),
      );
      return found;
    });
    expect(bridge?.spec.template.spec.containers[0]?.env).toContainEqual({
      name: "FREEHOLD_MCP_BRIDGE_TOKEN",
      valueFrom: { secretKeyRef: { name: "knowledge-base-mcp-token", key: "token" } },
    });
    const reference = { name: "knowledge-base-mcp-token", key: "authorization" };
    expect(worker?.spec.template.spec.containers[0]?.env).toContainEqual({
      name: secretEnvName(reference),
      valueFrom: { secretKeyRef: reference },
    });
    const configMap = await getJson<ConfigMap>(test.kubectl, ["-n", "acme", "configmap", "researcher-agent"]);
    const config = RuntimeConfig.parse(JSON.parse(configMap.data["config.json"] ?? "null"));
    expect(
      config.mcpServers.find((item) => item.metadata.name === "knowledge-base")?.spec.http?.headers,
    ).toEqual([{ name: "Authorization", secretKeyRef: reference }]);
    expect(JSON.stringify([bridge, worker, configMap])).not.toContain(first);

    const before = await Promise.all([hashOf("knowledge-base-mcp"), hashOf("researcher-agent")]);
    await kubectlOk(["-n", "acme", "delete", "secret", "knowledge-base-mcp-token"]);
    const second = await eventually(async () => {
      const token = await tokenOf();
      expect(token).not.toBe(first);
      return token;
    });
    expect(second.length).toBeGreaterThanOrEqual(40);
    await eventually(async () => {
      const after = await Promise.all([hashOf("knowledge-base-mcp"), hashOf("researcher-agent")]);
      expect(after[0]).not.toBe(before[0]);
      expect(after[1]).not.toBe(before[1]);
    });
  });
});

describe("a stdio MCP server's NetworkPolicy", () => {
  const agentIngress = async (): Promise<unknown[]> => {
    const policy = await getJson<NetworkPolicy>(test.kubectl, [
      "-n",
      "bridges",
      "networkpolicy",
      "notes-mcp",
    ]);
    return policy.spec.ingress
      .flatMap((rule) => rule.from)
      .filter((peer) => peer.namespaceSelector === undefined);
  };
  const agent = (tools: readonly unknown[]): string =>
    JSON.stringify({
      apiVersion: "freehold.dev/v1alpha1",
      kind: "Agent",
      metadata: { name: "archivist", namespace: "bridges" },
      spec: { model: { ref: "default" }, instructions: "Keep notes.", tools },
    });

  it("admits the workers of the Agents that use it, following their spec.tools, and goes with the bridge", async () => {
    await kubectlOk(["create", "namespace", "bridges"]);
    await kubectlOk(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "freehold.dev/v1alpha1",
        kind: "MCPServer",
        metadata: { name: "notes", namespace: "bridges" },
        spec: { stdio: { command: "npx", args: ["-y", "@modelcontextprotocol/server-memory"] } },
      }),
    );
    const server = await getJson<Stored>(test.kubectl, ["-n", "bridges", "mcpserver", "notes"]);
    const policy = await eventually(async () =>
      getJson<NetworkPolicy>(test.kubectl, ["-n", "bridges", "networkpolicy", "notes-mcp"]),
    );
    expect(policy.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "MCPServer",
      uid: server.metadata.uid,
    });
    expect(policy.spec.podSelector).toEqual({ matchLabels: { "freehold.dev/mcp-server": "notes" } });
    expect(policy.spec.policyTypes).toEqual(["Ingress"]);
    // Only the operator (it lists the tools), on the bridge port.
    expect(policy.spec.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "default" } },
            podSelector: {
              matchLabels: {
                "app.kubernetes.io/part-of": "freehold",
                "app.kubernetes.io/component": "operator",
              },
            },
          },
        ],
        ports: [{ protocol: "TCP", port: 8080 }],
      },
    ]);

    await kubectlOk(["apply", "-f", "-"], agent([{ mcpServer: "notes" }]));
    await eventually(async () => {
      expect(await agentIngress()).toEqual([
        {
          podSelector: {
            matchExpressions: [{ key: "freehold.dev/agent", operator: "In", values: ["archivist"] }],
          },
        },
      ]);
    });

    await kubectlOk(["apply", "-f", "-"], agent([]));
    await eventually(async () => {
      expect(await agentIngress()).toEqual([]);
    });

    // Moved to HTTP: the bridge, its Service, NetworkPolicy and token Secret are pruned.
    await kubectlOk(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "freehold.dev/v1alpha1",
        kind: "MCPServer",
        metadata: { name: "notes", namespace: "bridges" },
        spec: { http: { url: counter.url } },
      }),
    );
    await eventually(async () => {
      for (const kind of ["networkpolicy", "deployment", "service"]) {
        const got = await test.kubectl(["-n", "bridges", "get", kind, "notes-mcp"]);
        expect(got.stderr, kind).toMatch(/NotFound/);
      }
      const token = await test.kubectl(["-n", "bridges", "get", "secret", "notes-mcp-token"]);
      expect(token.stderr).toMatch(/NotFound/);
    });
  });
});

describe("a HumanQueue", () => {
  it("reports waiting items and the oldest wait from Redis", async () => {
    const queuedAt = new Date(Date.now() - 120_000).toISOString();
    const item = {
      schemaVersion: 1,
      id: "item-1",
      namespace: "acme",
      queue: "billing-desk",
      runId: "run-1",
      agent: "billing",
      summary: "Wants a refund.",
      reason: "Refunds need a person.",
      priority: "normal",
      conversation: [],
      status: "waiting",
      createdAt: queuedAt,
      queuedAt,
      escalations: 0,
      leaseSeconds: 900,
    };
    await redis.set(inboxItemKey("acme", "item-1"), JSON.stringify(item));
    await redis.zadd(
      inboxQueueKey("acme", "billing-desk", "waiting", "item-1"),
      Date.parse(queuedAt),
      "item-1",
    );
    const queue = await eventually(async () => {
      const stored = await getJson<Stored>(test.kubectl, ["-n", "acme", "humanqueue", "billing-desk"]);
      expect(stored.status?.waiting).toBe(1);
      return stored;
    });
    expect(queue.status?.oldestWaitSeconds).toBeGreaterThanOrEqual(120);
    expect(condition(queue, "Ready")).toMatchObject({ status: "True", message: "1 waiting, 0 claimed" });
  });
});

describe("the operator", () => {
  it("holds the Lease, is ready, and serves metrics", async () => {
    const lease = await getJson<{ spec: { holderIdentity: string } }>(test.kubectl, [
      "-n",
      "default",
      "lease",
      "freehold-operator",
    ]);
    expect(lease.spec.holderIdentity).toBe("operator-under-test");
    expect((await fetch(`${health.url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${health.url}/metrics`)).text();
    expect(metrics).toMatch(/freehold_operator_reconcile_total\{kind="Agent",result="success"\} [1-9]/);
    expect(metrics).toContain('freehold_operator_queue_depth{kind="Agent"}');
    expect(metrics).toContain("freehold_operator_leader 1");
    // No reconcile failed; discovery's details (hosts that do not resolve here) are logged, not failures.
    expect(
      logs.filter((line) => line.includes("failed") && !line.includes("could not discover tools at")),
    ).toEqual([]);
  });
});
