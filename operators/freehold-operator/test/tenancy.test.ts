/**
 * Tenancy on a real kube-apiserver (with kube-controller-manager: ReplicaSets, garbage collection,
 * namespace deletion) and a real redis-server with ACLs on (the default user has a password): two
 * tenants, acme and globex (examples/tenants), get their namespaces, RoleBindings, NetworkPolicies,
 * ResourceQuotas, LimitRanges and a Redis user whose credential works only for their own keys; a
 * Tenant never takes over another's namespace or an unlabelled one; no Deployment the operator
 * renders for any example carries a Redis URL as a literal; references never cross namespaces;
 * Agents past quotas.agents get no workers; deleting the canonical credential rotates it everywhere;
 * after a Redis restart without an ACL file the users come back; deletionPolicy Retain and Delete.
 * NetworkPolicies cannot be enforced without a CNI here: their content is checked.
 */
import { join } from "node:path";
import { createQuotas, limitsKey, tenancyKey } from "@freehold/handoff";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  Deployment,
  KubernetesObject,
  LimitRange,
  NetworkPolicy,
  ResourceQuota,
  RoleBinding,
} from "../src/kubernetes-objects.ts";
import { startOperatorProcess } from "./operator-process.ts";
import {
  adminPassword,
  condition,
  examples,
  operatorNamespace,
  refusal,
  startTenancyFixture,
  type Stored,
  type TenancyFixture,
} from "./tenancy-fixture.ts";
import { eventually, getJson } from "./test-cluster.ts";

let world: TenancyFixture;

beforeAll(async () => {
  world = await startTenancyFixture();
});

afterAll(async () => {
  await world.stop();
});

