/**
 * Golden tests of the translations: the ACME example (examples/acme-support) plus its Secrets, and
 * the same with pieces missing. Each golden file under testdata/ holds the objects and conditions
 * one resource becomes. `UPDATE_GOLDEN=1 pnpm exec vitest run --project unit operators` rewrites them.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  parseManifests,
  RuntimeConfig,
  secretEnvName,
  type Agent,
  type McpServer,
  type Model,
  type Resource,
  type Tenant,
} from "@freehold/api";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { clusterViewFromObjects } from "./cluster-view.ts";
import { agentReadyCondition, translateAgent } from "./translate-agent.ts";
import { translateMcpServer, mcpServerReadyCondition } from "./translate-mcp-server.ts";
import { translateModel } from "./translate-model.ts";
import { tenantReadyCondition, translateTenant, type TenantTranslateOptions } from "./translate-tenant.ts";
import { tenantViewFromObjects } from "./tenant-view.ts";
import { trueCondition } from "./conditions.ts";
import type { ConfigMap, Deployment, KubernetesObject, NetworkPolicy } from "./kubernetes-objects.ts";
import type { TranslateOptions } from "./translate-options.ts";

const root = join(import.meta.dirname, "..", "..", "..");
const testdata = join(import.meta.dirname, "testdata");
const update = process.env.UPDATE_GOLDEN === "1";
const options: TranslateOptions = {
  runtimeImage: "ghcr.io/freehold/runtime:0.1.0",
  workerRedisUrl: "redis://redis.freehold-system.svc:6379",
  operatorNamespace: "freehold-system",
};

function acmeResources(): Resource[] {
  const folder = join(root, "examples", "acme-support");
  return readdirSync(folder)
    .filter((file) => file.endsWith(".yaml"))
    .sort()
    .flatMap((file) => parseManifests(readFileSync(join(folder, file), "utf8"), file))
    .map((resource) => ({
      ...resource,
      metadata: { ...resource.metadata, uid: `uid-${resource.metadata.name}`, generation: 1 },
    }));
}

function bridgeTokenSecret(token: string): KubernetesObject & { data: Record<string, string> } {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "knowledge-base-mcp-token", namespace: "acme" },
    data: {
      token: Buffer.from(token).toString("base64"),
      authorization: Buffer.from(`Bearer ${token}`).toString("base64"),
    },
  };
}

const secrets = [
  {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "openai", namespace: "acme" },
    data: { "api-key": "c2stdGVzdA==" },
  },
  {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "billing-mcp", namespace: "acme" },
    data: { authorization: "QmVhcmVyIHg=" },
  },
  {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "freehold-redis", namespace: "acme" },
    data: {
      url: Buffer.from("redis://freehold-tenant-acme:first@redis.freehold-system.svc:6379").toString(
        "base64",
      ),
    },
  },
  bridgeTokenSecret("the-first-token-of-the-bridge"),
];

function golden(name: string, value: unknown): void {
  const file = join(testdata, `${name}.golden.yaml`);
  const text = stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
  if (update) writeFileSync(file, text);
  expect(text, `${file} differs; rerun with UPDATE_GOLDEN=1 after checking the change`).toBe(
    readFileSync(file, "utf8"),
  );
}

function configOf(objects: readonly KubernetesObject[]): RuntimeConfig {
  const configMap = objects.find((object): object is ConfigMap => object.kind === "ConfigMap");
  return RuntimeConfig.parse(JSON.parse(configMap?.data["config.json"] ?? "null"));
}

function byKind<T extends Resource>(resources: readonly Resource[], kind: T["kind"]): T[] {
  return resources.filter((resource): resource is T => resource.kind === kind);
}

describe("translateAgent", () => {
  const resources = acmeResources();
  const cluster = clusterViewFromObjects([...resources, ...secrets]);

  it.each(byKind<Agent>(resources, "Agent").map((agent) => [agent.metadata.name, agent] as const))(
    "renders %s",
    (name, agent) => {
      const translation = translateAgent(agent, cluster, options);
      expect(translation.complete).toBe(true);
      golden(`agent-${name}`, { conditions: translation.conditions, objects: translation.objects });
    },
  );

  it("renders the exact RuntimeConfig the worker reads, without a Secret value", () => {
    const billing = byKind<Agent>(resources, "Agent").find((agent) => agent.metadata.name === "billing");
    if (billing === undefined) throw new Error("examples/acme-support has no billing agent");
    const translation = translateAgent(billing, cluster, options);
    const config = configOf(translation.objects);
    expect(config.agents.map((agent) => agent.metadata.name)).toEqual(["billing"]);
    expect(config.models.map((model) => model.metadata.name)).toEqual(["default", "hosted"]);
    expect(config.mcpServers.map((server) => server.metadata.name)).toEqual(["billing-api"]);
    expect(config.humanQueues.map((queue) => queue.metadata.name)).toEqual(["billing-desk"]);
    expect(config.peers.map((peer) => peer.name)).toEqual(["researcher", "support"]);
    const everything = JSON.stringify(translation.objects);
    expect(everything).not.toContain("c2stdGVzdA==");
    expect(everything).not.toContain("QmVhcmVyIHg=");
    const deployment = translation.objects.find((object) => object.kind === "Deployment");
    expect(JSON.stringify(deployment)).toContain(secretEnvName({ name: "openai", key: "api-key" }));
  });

  it("rewrites a stdio MCPServer to its bridge's URL, with the bridge's token from its Secret", () => {
    const researcher = byKind<Agent>(resources, "Agent").find(
      (agent) => agent.metadata.name === "researcher",
    );
    if (researcher === undefined) throw new Error("examples/acme-support has no researcher agent");
    const translation = translateAgent(researcher, cluster, options);
    const config = configOf(translation.objects);
    const reference = { name: "knowledge-base-mcp-token", key: "authorization" };
    expect(config.mcpServers[0]?.spec).toEqual({
      description: "Remembers facts about customers across conversations.",
      http: {
        url: "http://knowledge-base-mcp.acme.svc:8080/mcp",
        headers: [{ name: "Authorization", secretKeyRef: reference }],
      },
      timeoutSeconds: 60,
    });
    const deployment = translation.objects.find(
      (object): object is Deployment => object.kind === "Deployment",
    );
    expect(deployment?.spec.template.spec.containers[0]?.env).toContainEqual({
      name: secretEnvName(reference),
      valueFrom: { secretKeyRef: reference },
    });
    expect(JSON.stringify(translation.objects)).not.toContain("the-first-token-of-the-bridge");
  });

  it("rolls the workers of the agents that use a stdio server when its bridge token changes", () => {
    const researcher = byKind<Agent>(resources, "Agent").find(
      (agent) => agent.metadata.name === "researcher",
    );
    if (researcher === undefined) throw new Error("examples/acme-support has no researcher agent");
    const before = translateAgent(researcher, cluster, options).configHash;
    const rotated = clusterViewFromObjects([
      ...resources,
      ...secrets.slice(0, 3),
      bridgeTokenSecret("the-second-token-of-the-bridge"),
    ]);
    expect(translateAgent(researcher, rotated, options).configHash).not.toBe(before);
  });

  it("holds the workers of an agent whose stdio server's bridge token does not exist yet", () => {
    const researcher = byKind<Agent>(resources, "Agent").find(
      (agent) => agent.metadata.name === "researcher",
    );
    if (researcher === undefined) throw new Error("examples/acme-support has no researcher agent");
    const translation = translateAgent(
      researcher,
      clusterViewFromObjects([...resources, ...secrets.slice(0, 3)]),
      options,
    );
    expect(translation.complete).toBe(false);
    expect(translation.objects.map((object) => object.kind)).not.toContain("Deployment");
    expect(translation.conditions.find((condition) => condition.type === "ToolsResolved")).toMatchObject({
      status: "False",
      reason: "SecretNotFound",
      message: expect.stringContaining(
        "Secret knowledge-base-mcp-token not found in namespace acme",
      ) as string,
    });
  });

  it("changes the config hash when a Secret value changes, and only then", () => {
    const support = byKind<Agent>(resources, "Agent").find((agent) => agent.metadata.name === "support");
    if (support === undefined) throw new Error("examples/acme-support has no support agent");
    const before = translateAgent(support, cluster, options).configHash;
    const same = translateAgent(
      support,
      clusterViewFromObjects([...resources, ...secrets]),
      options,
    ).configHash;
    const rotated = clusterViewFromObjects([
      ...resources,
      { ...secrets[0], data: { "api-key": "c2stbmV3" } },
      secrets[1],
      secrets[2],
    ]);
    expect(same).toBe(before);
    expect(translateAgent(support, rotated, options).configHash).not.toBe(before);
  });

  it("reads FREEHOLD_REDIS_URL from the Secret freehold-redis, and rolls when it changes", () => {
    const support = byKind<Agent>(resources, "Agent").find((agent) => agent.metadata.name === "support");
    if (support === undefined) throw new Error("examples/acme-support has no support agent");
    const translation = translateAgent(support, cluster, options);
    const deployment = translation.objects.find(
      (object): object is Deployment => object.kind === "Deployment",
    );
    const env = deployment?.spec.template.spec.containers[0]?.env ?? [];
    expect(env.find((variable) => variable.name === "FREEHOLD_REDIS_URL")).toEqual({
      name: "FREEHOLD_REDIS_URL",
      valueFrom: { secretKeyRef: { name: "freehold-redis", key: "url" } },
    });
    expect(JSON.stringify(translation.objects)).not.toContain("redis://");
    const rotated = clusterViewFromObjects([
      ...resources,
      secrets[0],
      secrets[1],
      {
        ...secrets[2],
        data: { url: Buffer.from("redis://freehold-tenant-acme:second@redis:6379").toString("base64") },
      },
    ]);
    expect(translateAgent(support, rotated, options).configHash).not.toBe(translation.configHash);
  });

  it("holds the workers until the namespace's freehold-redis Secret exists", () => {
    const support = byKind<Agent>(resources, "Agent").find((agent) => agent.metadata.name === "support");
    if (support === undefined) throw new Error("examples/acme-support has no support agent");
    const translation = translateAgent(support, clusterViewFromObjects([...resources, secrets[0]]), options);
    expect(translation.complete).toBe(false);
    const ready = agentReadyCondition(translation, undefined);
    expect(ready).toMatchObject({ status: "False", reason: "SecretNotFound" });
    expect(ready.message).toContain("Secret freehold-redis not found in namespace acme");
    const withoutRedis = translateAgent(support, clusterViewFromObjects([...resources, secrets[0]]), {
      runtimeImage: options.runtimeImage,
    });
    expect(withoutRedis.complete).toBe(true);
  });

  it("gives the workers the run retention when told to, which an agent's spec.runtime.env overrides", () => {
    const support = byKind<Agent>(resources, "Agent").find((agent) => agent.metadata.name === "support");
    if (support === undefined) throw new Error("examples/acme-support has no support agent");
    const envOf = (agent: Agent, retention: string | undefined) =>
      translateAgent(agent, cluster, {
        ...options,
        ...(retention === undefined ? {} : { runRetention: retention }),
      })
        .objects.find((object): object is Deployment => object.kind === "Deployment")
        ?.spec.template.spec.containers[0]?.env?.filter(
          (variable) => variable.name === "FREEHOLD_RUN_RETENTION",
        );
    expect(envOf(support, undefined)).toEqual([]);
    expect(envOf(support, "3d")).toEqual([{ name: "FREEHOLD_RUN_RETENTION", value: "3d" }]);
    const keepsLonger: Agent = {
      ...support,
      spec: {
        ...support.spec,
        runtime: { ...support.spec.runtime, env: [{ name: "FREEHOLD_RUN_RETENTION", value: "30d" }] },
      },
    };
    expect(envOf(keepsLonger, "3d")).toEqual([{ name: "FREEHOLD_RUN_RETENTION", value: "30d" }]);
  });

  it("holds the workers of agents used as tools in a cycle, naming the cycle", () => {
    const agents = byKind<Agent>(resources, "Agent");
    const [first, second] = agents;
    if (first === undefined || second === undefined)
      throw new Error("examples/acme-support has fewer than 2 agents");
    const asking = (agent: Agent, other: string): Agent => ({
      ...agent,
      spec: { ...agent.spec, tools: [...(agent.spec.tools ?? []), { agent: other }] },
    });
    const cyclic = [asking(first, second.metadata.name), asking(second, first.metadata.name)];
    const view = clusterViewFromObjects([
      ...resources.filter((resource) => !(resource.kind === "Agent" && [first, second].includes(resource))),
      ...cyclic,
      ...secrets,
    ]);
    const [cyclicFirst] = cyclic;
    if (cyclicFirst === undefined) throw new Error("unreachable");
    const translation = translateAgent(cyclicFirst, view, options);
    expect(translation.complete).toBe(false);
    const tools = translation.conditions.find((condition) => condition.type === "ToolsResolved");
    expect(tools).toMatchObject({ status: "False", reason: "AgentToolCycle" });
    expect(tools?.message).toContain(
      `${first.metadata.name} -> ${second.metadata.name} -> ${first.metadata.name}`,
    );
    // Without the way back, no cycle.
    const oneWay = clusterViewFromObjects([
      ...resources.filter((resource) => !(resource.kind === "Agent" && resource === first)),
      cyclicFirst,
      ...secrets,
    ]);
    expect(
      translateAgent(cyclicFirst, oneWay, options).conditions.find(
        (condition) => condition.type === "ToolsResolved",
      )?.status,
    ).not.toBe("False");
  });

  it("says what is missing, and holds the workers", () => {
    const withoutDefault = resources.filter(
      (resource) =>
        !(resource.kind === "Model" && resource.metadata.name === "default") &&
        resource.kind !== "HumanQueue",
    );
    const sparse = clusterViewFromObjects([...withoutDefault, secrets[0], secrets[2]]);
    const billing = byKind<Agent>(resources, "Agent").find((agent) => agent.metadata.name === "billing");
    if (billing === undefined) throw new Error("examples/acme-support has no billing agent");
    const translation = translateAgent(billing, sparse, options);
    expect(translation.complete).toBe(false);
    expect(translation.objects.map((object) => object.kind)).toEqual(["ServiceAccount", "Service"]);
    const ready = agentReadyCondition(translation, undefined);
    golden("agent-billing-missing", {
      conditions: [...translation.conditions, ready],
      objects: translation.objects,
    });
    expect(translation.conditions[0]).toMatchObject({
      type: "ModelResolved",
      status: "False",
      reason: "ModelNotFound",
      message: "Model default not found in namespace acme; apply it or change spec.model.ref",
    });
  });

  it("is Ready when a worker is ready, or none is wanted", () => {
    const triage = byKind<Agent>(resources, "Agent").find((agent) => agent.metadata.name === "triage");
    if (triage === undefined) throw new Error("examples/acme-support has no triage agent");
    const translation = translateAgent(triage, cluster, options);
    const rendered = translation.objects.find((object): object is Deployment => object.kind === "Deployment");
    if (rendered === undefined) throw new Error("no Deployment rendered");
    const deployment = (replicas: number, readyReplicas: number): Deployment => ({
      ...rendered,
      spec: { ...rendered.spec, replicas },
      status: { readyReplicas },
    });
    expect(agentReadyCondition(translation, undefined)).toMatchObject({
      status: "False",
      reason: "WorkersPending",
    });
    expect(agentReadyCondition(translation, deployment(2, 0))).toMatchObject({
      status: "False",
      reason: "WorkersNotReady",
    });
    expect(agentReadyCondition(translation, deployment(2, 1))).toMatchObject({
      status: "True",
      reason: "WorkersReady",
      message: "1/2 workers of Deployment triage-agent ready",
    });
    expect(agentReadyCondition(translation, deployment(0, 0))).toMatchObject({
      status: "True",
      reason: "ScaledToZero",
    });
  });

  it("exposes the workers' /metrics on the health port, with Prometheus scrape annotations", () => {
    const billing = byKind<Agent>(resources, "Agent").find((agent) => agent.metadata.name === "billing");
    if (billing === undefined) throw new Error("examples/acme-support has no billing agent");
    const objects = translateAgent(billing, cluster, { ...options, workerHealthPort: 8081 }).objects;
    const deployment = objects.find((object): object is Deployment => object.kind === "Deployment");
    expect(deployment?.spec.template.metadata.annotations).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "8081",
      "prometheus.io/path": "/metrics",
    });
    expect(deployment?.spec.template.spec.containers[0]?.ports).toEqual([
      { name: "health", containerPort: 8081, protocol: "TCP" },
    ]);
    const without = translateAgent(billing, cluster, options).objects.find(
      (object): object is Deployment => object.kind === "Deployment",
    );
    expect(Object.keys(without?.spec.template.metadata.annotations ?? {})).toEqual([
      "freehold.dev/config-hash",
    ]);
  });

  it("makes a KEDA ScaledObject and its TriggerAuthentication instead of an HPA when KEDA is installed", () => {
    const billing = byKind<Agent>(resources, "Agent").find((agent) => agent.metadata.name === "billing");
    if (billing === undefined) throw new Error("examples/acme-support has no billing agent");
    const keda = clusterViewFromObjects([...resources, ...secrets], { kedaAvailable: true });
    const objects = translateAgent(billing, keda, options).objects;
    expect(objects.map((object) => object.kind)).not.toContain("HorizontalPodAutoscaler");
    const scaling = objects.slice(-2);
    const [authentication, scaler] = scaling;
    expect(authentication?.kind).toBe("TriggerAuthentication");
    expect(scaler?.kind).toBe("ScaledObject");
    // The trigger names the TriggerAuthentication, which reads the namespace's Redis Secret.
    expect(JSON.stringify(scaler)).toContain(
      `"authenticationRef":{"name":"${authentication?.metadata.name}"}`,
    );
    golden("agent-billing-keda", scaling);
  });

  it("makes KEDA's trigger a redis-cluster one with every node's address when workers reach a Redis Cluster", () => {
    const billing = byKind<Agent>(resources, "Agent").find((agent) => agent.metadata.name === "billing");
    if (billing === undefined) throw new Error("examples/acme-support has no billing agent");
    const keda = clusterViewFromObjects([...resources, ...secrets], { kedaAvailable: true });
    const objects = translateAgent(billing, keda, {
      ...options,
      workerRedisUrl: "rediss+cluster://redis-0.data.svc:6379,redis-1.data.svc:6379,redis-2.data.svc:6379",
    }).objects;
    const scaler = objects.find((object) => object.kind === "ScaledObject") as
      { spec: { triggers: { type: string; metadata: Record<string, string> }[] } } | undefined;
    expect(scaler?.spec.triggers).toHaveLength(1);
    expect(scaler?.spec.triggers[0]?.type).toBe("redis-cluster");
    expect(scaler?.spec.triggers[0]?.metadata).toEqual({
      addresses: "redis-0.data.svc:6379,redis-1.data.svc:6379,redis-2.data.svc:6379",
      enableTLS: "true",
      listName: expect.stringMatching(/:wait$/) as unknown,
      listLength: expect.any(String) as unknown,
    });
  });
});

describe("translateModel", () => {
  const resources = acmeResources();

  it.each([
    ["with its Secret", [...resources, ...secrets]],
    ["without its Secret", resources],
  ] as const)("hosted %s", (title, objects) => {
    const hosted = byKind<Model>(resources, "Model").find((model) => model.metadata.name === "hosted");
    if (hosted === undefined) throw new Error("examples/acme-support has no hosted model");
    const conditions = translateModel(hosted, clusterViewFromObjects(objects));
    golden(`model-hosted-${title.replaceAll(" ", "-")}`, conditions);
  });
});

describe("translateMcpServer", () => {
  const resources = acmeResources();
  const cluster = clusterViewFromObjects([...resources, ...secrets]);

  it.each(byKind<McpServer>(resources, "MCPServer").map((server) => [server.metadata.name, server] as const))(
    "renders %s",
    (name, server) => {
      const translation = translateMcpServer(server, cluster, options);
      golden(`mcp-server-${name}`, {
        url: translation.url,
        ready: mcpServerReadyCondition(translation, { ok: true, tools: [{ name: "search_nodes" }] }),
        objects: translation.objects,
      });
    },
  );

  describe("the bridge's NetworkPolicy", () => {
    const knowledgeBase = byKind<McpServer>(resources, "MCPServer").find(
      (server) => server.metadata.name === "knowledge-base",
    );
    if (knowledgeBase === undefined) throw new Error("examples/acme-support has no knowledge-base server");
    const policyOf = (objects: readonly unknown[]): NetworkPolicy => {
      const policy = translateMcpServer(knowledgeBase, clusterViewFromObjects(objects), options).objects.find(
        (object): object is NetworkPolicy => object.kind === "NetworkPolicy",
      );
      if (policy === undefined) throw new Error("no NetworkPolicy rendered for the stdio server");
      return policy;
    };
    const agentUsing = (name: string, namespace: string, server: string): unknown => ({
      apiVersion: "freehold.dev/v1alpha1",
      kind: "Agent",
      metadata: { name, namespace, uid: `uid-${name}` },
      spec: { model: { ref: "default" }, instructions: "Look things up.", tools: [{ mcpServer: server }] },
    });

    it("admits, on the bridge port only, the workers of every Agent of the namespace that uses the server", () => {
      const policy = policyOf([
        ...resources,
        ...secrets,
        agentUsing("archivist", "acme", "knowledge-base"),
        agentUsing("elsewhere", "globex", "knowledge-base"),
        agentUsing("other", "acme", "billing-api"),
      ]);
      expect(policy.spec.podSelector).toEqual({
        matchLabels: { "freehold.dev/mcp-server": "knowledge-base" },
      });
      expect(policy.spec.policyTypes).toEqual(["Ingress"]);
      expect(policy.spec.ingress).toHaveLength(1);
      expect(policy.spec.ingress[0]?.ports).toEqual([{ protocol: "TCP", port: 8080 }]);
      expect(policy.spec.ingress[0]?.from[0]).toEqual({
        podSelector: {
          matchExpressions: [
            { key: "freehold.dev/agent", operator: "In", values: ["archivist", "researcher"] },
          ],
        },
      });
    });

    it("admits no worker when no Agent uses the server, and nobody without the operator's namespace", () => {
      const unused = resources.filter((resource) => resource.kind !== "Agent");
      const policy = policyOf([...unused, ...secrets]);
      golden("mcp-server-knowledge-base-unused", policy);
      expect(policy.spec.ingress.flatMap((rule) => rule.from)).toEqual([
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "freehold-system" } },
          podSelector: {
            matchLabels: {
              "app.kubernetes.io/part-of": "freehold",
              "app.kubernetes.io/component": "operator",
            },
          },
        },
      ]);
      const { operatorNamespace: _operatorNamespace, ...withoutOperator } = options;
      const closed = translateMcpServer(knowledgeBase, clusterViewFromObjects(unused), withoutOperator);
      expect(closed.objects.find((object) => object.kind === "NetworkPolicy")).toMatchObject({
        spec: { policyTypes: ["Ingress"], ingress: [] },
      });
    });

    it("is not made for an HTTP server: nothing runs for it", () => {
      const billingApi = byKind<McpServer>(resources, "MCPServer").find(
        (server) => server.metadata.name === "billing-api",
      );
      if (billingApi === undefined) throw new Error("examples/acme-support has no billing-api server");
      expect(translateMcpServer(billingApi, cluster, options).objects.map((object) => object.kind)).toEqual(
        [],
      );
    });
  });

  it("gives the bridge its token from the Secret, rolls it when the token changes, and waits for the Secret", () => {
    const knowledgeBase = byKind<McpServer>(resources, "MCPServer").find(
      (server) => server.metadata.name === "knowledge-base",
    );
    if (knowledgeBase === undefined) throw new Error("examples/acme-support has no knowledge-base server");
    const bridge = (objects: readonly unknown[]): Deployment | undefined =>
      translateMcpServer(knowledgeBase, clusterViewFromObjects(objects), options).objects.find(
        (object): object is Deployment => object.kind === "Deployment",
      );
    const first = bridge([...resources, ...secrets]);
    expect(first?.spec.template.spec.containers[0]?.env?.at(-1)).toEqual({
      name: "FREEHOLD_MCP_BRIDGE_TOKEN",
      valueFrom: { secretKeyRef: { name: "knowledge-base-mcp-token", key: "token" } },
    });
    expect(JSON.stringify(first)).not.toContain("the-first-token-of-the-bridge");
    const second = bridge([
      ...resources,
      ...secrets.slice(0, 3),
      bridgeTokenSecret("the-second-token-of-the-bridge"),
    ]);
    const hash = (deployment: Deployment | undefined): string | undefined =>
      deployment?.spec.template.metadata.annotations?.["freehold.dev/config-hash"];
    expect(hash(second)).not.toBe(hash(first));

    const waiting = translateMcpServer(knowledgeBase, clusterViewFromObjects(resources), options);
    expect(waiting.complete).toBe(false);
    expect(waiting.objects.map((object) => object.kind)).toEqual([
      "ServiceAccount",
      "Service",
      "NetworkPolicy",
    ]);
    expect(mcpServerReadyCondition(waiting, undefined)).toMatchObject({
      status: "False",
      reason: "SecretNotFound",
    });
  });

  it("is not Ready when its header Secret is missing", () => {
    const billingApi = byKind<McpServer>(resources, "MCPServer").find(
      (server) => server.metadata.name === "billing-api",
    );
    if (billingApi === undefined) throw new Error("examples/acme-support has no billing-api server");
    const translation = translateMcpServer(billingApi, clusterViewFromObjects(resources), options);
    expect(mcpServerReadyCondition(translation, undefined)).toMatchObject({
      status: "False",
      reason: "SecretNotFound",
      message:
        "Secret billing-mcp not found in namespace acme (header Authorization of MCPServer billing-api)",
    });
  });
});

describe("translateTenant", () => {
  const tenantOptions: TenantTranslateOptions = {
    operatorNamespace: "freehold-system",
    operatorServiceAccount: "freehold-operator",
    workerRedisUrl: "redis://freehold-redis.freehold-system.svc:6379",
  };
  const tenants = readdirSync(join(root, "examples", "tenants"))
    .sort()
    .flatMap((file) => parseManifests(readFileSync(join(root, "examples", "tenants", file), "utf8"), file));
  const tenantNamed = (name: string): Tenant => {
    const found = byKind<Tenant>(tenants, "Tenant").find((tenant) => tenant.metadata.name === name);
    if (found === undefined) throw new Error(`examples/tenants has no Tenant ${name}`);
    return found;
  };
  const namespace = (name: string, labels: Record<string, string> = {}): object => ({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, labels },
  });
  const extraModels = [
    {
      apiVersion: "freehold.dev/v1alpha1",
      kind: "Model",
      metadata: { name: "ollama", namespace: "acme" },
      spec: { provider: "openai-compatible", model: "llama3.1:8b", baseUrl: "http://10.20.0.5:11434/v1" },
    },
    {
      apiVersion: "freehold.dev/v1alpha1",
      kind: "Model",
      metadata: { name: "claude", namespace: "acme" },
      spec: {
        provider: "anthropic",
        model: "claude-sonnet-4",
        apiKeySecretRef: { name: "anthropic", key: "api-key" },
      },
    },
    {
      apiVersion: "freehold.dev/v1alpha1",
      kind: "MCPServer",
      metadata: { name: "search", namespace: "acme" },
      spec: { http: { url: "https://mcp.search.example.com/mcp" } },
    },
  ];

  it("renders acme: one namespace to make, one it owns with its Models' and MCPServers' egress", () => {
    const view = tenantViewFromObjects([
      namespace("acme", { "freehold.dev/tenant": "acme" }),
      ...acmeResources(),
      ...extraModels,
    ]);
    const translation = translateTenant(tenantNamed("acme"), view, tenantOptions);
    expect(translation.namespaces).toEqual(["acme", "acme-staging"]);
    expect(translation.newNamespaces.map((object) => object.metadata.name)).toEqual(["acme-staging"]);
    golden("tenant-acme", translation);
  });

  it("lets workers out to every node of a Redis Cluster", () => {
    const view = tenantViewFromObjects([namespace("acme", { "freehold.dev/tenant": "acme" })]);
    const policy = translateTenant(tenantNamed("acme"), view, {
      ...tenantOptions,
      workerRedisUrl: "redis+cluster://10.0.0.1:6379,10.0.0.2:6380,redis-2.data.svc:6381",
    })
      .namespaceObjects.find((item) => item.namespace === "acme")
      ?.objects.find((object) => object.kind === "NetworkPolicy") as NetworkPolicy | undefined;
    const egress = JSON.stringify(policy?.spec.egress);
    expect(policy?.spec.egress).toEqual(
      expect.arrayContaining([
        { to: [{ ipBlock: { cidr: "10.0.0.1/32" } }], ports: [{ protocol: "TCP", port: 6379 }] },
        { to: [{ ipBlock: { cidr: "10.0.0.2/32" } }], ports: [{ protocol: "TCP", port: 6380 }] },
      ]),
    );
    expect(egress).toContain('"port":6381');
    expect(egress).toContain('"kubernetes.io/metadata.name":"data"');
  });

  it("admits Prometheus's namespaces on the workers' health port only, when told to", () => {
    const view = tenantViewFromObjects([namespace("acme", { "freehold.dev/tenant": "acme" })]);
    const policyOf = (options: TenantTranslateOptions) =>
      translateTenant(tenantNamed("acme"), view, options)
        .namespaceObjects.find((item) => item.namespace === "acme")
        ?.objects.find((object) => object.kind === "NetworkPolicy") as NetworkPolicy | undefined;
    expect(policyOf(tenantOptions)?.spec.ingress).toHaveLength(1);
    const scraped = policyOf({
      ...tenantOptions,
      metricsScrapers: { namespaces: ["monitoring", "observability"], port: 8081 },
    });
    expect(scraped?.spec.ingress).toHaveLength(2);
    expect(scraped?.spec.ingress[1]).toEqual({
      from: [
        {
          namespaceSelector: {
            matchExpressions: [
              { key: "kubernetes.io/metadata.name", operator: "In", values: ["monitoring", "observability"] },
            ],
          },
        },
      ],
      ports: [{ protocol: "TCP", port: 8081 }],
    });
  });

  it("never takes over a namespace another tenant owns or that exists without the label", () => {
    const greedy: Tenant = {
      ...tenantNamed("globex"),
      spec: { ...tenantNamed("globex").spec, namespaces: ["globex", "acme", "legacy"] },
    };
    const view = tenantViewFromObjects([
      namespace("acme", { "freehold.dev/tenant": "acme" }),
      namespace("legacy"),
    ]);
    const translation = translateTenant(greedy, view, tenantOptions);
    expect(translation.namespaces).toEqual(["globex"]);
    expect(translation.namespaceObjects.map((item) => item.namespace)).toEqual(["globex"]);
    expect(translation.namespacesReady).toMatchObject({
      status: "False",
      reason: "NamespaceOwnedByOtherTenant",
    });
    golden("tenant-globex-conflicts", {
      namespacesReady: translation.namespacesReady,
      ready: tenantReadyCondition(
        translation.namespacesReady,
        trueCondition("RedisUserReady", "UserApplied", ""),
        [],
      ),
      namespaces: translation.namespaces,
      newNamespaces: translation.newNamespaces,
    });
    // The quota of 4 CPUs is over the three listed namespaces, owned or not.
    const quota = translation.namespaceObjects[0]?.objects.find((object) => object.kind === "ResourceQuota");
    expect(quota).toMatchObject({
      spec: { hard: { "requests.cpu": "1333m", "requests.memory": "2796202Ki" } },
    });
  });

  it("says which quota it cannot read, and leaves out policies it is told to", () => {
    const acme = tenantNamed("acme");
    const loose: Tenant = {
      ...acme,
      spec: {
        ...acme.spec,
        isolation: { networkPolicy: false },
        quotas: { cpu: "lots", memory: "8Gi" },
        admins: [],
      },
    };
    const view = tenantViewFromObjects([]);
    const translation = translateTenant(loose, view, tenantOptions);
    expect(translation.problems).toEqual([
      {
        reason: "InvalidQuota",
        message:
          'spec.quotas.cpu "lots" is not a Kubernetes quantity (e.g. 16 or 500m); fix it to get a ResourceQuota',
      },
    ]);
    const kinds = translation.namespaceObjects[0]?.objects.map(
      (object) => `${object.kind}/${object.metadata.name}`,
    );
    expect(kinds).toEqual([
      "RoleBinding/freehold-tenant-members",
      "ResourceQuota/freehold-tenant",
      "LimitRange/freehold-tenant",
    ]);
    expect(translation.namespaceObjects[0]?.objects[1]).toMatchObject({
      spec: { hard: { "requests.memory": "4Gi" } },
    });
  });
});

describe("golden files", () => {
  it("are YAML", () => {
    for (const file of readdirSync(testdata)) {
      expect(() => {
        parse(readFileSync(join(testdata, file), "utf8"));
      }).not.toThrow();
    }
  });
});