describe("the tenants' namespaces", () => {
  it("are made and labelled for acme and globex, whose Tenants become Ready", async () => {
    for (const [name, namespaces] of [
      ["acme", ["acme", "acme-staging"]],
      ["globex", ["globex"]],
    ] as const) {
      const stored = await eventually(async () => {
        const got = await world.tenant(name);
        expect(condition(got, "Ready")).toMatchObject({ status: "True", reason: "TenantReady" });
        return got;
      });
      expect(condition(stored, "NamespacesReady")).toMatchObject({ status: "True" });
      expect(condition(stored, "RedisUserReady")).toMatchObject({ status: "True", reason: "UserApplied" });
      expect(stored.status?.namespaces).toEqual(namespaces);
      expect(stored.status?.redisUser).toBe(`freehold-tenant-${name}`);
      expect(stored.metadata.finalizers).toEqual(["freehold.dev/tenant-cleanup"]);
      for (const namespace of namespaces) {
        const object = await getJson<KubernetesObject>(world.kubectl, ["namespace", namespace]);
        expect(object.metadata.labels?.["freehold.dev/tenant"]).toBe(name);
      }
    }
    await eventually(() => world.kubectlOk(["apply", "-f", join(examples, "tenants")]));
  });

  it("are never taken over: another tenant's, or one that exists without the label", async () => {
    await world.apply([
      {
        apiVersion: "freehold.dev/v1alpha1",
        kind: "Tenant",
        metadata: { name: "intruder" },
        spec: { namespaces: ["acme"], admins: [{ group: "intruders" }] },
      },
      {
        apiVersion: "freehold.dev/v1alpha1",
        kind: "Tenant",
        metadata: { name: "squatter" },
        spec: { namespaces: ["legacy", "squatter-own"], admins: [{ group: "squatters" }] },
      },
    ]);
    const intruder = await eventually(async () => {
      const got = await world.tenant("intruder");
      expect(condition(got, "NamespacesReady")?.status).toBe("False");
      return got;
    });
    expect(condition(intruder, "NamespacesReady")).toMatchObject({
      reason: "NamespaceOwnedByOtherTenant",
      message:
        "namespace acme belongs to tenant acme (label freehold.dev/tenant); remove it from spec.namespaces",
    });
    expect(condition(intruder, "Ready")).toMatchObject({
      status: "False",
      reason: "NamespaceOwnedByOtherTenant",
    });
    expect(intruder.status?.namespaces).toEqual([]);
    const squatter = await eventually(async () => {
      const got = await world.tenant("squatter");
      expect(condition(got, "NamespacesReady")?.reason).toBe("NamespaceExists");
      expect(got.status?.namespaces).toEqual(["squatter-own"]);
      return got;
    });
    expect(condition(squatter, "NamespacesReady")?.message).toContain(
      "namespace legacy exists and belongs to no tenant; the operator never takes over a namespace",
    );
    await eventually(async () => {
      expect(await world.tenantEvents("intruder")).toContain("NamespaceOwnedByOtherTenant");
      expect(await world.tenantEvents("squatter")).toContain("NamespaceExists");
    });

    // The victims are untouched: labels, bindings, credential.
    const acme = await getJson<KubernetesObject>(world.kubectl, ["namespace", "acme"]);
    expect(acme.metadata.labels?.["freehold.dev/tenant"]).toBe("acme");
    const legacy = await getJson<KubernetesObject>(world.kubectl, ["namespace", "legacy"]);
    expect(legacy.metadata.labels?.["freehold.dev/tenant"]).toBeUndefined();
    expect(
      await world.kubectlOk([
        "-n",
        "legacy",
        "get",
        "rolebindings,networkpolicies,resourcequotas,secrets",
        "-o",
        "name",
      ]),
    ).toBe("");
    const admins = await getJson<RoleBinding>(world.kubectl, [
      "-n",
      "acme",
      "rolebinding",
      "freehold-tenant-admins",
    ]);
    expect(admins.subjects).toEqual([
      { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "acme:platform" },
    ]);
    expect(await world.secretValue("acme", "freehold-redis", "username")).toBe("freehold-tenant-acme");
    // The intruder's own Redis user reaches none of acme's keys.
    const intruderPassword = await world.secretValue(
      operatorNamespace,
      "freehold-tenant-intruder-redis",
      "password",
    );
    const intruderClient = await world.connect(
      `redis://freehold-tenant-intruder:${encodeURIComponent(intruderPassword)}@127.0.0.1:${world.redisServer.port}`,
    );
    expect(await refusal(intruderClient.get("freehold:acme:probe"))).toMatch(/^NOPERM/);

    const kubeSystem = await world.kubectl(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "freehold.dev/v1alpha1",
        kind: "Tenant",
        metadata: { name: "system-grab" },
        spec: { namespaces: ["kube-system"] },
      }),
    );
    expect(kubeSystem.code).not.toBe(0);
    expect(kubeSystem.stderr).toContain("a tenant cannot own kube-system");

    await world.kubectlOk(["delete", "tenant", "intruder", "squatter", "--wait=true", "--timeout=60s"]);
    expect(await world.exists(["namespace", "acme"])).toBe(true);
    expect(await world.exists(["namespace", "legacy"])).toBe(true);
    expect(await world.exists(["namespace", "squatter-own"])).toBe(true);
    expect(
      (await getJson<KubernetesObject>(world.kubectl, ["namespace", "acme"])).metadata.labels?.[
        "freehold.dev/tenant"
      ],
    ).toBe("acme");
    expect(await world.secretValue("acme", "freehold-redis", "username")).toBe("freehold-tenant-acme");
  });

  it("serve Agents; a namespace no Tenant owns and FREEHOLD_NAMESPACES does not list does not", async () => {
    await world.apply([
      {
        apiVersion: "freehold.dev/v1alpha1",
        kind: "Agent",
        metadata: { name: "stray", namespace: "nowhere" },
        spec: { model: { ref: "default" }, instructions: "Nobody serves me." },
      },
    ]);
    const stray = await eventually(async () => {
      const got = await getJson<Stored>(world.kubectl, ["-n", "nowhere", "agent", "stray"]);
      expect(condition(got, "Ready")?.reason).toBe("NamespaceNotServed");
      return got;
    });
    expect(condition(stray, "Ready")?.message).toContain("namespace nowhere belongs to no Tenant");
    expect(await world.exists(["-n", "nowhere", "deployment", "stray-agent"])).toBe(false);
    expect(await world.exists(["-n", "nowhere", "secret", "freehold-redis"])).toBe(false);
  });
});

describe("the Deployments the operator renders for every example", () => {
  it("read FREEHOLD_REDIS_URL from the Secret freehold-redis, never a literal Redis URL", async () => {
    for (const [namespace, name, key, value] of [
      ["acme", "openai", "api-key", "sk-acme"],
      ["acme", "billing-mcp", "authorization", "Bearer acme"],
      ["globex", "openai", "api-key", "sk-globex"],
      ["examples-models", "anthropic", "api-key", "sk-ant"],
    ] as const) {
      await world.kubectlOk([
        "-n",
        namespace,
        "create",
        "secret",
        "generic",
        name,
        `--from-literal=${key}=${value}`,
      ]);
    }
    await world.kubectlOk(["apply", "-f", join(examples, "acme-support")]);
    await world.kubectlOk([
      "apply",
      "-n",
      "examples-handoffs",
      "-f",
      join(examples, "handoffs", "resources.yaml"),
    ]);
    await world.kubectlOk(["apply", "-n", "examples-quickstart", "-f", join(examples, "quickstart")]);
    await world.kubectlOk(["apply", "-n", "examples-models", "-f", join(examples, "models")]);
    const expected = [
      "acme/billing-agent",
      "acme/support-agent",
      "acme/triage-agent",
      "acme/researcher-agent",
      "acme/knowledge-base-mcp",
      "globex/sales-agent",
      "examples-handoffs/triage-agent",
      "examples-handoffs/billing-agent",
      "examples-handoffs/researcher-agent",
      "examples-quickstart/assistant-agent",
      "examples-quickstart/library-mcp",
    ];
    const deployments = await eventually(async () => {
      const list = await getJson<{ items: Deployment[] }>(world.kubectl, ["deployments", "-A"]);
      const names = list.items.map((item) => `${item.metadata.namespace ?? ""}/${item.metadata.name}`);
      expect(names).toEqual(expect.arrayContaining(expected));
      return list.items;
    }, 60_000);
    let agentDeployments = 0;
    for (const deployment of deployments) {
      const where = `${deployment.metadata.namespace ?? ""}/${deployment.metadata.name}`;
      for (const container of deployment.spec.template.spec.containers) {
        for (const variable of container.env ?? []) {
          expect(variable.value ?? "", `${where} ${variable.name}`).not.toMatch(/rediss?:\/\//i);
          expect(variable.value ?? "", `${where} ${variable.name}`).not.toContain(adminPassword);
        }
        if (deployment.metadata.labels?.["app.kubernetes.io/component"] === "agent") {
          agentDeployments += 1;
          expect(container.env, where).toContainEqual({
            name: "FREEHOLD_REDIS_URL",
            valueFrom: { secretKeyRef: { name: "freehold-redis", key: "url" } },
          });
        }
      }
    }
    expect(agentDeployments).toBeGreaterThanOrEqual(8);
    // Single-tenant namespaces get the operator's worker URL; tenant namespaces the tenant's user.
    expect(await world.secretValue("examples-handoffs", "freehold-redis", "url")).toBe(world.redisServer.url);
    expect(await world.secretValue("globex", "freehold-redis", "username")).toBe("freehold-tenant-globex");
  }, 120_000);
});

describe("what each tenant namespace holds", () => {
  it("RoleBindings of the admins, the members and the operator's ServiceAccount", async () => {
    for (const namespace of ["acme", "acme-staging"]) {
      const [admins, members, operatorBinding] = await eventually(() =>
        Promise.all(
          ["freehold-tenant-admins", "freehold-tenant-members", "freehold-operator"].map((name) =>
            getJson<RoleBinding>(world.kubectl, ["-n", namespace, "rolebinding", name]),
          ),
        ),
      );
      expect(admins?.roleRef).toEqual({
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "freehold-tenant-admin",
      });
      expect(members?.roleRef.name).toBe("freehold-tenant-member");
      expect(members?.subjects.map((subject) => `${subject.kind}:${subject.name}`)).toEqual([
        "Group:acme:billing",
        "Group:acme:support",
      ]);
      expect(operatorBinding?.roleRef.name).toBe("freehold-workload-manager");
      expect(operatorBinding?.subjects).toEqual([
        { kind: "ServiceAccount", name: "freehold-operator", namespace: operatorNamespace },
      ]);
    }
    const globexAdmins = await getJson<RoleBinding>(world.kubectl, [
      "-n",
      "globex",
      "rolebinding",
      "freehold-tenant-admins",
    ]);
    expect(globexAdmins.subjects).toEqual([
      { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "hank@globex.example" },
    ]);
    // Who they bind, checked by the API server's authorizer (with stand-ins for the chart's roles).
    const canI = async (args: readonly string[]): Promise<string> =>
      (await world.kubectl(["auth", "can-i", ...args])).stdout.trim();
    const operatorAccount = `--as=system:serviceaccount:${operatorNamespace}:freehold-operator`;
    expect(await canI(["create", "deployments", "-n", "acme", operatorAccount])).toBe("yes");
    expect(await canI(["create", "deployments", "-n", "legacy", operatorAccount])).toBe("no");
    expect(await canI(["create", "deployments", "-n", "kube-system", operatorAccount])).toBe("no");
    const acmeAdmin = ["--as=alice", "--as-group=acme:platform"];
    expect(await canI(["create", "agents.freehold.dev", "-n", "acme-staging", ...acmeAdmin])).toBe("yes");
    expect(await canI(["create", "agents.freehold.dev", "-n", "globex", ...acmeAdmin])).toBe("no");
    expect(await canI(["create", "agents.freehold.dev", "-n", "globex", "--as=hank@globex.example"])).toBe(
      "yes",
    );
  });

  it("a NetworkPolicy: ingress from the tenant and Freehold's gateway and operator, egress to what it needs (content only: no CNI enforces it here)", async () => {
    const policy = await eventually(() =>
      getJson<NetworkPolicy>(world.kubectl, ["-n", "acme", "networkpolicy", "freehold-tenant"]),
    );
    expect(policy.spec.podSelector).toEqual({});
    expect(policy.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    const tenantPeer = {
      namespaceSelector: {
        matchExpressions: [
          { key: "kubernetes.io/metadata.name", operator: "In", values: ["acme", "acme-staging"] },
        ],
      },
    };
    expect(policy.spec.ingress).toEqual([
      {
        from: [
          tenantPeer,
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": operatorNamespace } },
            podSelector: {
              matchLabels: { "app.kubernetes.io/part-of": "freehold" },
              matchExpressions: [
                { key: "app.kubernetes.io/component", operator: "In", values: ["gateway", "operator"] },
              ],
            },
          },
        ],
      },
    ]);
    const egress = policy.spec.egress ?? [];
    expect(egress).toContainEqual({ to: [tenantPeer] });
    expect(egress).toContainEqual({
      to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
      ports: [
        { protocol: "TCP", port: 53 },
        { protocol: "UDP", port: 53 },
      ],
    });
    // Redis is at 127.0.0.1 here (an IP: that address alone, on its port).
    expect(egress).toContainEqual({
      to: [{ ipBlock: { cidr: "127.0.0.1/32" } }],
      ports: [{ protocol: "TCP", port: world.redisServer.port }],
    });
    // Model default: http://vllm.models.svc:8000/v1 (that namespace, that port).
    expect(egress).toContainEqual({
      to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "models" } } }],
      ports: [{ protocol: "TCP", port: 8000 }],
    });
    // Model hosted (openai, no baseUrl): the internet on 443, never private, loopback or link-local ranges.
    const internet = egress.find((rule) => rule.to?.[0]?.ipBlock?.cidr === "0.0.0.0/0");
    expect(internet?.ports).toEqual([{ protocol: "TCP", port: 443 }]);
    expect(internet?.to?.[0]?.ipBlock?.except).toEqual(
      expect.arrayContaining([
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
      ]),
    );
    expect(egress).toHaveLength(5);
    const globex = await getJson<NetworkPolicy>(world.kubectl, [
      "-n",
      "globex",
      "networkpolicy",
      "freehold-tenant",
    ]);
    expect(JSON.stringify(globex.spec)).not.toContain("acme");
  });

  it("a ResourceQuota with the tenant's CPU and memory divided over its namespaces, and default requests", async () => {
    const quota = await getJson<ResourceQuota>(world.kubectl, [
      "-n",
      "acme-staging",
      "resourcequota",
      "freehold-tenant",
    ]);
    expect(quota.spec.hard).toEqual({ "requests.cpu": "8", "requests.memory": "32Gi" });
    const globex = await getJson<ResourceQuota>(world.kubectl, [
      "-n",
      "globex",
      "resourcequota",
      "freehold-tenant",
    ]);
    expect(globex.spec.hard).toEqual({ "requests.cpu": "4", "requests.memory": "8Gi" });
    const limits = await getJson<LimitRange>(world.kubectl, ["-n", "acme", "limitrange", "freehold-tenant"]);
    expect(limits.spec.limits).toEqual([
      { type: "Container", defaultRequest: { cpu: "100m", memory: "128Mi" } },
    ]);
  });
});

describe("a tenant's Redis user", () => {
  it("is the credential of freehold-redis in each of its namespaces, and reaches only its own keys", async () => {
    const acmeUrl = await eventually(() => world.secretValue("acme", "freehold-redis", "url"));
    expect(await world.secretValue("acme-staging", "freehold-redis", "url")).toBe(acmeUrl);
    const password = await world.secretValue(operatorNamespace, "freehold-tenant-acme-redis", "password");
    expect(acmeUrl).toBe(`redis://freehold-tenant-acme:${password}@127.0.0.1:${world.redisServer.port}`);
    expect(await world.secretValue("acme", "freehold-redis", "password")).toBe(password);
    const acmeClient = await world.connect(acmeUrl);
    const globexClient = await world.connect(await world.secretValue("globex", "freehold-redis", "url"));
    expect(await acmeClient.set("freehold:acme:probe", "acme-data")).toBe("OK");
    expect(await acmeClient.set("freehold:acme-staging:probe", "staging-data")).toBe("OK");
    expect(await globexClient.set("freehold:globex:probe", "globex-data")).toBe("OK");

    expect(await refusal(acmeClient.get("freehold:globex:probe"))).toMatch(/^NOPERM/);
    expect(await refusal(acmeClient.set("freehold:globex:probe", "stolen"))).toMatch(/^NOPERM/);
    expect(await refusal(acmeClient.del("freehold:globex:probe"))).toMatch(/^NOPERM/);
    expect(await refusal(globexClient.get("freehold:acme:probe"))).toMatch(/^NOPERM/);
    expect(await refusal(acmeClient.keys("*"))).toMatch(/^NOPERM/);
    expect(await refusal(acmeClient.flushall())).toMatch(/^NOPERM/);
    expect(await refusal(acmeClient.call("ACL", "LIST"))).toMatch(/^NOPERM/);
    expect(await refusal(acmeClient.set(tenancyKey("acme"), "globex"))).toMatch(/^NOPERM/);
    expect(await world.admin.get("freehold:globex:probe")).toBe("globex-data");
    expect(await world.admin.get(tenancyKey("acme"))).toBe("acme");
    expect(await world.admin.hgetall(limitsKey("acme"))).toEqual({
      runsPerMinute: "600",
      tokensPerDay: "20000000",
    });

    // Its workers count runs and tokens with it; the Tenant's status shows both. Runs count per
    // minute: when a new minute starts before the status shows them, the runs are counted again in it.
    const minute = (): number => Math.floor(Date.now() / 60_000);
    let countedIn = minute();
    await createQuotas(acmeClient).startRuns("acme-staging", 2);
    await createQuotas(acmeClient).addTokens("acme", 1_234);
    await eventually(async () => {
      if (minute() !== countedIn) {
        countedIn = minute();
        await createQuotas(acmeClient).startRuns("acme-staging", 2);
      }
      const usage = (await world.tenant("acme")).status?.usage as
        { runsThisMinute: number; tokensToday: number } | undefined;
      expect(usage?.runsThisMinute).toBeGreaterThanOrEqual(2);
      expect(usage?.tokensToday).toBeGreaterThanOrEqual(1_234);
    });
  });
});

describe("references from one tenant to another's resources", () => {
  it("do not resolve, and the conditions say why", async () => {
    await world.apply([
      {
        apiVersion: "freehold.dev/v1alpha1",
        kind: "Agent",
        metadata: { name: "thief", namespace: "globex" },
        spec: {
          model: { ref: "hosted" },
          instructions: "Use ACME's things.",
          tools: [{ mcpServer: "billing-api" }, { agent: "researcher" }],
          handoffs: [{ humanQueue: "billing-desk" }, { agent: "support" }],
          runtime: { env: [{ name: "STOLEN", secretKeyRef: { name: "billing-mcp", key: "authorization" } }] },
        },
      },
    ]);
    const thief = await eventually(async () => {
      const got = await getJson<Stored>(world.kubectl, ["-n", "globex", "agent", "thief"]);
      expect(condition(got, "ModelResolved")?.status).toBe("False");
      return got;
    });
    expect(condition(thief, "ModelResolved")).toMatchObject({
      reason: "ModelNotFound",
      message: "Model hosted not found in namespace globex; apply it or change spec.model.ref",
    });
    expect(condition(thief, "ToolsResolved")).toMatchObject({
      status: "False",
      reason: "MCPServerNotFound",
      message:
        "MCPServer billing-api not found in namespace globex; apply it or remove it from spec.tools; Agent researcher (used as a tool) not found in namespace globex",
    });
    expect(condition(thief, "HandoffsResolved")).toMatchObject({
      status: "False",
      reason: "HumanQueueNotFound",
      message:
        "HumanQueue billing-desk not found in namespace globex; apply it or remove it from spec.handoffs; Agent support (a handoff target) not found in namespace globex",
    });
    expect(condition(thief, "Ready")?.message).toContain(
      "Secret billing-mcp not found in namespace globex (environment variable STOLEN in spec.runtime.env)",
    );
    expect(await world.exists(["-n", "globex", "deployment", "thief-agent"])).toBe(false);
  });

  it("cannot name acme's namespace: references are names in the Agent's own namespace", async () => {
    const attempt = async (spec: object): Promise<string> => {
      const result = await world.kubectl(
        ["apply", "-f", "-"],
        JSON.stringify({
          apiVersion: "freehold.dev/v1alpha1",
          kind: "Agent",
          metadata: { name: "spelled", namespace: "globex" },
          spec: { instructions: "Reach across.", ...spec },
        }),
      );
      expect(result.code).not.toBe(0);
      return result.stderr;
    };
    expect(await attempt({ model: { ref: "acme/hosted" } })).toContain("spec.model.ref");
    expect(await attempt({ model: { ref: "hosted", namespace: "acme" } })).toMatch(
      /unknown field "spec\.model\.namespace"/,
    );
    expect(
      await attempt({ model: { ref: "default" }, tools: [{ mcpServer: "acme/billing-api" }] }),
    ).toContain("spec.tools[0].mcpServer");
    expect(
      await attempt({ model: { ref: "default" }, tools: [{ mcpServer: "billing-api.acme" }] }),
    ).toContain("spec.tools[0].mcpServer");
    expect(
      await attempt({
        model: { ref: "default" },
        runtime: { env: [{ name: "X", secretKeyRef: { name: "acme/openai", key: "api-key" } }] },
      }),
    ).toContain("spec.runtime.env[0].secretKeyRef.name");
    expect(await world.exists(["-n", "globex", "agent", "spelled"])).toBe(false);
  });
});

describe("quotas.agents", () => {
  it("holds the 51st Agent of acme (quota 50) with QuotaExceeded and no workers, until one goes", async () => {
    const existing = (await getJson<{ items: unknown[] }>(world.kubectl, ["-n", "acme", "agents"])).items
      .length;
    const names = Array.from(
      { length: 51 - existing },
      (_, index) => `agent-${String(index + 1).padStart(2, "0")}`,
    );
    await world.apply([
      {
        apiVersion: "freehold.dev/v1alpha1",
        kind: "Model",
        metadata: { name: "default", namespace: "acme-staging" },
        spec: { provider: "openai-compatible", model: "scripted", baseUrl: "http://127.0.0.1:8765/v1" },
      },
      ...names.map((name) => ({
        apiVersion: "freehold.dev/v1alpha1",
        kind: "Agent",
        metadata: { name, namespace: "acme-staging" },
        spec: { model: { ref: "default" }, instructions: `You are ${name}.` },
      })),
    ]);
    // The order the quota uses: oldest first, then namespace and name.
    const all = [
      ...(await getJson<{ items: Stored[] }>(world.kubectl, ["-n", "acme", "agents"])).items,
      ...(await getJson<{ items: Stored[] }>(world.kubectl, ["-n", "acme-staging", "agents"])).items,
    ]
      .map((agent) => [
        agent.metadata.creationTimestamp ?? "",
        agent.metadata.namespace ?? "",
        agent.metadata.name,
      ])
      .sort((left, right) => {
        for (let index = 0; index < 3; index += 1) {
          const [a = "", b = ""] = [left[index], right[index]];
          if (a !== b) return a < b ? -1 : 1;
        }
        return 0;
      });
    expect(all).toHaveLength(51);
    const last = all[50]?.[2] ?? "";
    const fitting = all[49]?.[2] ?? "";
    expect(all[50]?.[1]).toBe("acme-staging");
    const held = await eventually(async () => {
      const got = await getJson<Stored>(world.kubectl, ["-n", "acme-staging", "agent", last]);
      expect(condition(got, "Ready")?.reason).toBe("QuotaExceeded");
      return got;
    }, 90_000);
    expect(condition(held, "Ready")?.message).toContain(
      "tenant acme allows 50 Agents (spec.quotas.agents) and has 51",
    );
    await eventually(
      () => getJson(world.kubectl, ["-n", "acme-staging", "deployment", `${fitting}-agent`]),
      90_000,
    );
    expect(await world.exists(["-n", "acme-staging", "deployment", `${last}-agent`])).toBe(false);
    await eventually(async () => {
      expect(((await world.tenant("acme")).status?.usage as { agents: number }).agents).toBe(51);
    });

    const oldest = names[0] ?? "";
    await world.kubectlOk(["-n", "acme-staging", "delete", "agent", oldest, "--wait=true", "--timeout=30s"]);
    await eventually(async () => {
      const got = await getJson<Stored>(world.kubectl, ["-n", "acme-staging", "agent", last]);
      expect(condition(got, "Ready")?.reason).toBe("WorkersNotReady");
      await getJson(world.kubectl, ["-n", "acme-staging", "deployment", `${last}-agent`]);
    }, 60_000);
    // Back to a few agents, so the next suites do not roll fifty Deployments.
    await world.kubectlOk([
      "-n",
      "acme-staging",
      "delete",
      "agents",
      "--all",
      "--wait=true",
      "--timeout=90s",
    ]);
  }, 240_000);
});

describe("rotating a tenant's credential", () => {
  it("by deleting the canonical Secret: a new password in every copy, workers roll, the old one is refused", async () => {
    const oldPassword = await world.secretValue(operatorNamespace, "freehold-tenant-acme-redis", "password");
    const before = await eventually(async () => {
      const hash = await world.configHash("acme", "support-agent");
      expect(hash).toBeDefined();
      return hash;
    });
    expect(await world.authenticate("freehold-tenant-acme", oldPassword)).toBe("OK");
    await world.kubectlOk(["-n", operatorNamespace, "delete", "secret", "freehold-tenant-acme-redis"]);
    const newPassword = await eventually(async () => {
      const password = await world.secretValue(operatorNamespace, "freehold-tenant-acme-redis", "password");
      expect(password).not.toBe(oldPassword);
      expect(await world.secretValue("acme", "freehold-redis", "password")).toBe(password);
      expect(await world.secretValue("acme-staging", "freehold-redis", "password")).toBe(password);
      return password;
    });
    expect(await world.authenticate("freehold-tenant-acme", oldPassword)).toMatch(/^WRONGPASS/);
    expect(await world.authenticate("freehold-tenant-acme", newPassword)).toBe("OK");
    await eventually(async () => {
      expect(await world.configHash("acme", "support-agent")).not.toBe(before);
    });
    await eventually(async () => {
      expect(await world.tenantEvents("acme")).toContain("RedisPasswordRotated");
    });
    // globex's credential did not change.
    const globexPassword = await world.secretValue("globex", "freehold-redis", "password");
    expect(await world.authenticate("freehold-tenant-globex", globexPassword)).toBe("OK");
  });
});

describe("a Redis restarted without its ACL file", () => {
  it("gets the tenants' users back from the operator, recorded as RedisUserRecreated", async () => {
    const acmeUrl = await world.secretValue("acme", "freehold-redis", "url");
    await world.redisServer.kill();
    await world.redisServer.restart();
    await eventually(async () => {
      expect(await world.tenantEvents("acme")).toContain("RedisUserRecreated");
      expect(await world.tenantEvents("globex")).toContain("RedisUserRecreated");
    });
    const acmeClient = await world.connect(acmeUrl);
    expect(await acmeClient.set("freehold:acme:after-restart", "yes")).toBe("OK");
    expect(await refusal(acmeClient.get("freehold:globex:probe"))).toMatch(/^NOPERM/);
    await eventually(async () => {
      expect(await world.admin.get(tenancyKey("globex"))).toBe("globex");
    });
    expect(condition(await world.tenant("acme"), "RedisUserReady")?.status).toBe("True");
  });
});

describe("deleting a Tenant", () => {
  it("with Retain keeps its namespaces and Agents, removes its Redis user, keys and credentials", async () => {
    const password = await world.secretValue(operatorNamespace, "freehold-tenant-acme-redis", "password");
    await world.kubectlOk(["delete", "tenant", "acme", "--wait=true", "--timeout=60s"]);
    expect(await world.exists(["namespace", "acme"])).toBe(true);
    expect(await world.exists(["namespace", "acme-staging"])).toBe(true);
    expect(await world.exists(["-n", "acme", "agent", "support"])).toBe(true);
    expect(await world.authenticate("freehold-tenant-acme", password)).toMatch(/^WRONGPASS/);
    expect(await world.admin.call("ACL", "GETUSER", "freehold-tenant-acme")).toBeNull();
    expect(await world.admin.exists(tenancyKey("acme"), tenancyKey("acme-staging"), limitsKey("acme"))).toBe(
      0,
    );
    expect(await world.exists(["-n", operatorNamespace, "secret", "freehold-tenant-acme-redis"])).toBe(false);
    expect(await world.exists(["-n", "acme", "secret", "freehold-redis"])).toBe(false);
    // No tenant serves them now: their workers go.
    await eventually(async () => {
      const support = await getJson<Stored>(world.kubectl, ["-n", "acme", "agent", "support"]);
      expect(condition(support, "Ready")?.reason).toBe("NamespaceNotServed");
      expect(await world.exists(["-n", "acme", "deployment", "support-agent"])).toBe(false);
    });
  });

  it("with Delete deletes its namespaces too", async () => {
    await world.kubectlOk(["delete", "tenant", "globex", "--wait=true", "--timeout=60s"]);
    expect(await world.admin.call("ACL", "GETUSER", "freehold-tenant-globex")).toBeNull();
    await eventually(async () => {
      expect(await world.exists(["namespace", "globex"])).toBe(false);
    }, 90_000);
  }, 120_000);
});

describe("the operator's logs", () => {
  it("never carry a Redis password", async () => {
    expect(world.logs.length).toBeGreaterThan(0);
    for (const line of world.logs) expect(line).not.toContain(adminPassword);
    // main.ts redacts every line, its refusals included.
    const refused = await startOperatorProcess("redacting", {
      KUBECONFIG: world.kubeconfig,
      FREEHOLD_REDIS_URL: `redis://:${adminPassword}@127.0.0.1:${world.redisServer.port}`,
      FREEHOLD_WORKER_REDIS_URL: `http://worker:${adminPassword}@127.0.0.1:1`,
    }).then(
      () => "started",
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    expect(refused).toContain(
      "FREEHOLD_WORKER_REDIS_URL must be a redis:// or rediss:// URL, or redis+cluster://host:port,host:port for a Redis Cluster, not http://***@127.0.0.1:1",
    );
    expect(refused).not.toContain(adminPassword);
  });
});
