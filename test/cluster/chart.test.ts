/**
 * The Helm chart (charts/freehold) on a real kube-apiserver, with the helm CLI built from Go modules
 * by build.sh: `helm lint` passes, `helm template` renders what the chart promises (no root, no
 * writable root filesystem, a password-protected Redis whose URL reaches every container through a
 * Secret only, least-privilege RBAC, NetworkPolicies), the API server accepts the rendered objects
 * and a real `helm install`, the Redis arguments run a real redis-server that wants the Secret's
 * password, the operator's ServiceAccount can do what it needs and nothing more (`kubectl auth
 * can-i`, and the admission policy freehold-operator-scope enforced by the API server), the real
 * operator runs with the installed Deployment's environment, values.schema.json refuses bad values
 * naming the field, and the chart's CRDs are the generated ones. Last, the images' install steps
 * (images/*.Dockerfile) run as written on the workspace.
 *
 * NetworkPolicies are not enforced here (no network plugin): their content is checked.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { generatedFiles } from "@freehold/api";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { freePort } from "@freehold/handoff";
import {
  containers,
  environment,
  find,
  parseObjects,
  podAnnotations,
  podSpec,
  run,
  secretValue,
  startChartRedis,
  type ChartRedis,
  type PodSpec,
  type RenderedObject,
  type Run,
} from "./chart-tools.ts";
import { createKubectl } from "./kubectl.ts";
import { dockerfileEnvironment, dockerfileEnvLines } from "../fixtures/image-environment.ts";
import { queueDepthMetric } from "../../operators/freehold-operator/src/index.ts";
import { parseEdgeArguments } from "../../packages/cli/src/commands/gateway-edge.ts";
import { imageCommandEnvironment } from "../../packages/cli/scripts/build.ts";

const root = join(import.meta.dirname, "..", "..");
const chart = join(root, "charts", "freehold");
const cluster = inject("cluster");
const kubectl = createKubectl(cluster.kubectl, cluster.kubeconfig);
const helmBinary = join(dirname(cluster.kubectl), "helm");
const helmHome = mkdtempSync(join(tmpdir(), "freehold-helm-"));
const suffix = randomUUID().slice(0, 8);
/** The release's namespace. */
const namespace = `freehold-chart-${suffix}`;
/** A namespace served without a Tenant (operator.namespaces). */
const teamNamespace = `freehold-chart-${suffix}-team`;
/** A tenant's namespace, made by the operator's ServiceAccount in the admission tests. */
const tenantNamespace = `freehold-chart-${suffix}-acme`;
/** A namespace that is neither: made by someone else, not labelled. */
const otherNamespace = `freehold-chart-${suffix}-other`;
/** A ClusterRole the operator's rights cover, made by the admission tests. */
const readerRole = `freehold-chart-${suffix}-reader`;
const release = "fh";
const operatorUser = `system:serviceaccount:${namespace}:fh-freehold-operator`;
const gatewayUser = `system:serviceaccount:${namespace}:fh-freehold-gateway`;

const helm = (args: readonly string[]): Promise<Run> =>
  run(helmBinary, ["--kubeconfig", cluster.kubeconfig, ...args], {
    cwd: root,
    environment: {
      HELM_CACHE_HOME: join(helmHome, "cache"),
      HELM_CONFIG_HOME: join(helmHome, "config"),
      HELM_DATA_HOME: join(helmHome, "data"),
    },
  });

/** `--set` arguments from a list of `key=value`. */
const sets = (values: readonly string[]): string[] => values.flatMap((value) => ["--set", value]);

async function render(
  values: readonly string[] = [],
  extra: readonly string[] = [],
): Promise<RenderedObject[]> {
  const rendered = await helm(["template", release, chart, "-n", namespace, ...sets(values), ...extra]);
  expect(rendered.stderr).toBe("");
  expect(rendered.code).toBe(0);
  return parseObjects(rendered.stdout);
}

/** `helm template` that must fail; returns what helm said. */
async function refusedRender(values: readonly string[]): Promise<string> {
  const rendered = await helm(["template", release, chart, "-n", namespace, ...sets(values)]);
  expect(rendered.code).not.toBe(0);
  expect(rendered.stdout).toBe("");
  return rendered.stderr;
}

/** Values a user might install with, each rendered, linted and applied. */
const variants: readonly { title: string; values: readonly string[] }[] = [
  { title: "the default values", values: [] },
  {
    title: "a Redis without a password by URL and no gateway",
    values: ["redis.enabled=false", "redis.url=redis://redis.example:6379", "gateway.enabled=false"],
  },
  {
    title: "a Redis URL from a Secret and two operators",
    values: ["redis.enabled=false", "redis.existingSecret.name=redis", "operator.replicas=2"],
  },
  {
    title: "a persistent Redis with its own password Secret, served namespaces, no autoscaling",
    values: [
      "redis.persistence.enabled=true",
      "redis.auth.existingSecret=my-redis",
      `operator.namespaces={${teamNamespace}}`,
      "operator.autoscaling=false",
      "gateway.publicUrl=https://agents.example.com",
    ],
  },
  { title: "no NetworkPolicies", values: ["networkPolicy.enabled=false"] },
];

/** The namespaced kinds (the others are cluster-scoped). */
const clusterScoped = new Set([
  "ClusterRole",
  "ClusterRoleBinding",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
]);

beforeAll(async () => {
  for (const name of [namespace, teamNamespace, otherNamespace]) {
    const created = await kubectl(["create", "namespace", name]);
    expect(created.code, created.stderr).toBe(0);
  }
});

afterAll(async () => {
  await helm(["uninstall", release, "-n", namespace, "--ignore-not-found"]);
  for (const name of [namespace, teamNamespace, tenantNamespace, otherNamespace]) {
    await kubectl(["delete", "namespace", name, "--wait=false", "--ignore-not-found"]);
  }
  await kubectl(["delete", "clusterrole", readerRole, "--ignore-not-found"]);
  rmSync(helmHome, { recursive: true, force: true });
});

describe("helm lint", () => {
  it.each(variants)("passes with $title", async ({ values }) => {
    const linted = await helm(["lint", "--strict", chart, ...sets(values)]);
    expect(linted.stdout + linted.stderr).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(linted.stdout).toContain("1 chart(s) linted, 0 chart(s) failed");
    expect(linted.code).toBe(0);
  });
});

describe("helm template", () => {
  it("renders the operator, its RBAC and admission policy, the tenant roles, the gateway, Redis and NetworkPolicies", async () => {
    const objects = await render([`operator.namespaces={${teamNamespace}}`]);
    const names = objects
      .map((object) => `${object.kind}/${object.metadata.namespace ?? ""}/${object.metadata.name}`)
      .sort();
    expect(names).toEqual(
      [
        "ClusterRole//fh-freehold-edit",
        "ClusterRole//fh-freehold-gateway",
        "ClusterRole//fh-freehold-operator",
        "ClusterRole//fh-freehold-view",
        "ClusterRole//freehold-tenant-admin",
        "ClusterRole//freehold-tenant-member",
        "ClusterRole//freehold-workload-manager",
        "ClusterRoleBinding//fh-freehold-gateway",
        "ClusterRoleBinding//fh-freehold-operator",
        `Deployment/${namespace}/fh-freehold-gateway`,
        `Deployment/${namespace}/fh-freehold-operator`,
        `NetworkPolicy/${namespace}/fh-freehold-gateway`,
        `NetworkPolicy/${namespace}/fh-freehold-operator`,
        `NetworkPolicy/${namespace}/fh-freehold-redis`,
        `Role/${namespace}/fh-freehold-operator`,
        `RoleBinding/${namespace}/fh-freehold-operator`,
        `RoleBinding/${teamNamespace}/fh-freehold-operator`,
        `Secret/${namespace}/fh-freehold-redis`,
        `Service/${namespace}/fh-freehold-gateway`,
        `Service/${namespace}/fh-freehold-operator-metrics`,
        `Service/${namespace}/fh-freehold-redis`,
        `ServiceAccount/${namespace}/fh-freehold-gateway`,
        `ServiceAccount/${namespace}/fh-freehold-operator`,
        `StatefulSet/${namespace}/fh-freehold-redis`,
        "ValidatingAdmissionPolicy//freehold-operator-scope",
        "ValidatingAdmissionPolicyBinding//freehold-operator-scope",
      ].sort(),
    );
    for (const object of objects) {
      expect(object.metadata.labels?.["app.kubernetes.io/part-of"]).toBe("freehold");
      expect(object.metadata.labels?.["app.kubernetes.io/instance"]).toBe(release);
      expect(object.metadata.namespace === undefined, `${object.kind} is cluster-scoped`).toBe(
        clusterScoped.has(object.kind),
      );
    }
  });

  it("runs every container as a user, without privileges, on a read-only root filesystem", async () => {
    const objects = await render(["redis.persistence.enabled=true"]);
    const workloads = objects.filter((object) => ["Deployment", "StatefulSet"].includes(object.kind));
    expect(workloads).toHaveLength(3);
    for (const workload of workloads) {
      const spec = podSpec(workload);
      expect(spec.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
      });
      // The images' `freehold` user (images/*.Dockerfile), as the operator runs workers; Redis its own.
      expect(spec.securityContext?.runAsUser).toBe(workload.metadata.name.endsWith("-redis") ? 999 : 65532);
      for (const container of spec.containers) {
        expect(container.securityContext, `${workload.metadata.name}/${container.name}`).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        });
      }
    }
  });

  it("gives the operator its images, Redis Secret, served namespaces, ServiceAccount and leader election settings", async () => {
    const objects = await render([
      "runtime.image.tag=1.2.3",
      "operator.replicas=2",
      "operator.watchNamespace=acme",
      "operator.namespaces={team-a,team-b}",
    ]);
    const operator = find(objects, "Deployment", "fh-freehold-operator");
    expect(operator.spec?.replicas).toBe(2);
    const container = podSpec(operator).containers[0];
    expect(container?.image).toBe("ghcr.io/freehold-dev/freehold-operator:0.1.0");
    // What operators/freehold-operator/src/main.ts reads.
    expect(container?.env).toEqual([
      {
        name: "FREEHOLD_REDIS_URL",
        valueFrom: { secretKeyRef: { name: "fh-freehold-redis", key: "url" } },
      },
      { name: "FREEHOLD_RUNTIME_IMAGE", value: "ghcr.io/freehold-dev/freehold-runtime:1.2.3" },
      { name: "FREEHOLD_IMAGE_PULL_POLICY", value: "IfNotPresent" },
      { name: "FREEHOLD_WORKER_HEALTH_PORT", value: "8081" },
      { name: "FREEHOLD_RUN_RETENTION", value: "7d" },
      { name: "FREEHOLD_WATCH_NAMESPACE", value: "acme" },
      { name: "FREEHOLD_NAMESPACES", value: "team-a,team-b" },
      { name: "FREEHOLD_LEADER_ELECTION", value: "true" },
      { name: "FREEHOLD_DISCOVERY_ALLOW_INTERNAL", value: "false" },
      { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      {
        name: "FREEHOLD_OPERATOR_SERVICE_ACCOUNT",
        valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } },
      },
      { name: "FREEHOLD_HEALTH_PORT", value: "8081" },
    ]);
    // Without served namespaces the variable is left out: only tenants' namespaces are served.
    const plain = podSpec(find(await render(), "Deployment", "fh-freehold-operator")).containers[0];
    expect(environment(plain, "FREEHOLD_NAMESPACES")).toBeUndefined();
    expect(environment(plain, "FREEHOLD_METRICS_SCRAPE_NAMESPACES")).toBeUndefined();
    // Discovery may reach internal addresses only when the value says so.
    const internal = podSpec(
      find(
        await render(["operator.discovery.allowInternalAddresses=true"]),
        "Deployment",
        "fh-freehold-operator",
      ),
    ).containers[0];
    expect(environment(internal, "FREEHOLD_DISCOVERY_ALLOW_INTERNAL")).toEqual({
      name: "FREEHOLD_DISCOVERY_ALLOW_INTERNAL",
      value: "true",
    });
    // Prometheus's namespaces, for the tenants' NetworkPolicies.
    const scraped = podSpec(
      find(
        await render(["metrics.scrapeNamespaces={monitoring,observability}"]),
        "Deployment",
        "fh-freehold-operator",
      ),
    ).containers[0];
    expect(environment(scraped, "FREEHOLD_METRICS_SCRAPE_NAMESPACES")).toEqual({
      name: "FREEHOLD_METRICS_SCRAPE_NAMESPACES",
      value: "monitoring,observability",
    });
    // runs.retention reaches the operator (for the workers) and the gateway alike.
    const retained = await render(["runs.retention=36h"]);
    for (const name of ["fh-freehold-operator", "fh-freehold-gateway"]) {
      expect(
        environment(podSpec(find(retained, "Deployment", name)).containers[0], "FREEHOLD_RUN_RETENTION"),
        name,
      ).toEqual({
        name: "FREEHOLD_RUN_RETENTION",
        value: "36h",
      });
    }
  });

  it("sets only variables the operator reads", async () => {
    const objects = await render(["operator.watchNamespace=acme", "operator.namespaces={team-a}"]);
    const container = podSpec(find(objects, "Deployment", "fh-freehold-operator")).containers[0];
    const main = readFileSync(join(root, "operators", "freehold-operator", "src", "main.ts"), "utf8");
    const read = new Set(
      [...main.matchAll(/environment\.([A-Z_]+)|[a-zA-Z]+\("([A-Z][A-Z0-9_]*)"\)/g)].map(
        (match) => match[1] ?? match[2],
      ),
    );
    expect(container?.env?.map((variable) => variable.name).filter((name) => !read.has(name))).toEqual([]);
  });

  it("runs Redis with a generated password from the Secret (never in the pod spec), protected mode, maxmemory, noeviction and an append-only file", async () => {
    const rendered = await helm(["template", release, chart, "-n", namespace]);
    expect(rendered.code, rendered.stderr).toBe(0);
    const objects = parseObjects(rendered.stdout);
    const secret = find(objects, "Secret", "fh-freehold-redis");
    const password = secretValue(secret, "password");
    expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(secretValue(secret, "url")).toBe(
      `redis://default:${password}@fh-freehold-redis.${namespace}.svc:6379`,
    );
    // The password is in the Secret and nowhere else, neither as it is nor base64-encoded.
    const others = objects.filter((object) => object !== secret).map((object) => JSON.stringify(object));
    for (const text of others) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(Buffer.from(password).toString("base64"));
    }
    const redis = podSpec(find(objects, "StatefulSet", "fh-freehold-redis")).containers[0];
    expect(redis?.args).toEqual([
      "redis-server",
      "--requirepass",
      "$(REDIS_PASSWORD)",
      "--protected-mode",
      "yes",
      "--maxmemory",
      "768mb",
      "--maxmemory-policy",
      "noeviction",
      "--appendonly",
      "yes",
      "--appendfsync",
      "everysec",
      "--dir",
      "/data",
    ]);
    const fromSecret = { secretKeyRef: { name: "fh-freehold-redis", key: "password" } };
    expect(redis?.env).toEqual([
      { name: "REDIS_PASSWORD", valueFrom: fromSecret },
      { name: "REDISCLI_AUTH", valueFrom: fromSecret },
    ]);
    expect(redis?.readinessProbe?.exec?.command.join(" ")).toContain("redis-cli -h 127.0.0.1 -p 6379 ping");
    expect(redis?.livenessProbe?.exec?.command.join(" ")).toContain("redis-cli -h 127.0.0.1 -p 6379 ping");
    // A password made in this revision: every pod that uses it carries the revision, so a new one rolls them.
    for (const name of ["fh-freehold-operator", "fh-freehold-gateway"]) {
      expect(podAnnotations(find(objects, "Deployment", name))).toMatchObject({
        "freehold.dev/redis-password-revision": "1",
      });
    }
    expect(podAnnotations(find(objects, "StatefulSet", "fh-freehold-redis"))).toEqual({
      "freehold.dev/redis-password-revision": "1",
    });
    expect(secret.metadata.annotations).toEqual({ "freehold.dev/password-revision": "1" });
  });

  // [values, the Secret, its key]
  const redisSources: [string, readonly string[], string, string][] = [
    ["the chart's Redis, generated password", [], "fh-freehold-redis", "url"],
    ["the chart's Redis, the user's password Secret", ["redis.auth.existingSecret=mine"], "mine", "url"],
    [
      "the user's Redis from a Secret",
      ["redis.enabled=false", "redis.existingSecret.name=redis-credentials", "redis.existingSecret.key=uri"],
      "redis-credentials",
      "uri",
    ],
    [
      "the user's Redis by URL",
      ["redis.enabled=false", "redis.url=rediss://redis.example:6380"],
      "fh-freehold-redis",
      "url",
    ],
    [
      "the user's Redis Cluster by URL",
      ["redis.enabled=false", "redis.url=redis+cluster://redis-0.example:6379\\,redis-1.example:6379"],
      "fh-freehold-redis",
      "url",
    ],
  ];

  it.each(redisSources)(
    "gives every container the Redis URL only from a Secret: %s",
    async (_title, values, name, key) => {
      const objects = await render(values);
      const all = containers(objects);
      expect(all.map(([where]) => where).sort()).toEqual(
        [
          "fh-freehold-gateway/gateway",
          "fh-freehold-operator/operator",
          ...(values.includes("redis.enabled=false") ? [] : ["fh-freehold-redis/redis"]),
        ].sort(),
      );
      for (const [where, container] of all) {
        for (const variable of container.env ?? []) {
          expect(variable.value ?? "", `${where} ${variable.name}`).not.toMatch(/rediss?:\/\//);
        }
        if (where.endsWith("/redis")) continue;
        expect(environment(container, "FREEHOLD_REDIS_URL"), where).toEqual({
          name: "FREEHOLD_REDIS_URL",
          valueFrom: { secretKeyRef: { name, key } },
        });
        expect(environment(container, "REDIS_URL"), where).toBeUndefined();
      }
      // The chart makes the Secret only when it is not the user's.
      const made = objects.filter((object) => object.kind === "Secret").map((object) => object.metadata.name);
      expect(made).toEqual(name === "fh-freehold-redis" ? ["fh-freehold-redis"] : []);
      if (values.some((value) => value.startsWith("redis.url=redis+cluster://"))) {
        expect(secretValue(find(objects, "Secret", "fh-freehold-redis"), "url")).toBe(
          "redis+cluster://redis-0.example:6379,redis-1.example:6379",
        );
        expect(objects.some((object) => object.kind === "StatefulSet")).toBe(false);
      }
      if (values.includes("redis.url=rediss://redis.example:6380")) {
        expect(secretValue(find(objects, "Secret", "fh-freehold-redis"), "url")).toBe(
          "rediss://redis.example:6380",
        );
        expect(objects.some((object) => object.kind === "StatefulSet")).toBe(false);
      }
    },
  );

  // [values, what helm says]
  const refusedRedis: [string, readonly string[], string][] = [
    [
      "no Redis at all",
      ["redis.enabled=false"],
      "redis.enabled is false but no Redis is given: set redis.existingSecret.name (a Secret holding the URL with its password) or redis.url",
    ],
    [
      "a password in redis.url",
      ["redis.enabled=false", "redis.url=redis://:hunter2@redis.example:6379"],
      "redis.url holds credentials: put the URL in a Secret and set redis.existingSecret.name instead",
    ],
    [
      "a user and password in redis.url",
      ["redis.enabled=false", "redis.url=rediss://freehold:hunter2@redis.example:6380/2"],
      "redis.url holds credentials",
    ],
    [
      "a password in a Redis Cluster's redis.url",
      [
        "redis.enabled=false",
        "redis.url=redis+cluster://:hunter2@redis-0.example:6379\\,redis-1.example:6379",
      ],
      "redis.url holds credentials: put the URL in a Secret and set redis.existingSecret.name instead",
    ],
    [
      "a Redis Cluster's redis.url without ports",
      ["redis.enabled=false", "redis.url=redis+cluster://redis-0.example\\,redis-1.example"],
      "is not a Redis Cluster URL: write its nodes as redis+cluster://host:port,host:port",
    ],
    [
      "redis.url next to the chart's Redis",
      ["redis.url=redis://redis.example:6379"],
      "redis.url and redis.existingSecret are for your own Redis: set redis.enabled=false",
    ],
    [
      "a maxmemory at the memory limit",
      ["redis.maxmemory=1gb", "redis.resources.limits.memory=1Gi"],
      "redis.maxmemory (1gb) must be below redis.resources.limits.memory (1Gi)",
    ],
    [
      "a maxmemory above the memory limit",
      ["redis.maxmemory=3g", "redis.resources.limits.memory=2.5Gi"],
      "redis.maxmemory (3g) must be below redis.resources.limits.memory (2.5Gi)",
    ],
  ];

  it.each(refusedRedis)("refuses %s, saying what to set", async (_title, values, message) => {
    expect(await refusedRender(values)).toContain(message);
  });

  it("takes a maxmemory below the limit in either unit system", async () => {
    const objects = await render(["redis.maxmemory=1500m", "redis.resources.limits.memory=1536Mi"]);
    const args = podSpec(find(objects, "StatefulSet", "fh-freehold-redis")).containers[0]?.args ?? [];
    expect(args[args.indexOf("--maxmemory") + 1]).toBe("1500m");
  });

  it("cuts the operator's ClusterRole to reads of what it owns, Tenants' namespaces and RoleBindings, and binding three roles", async () => {
    const objects = await render();
    const rules = find(objects, "ClusterRole", "fh-freehold-operator").rules ?? [];
    const grants = (group: string, resource: string): string[] =>
      rules
        .filter((rule) => rule.apiGroups.includes(group) && rule.resources.includes(resource))
        .flatMap((rule) => rule.verbs);
    for (const [group, resource] of [
      ["apps", "deployments"],
      ["", "services"],
      ["", "serviceaccounts"],
      ["", "configmaps"],
      ["", "resourcequotas"],
      ["", "limitranges"],
      ["networking.k8s.io", "networkpolicies"],
      ["autoscaling", "horizontalpodautoscalers"],
      ["keda.sh", "scaledobjects"],
      ["keda.sh", "triggerauthentications"],
    ] as const) {
      expect(grants(group, resource).sort(), resource).toEqual(["get", "list", "watch"]);
    }
    expect(grants("", "secrets")).toEqual([]);
    expect(grants("", "pods")).toEqual([]);
    expect(grants("freehold.dev", "agents").sort()).toEqual(["get", "list", "patch", "watch"]);
    expect(rules.flatMap((rule) => rule.verbs)).not.toContain("*");
    expect(rules.flatMap((rule) => rule.resources)).not.toContain("*");
    expect(rules.find((rule) => rule.verbs.includes("bind"))).toEqual({
      apiGroups: ["rbac.authorization.k8s.io"],
      resources: ["clusterroles"],
      verbs: ["bind"],
      resourceNames: ["freehold-tenant-admin", "freehold-tenant-member", "freehold-workload-manager"],
    });
    // Without autoscaling the operator still reads HPAs and ScaledObjects (it watches them) but may
    // not write them anywhere.
    const without = await render(["operator.autoscaling=false"]);
    const manager = (find(without, "ClusterRole", "freehold-workload-manager").rules ?? []).flatMap(
      (rule) => rule.resources,
    );
    expect(manager).not.toContain("horizontalpodautoscalers");
    expect(manager).not.toContain("scaledobjects");
    expect(manager).not.toContain("triggerauthentications");
    expect(
      (find(without, "ClusterRole", "fh-freehold-operator").rules ?? [])
        .filter((rule) => rule.resources.includes("horizontalpodautoscalers"))
        .flatMap((rule) => rule.verbs),
    ).toEqual(["get", "list", "watch"]);
  });

  it("binds freehold-workload-manager for the operator in each served namespace, and lists them in nothing else", async () => {
    const objects = await render(["operator.namespaces={team-a,team-b}"]);
    const bindings = objects.filter(
      (object) => object.kind === "RoleBinding" && object.roleRef?.name === "freehold-workload-manager",
    );
    expect(bindings.map((binding) => binding.metadata.namespace)).toEqual(["team-a", "team-b"]);
    for (const binding of bindings) {
      expect(binding.roleRef).toEqual({
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "freehold-workload-manager",
      });
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "fh-freehold-operator", namespace }]);
    }
    const none = (await render()).filter((object) => object.roleRef?.name === "freehold-workload-manager");
    expect(none).toEqual([]);
  });

  it("ships the tenant roles of the contract", async () => {
    const objects = await render();
    expect(find(objects, "ClusterRole", "freehold-tenant-member").rules).toEqual([
      {
        apiGroups: ["freehold.dev"],
        resources: ["agents", "models", "mcpservers", "humanqueues"],
        verbs: ["get", "list", "watch"],
      },
      { apiGroups: ["freehold.dev"], resources: ["agents/runs"], verbs: ["create"] },
      { apiGroups: ["freehold.dev"], resources: ["runs"], verbs: ["get", "list", "watch"] },
      {
        apiGroups: ["freehold.dev"],
        resources: ["humanqueues/items"],
        verbs: ["get", "list", "claim", "answer", "update"],
      },
      { apiGroups: ["freehold.dev"], resources: ["approvals"], verbs: ["get", "list", "update"] },
    ]);
    const admin = find(objects, "ClusterRole", "freehold-tenant-admin").rules ?? [];
    expect(admin.map((rule) => `${rule.apiGroups.join()}:${rule.resources.join()}`)).toEqual([
      "freehold.dev:*",
      ":secrets",
    ]);
    const manager = find(objects, "ClusterRole", "freehold-workload-manager").rules ?? [];
    expect(manager.flatMap((rule) => rule.resources).sort()).toEqual(
      [
        "configmaps",
        "deployments",
        "events",
        "horizontalpodautoscalers",
        "limitranges",
        "networkpolicies",
        "resourcequotas",
        "scaledobjects",
        "secrets",
        "serviceaccounts",
        "services",
        "triggerauthentications",
      ].sort(),
    );
    expect(manager.flatMap((rule) => rule.resources)).not.toContain("rolebindings");
    expect(manager.flatMap((rule) => rule.resources)).not.toContain("pods");
  });

  it("fences the operator's Namespace and RoleBinding rights with an admission policy that matches its ServiceAccount only", async () => {
    const objects = await render();
    const policy = find(objects, "ValidatingAdmissionPolicy", "freehold-operator-scope");
    expect(policy.apiVersion).toBe("admissionregistration.k8s.io/v1");
    expect(policy.spec?.failurePolicy).toBe("Fail");
    expect(policy.spec?.matchConditions).toEqual([
      { name: "from-the-operator", expression: `request.userInfo.username == "${operatorUser}"` },
    ]);
    expect(find(objects, "ValidatingAdmissionPolicyBinding", "freehold-operator-scope").spec).toEqual({
      policyName: "freehold-operator-scope",
      validationActions: ["Deny"],
    });
  });

  // NetworkPolicies are not enforced on this cluster (no network plugin): their content is checked.
  it("lets into Redis only tenants' and served namespaces, the gateway and the operator; into the gateway anyone on its port; into the operator its health port only", async () => {
    const objects = await render([`operator.namespaces={${teamNamespace}}`]);
    const selector = (component: string): Record<string, string> => ({
      "app.kubernetes.io/name": "freehold",
      "app.kubernetes.io/instance": release,
      "app.kubernetes.io/component": component,
    });
    expect(find(objects, "NetworkPolicy", "fh-freehold-redis").spec).toEqual({
      podSelector: { matchLabels: selector("redis") },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        {
          from: [
            { namespaceSelector: { matchExpressions: [{ key: "freehold.dev/tenant", operator: "Exists" }] } },
            {
              namespaceSelector: {
                matchExpressions: [
                  { key: "kubernetes.io/metadata.name", operator: "In", values: [teamNamespace] },
                ],
              },
            },
            { podSelector: { matchLabels: selector("gateway") } },
            { podSelector: { matchLabels: selector("operator") } },
          ],
          ports: [{ protocol: "TCP", port: 6379 }],
        },
      ],
      egress: [],
    });
    expect(find(objects, "NetworkPolicy", "fh-freehold-gateway").spec).toEqual({
      podSelector: { matchLabels: selector("gateway") },
      policyTypes: ["Ingress"],
      ingress: [
        {
          ports: [
            { protocol: "TCP", port: 8080 },
            { protocol: "TCP", port: 9090 },
          ],
        },
      ],
    });
    expect(find(objects, "NetworkPolicy", "fh-freehold-operator").spec).toEqual({
      podSelector: { matchLabels: selector("operator") },
      policyTypes: ["Ingress"],
      ingress: [{ ports: [{ protocol: "TCP", port: 8081 }] }],
    });
    // The selectors match the pods; the gateway listens where its policy lets callers in; the pods
    // carry the labels the operator's tenant policies select (part-of + component).
    for (const [kind, name, component] of [
      ["StatefulSet", "fh-freehold-redis", "redis"],
      ["Deployment", "fh-freehold-gateway", "gateway"],
      ["Deployment", "fh-freehold-operator", "operator"],
    ] as const) {
      const labels = (find(objects, kind, name).spec?.template as { metadata: { labels: object } }).metadata
        .labels;
      expect(labels).toMatchObject({ ...selector(component), "app.kubernetes.io/part-of": "freehold" });
    }
    const without = await render(["networkPolicy.enabled=false"]);
    expect(without.filter((object) => object.kind === "NetworkPolicy")).toEqual([]);
  });

  it("gives the gateway its edge: allowed origins and limits per caller, as flags freehold gateway takes", async () => {
    const edgeOf = async (values: readonly string[]) => {
      const gateway = find(await render(values), "Deployment", "fh-freehold-gateway");
      const edgeArguments = (podSpec(gateway).containers[0]?.args ?? []).filter((argument) =>
        /^--(allowed-origin|requests-per-second|burst|max-streams-per-caller)=/.test(argument),
      );
      // What the gateway makes of them, parsed and checked as `freehold gateway` does.
      return { edgeArguments, options: parseEdgeArguments(edgeArguments, {}) };
    };
    expect(await edgeOf([])).toEqual({
      edgeArguments: ["--requests-per-second=20", "--burst=100", "--max-streams-per-caller=50"],
      options: { requestsPerSecond: 20, burst: 100, maxStreamsPerCaller: 50 },
    });
    const set = await edgeOf([
      "gateway.edge.allowedOrigins={https://console.acme.com,http://localhost:3000}",
      "gateway.edge.requestsPerSecond=100000",
      "gateway.edge.burst=1000000",
      "gateway.edge.maxStreamsPerCaller=7",
    ]);
    expect(set.edgeArguments).toEqual([
      "--allowed-origin=https://console.acme.com",
      "--allowed-origin=http://localhost:3000",
      "--requests-per-second=100000",
      "--burst=1000000",
      "--max-streams-per-caller=7",
    ]);
    expect(set.options).toEqual({
      allowedOrigins: ["https://console.acme.com", "http://localhost:3000"],
      requestsPerSecond: 100_000,
      burst: 1_000_000,
      maxStreamsPerCaller: 7,
    });
  });

  it("serves the web console from the gateway unless turned off", async () => {
    const argumentsOf = async (values: readonly string[]) =>
      podSpec(find(await render(values), "Deployment", "fh-freehold-gateway")).containers[0]?.args ?? [];
    expect(await argumentsOf([])).not.toContain("--no-console");
    expect(await argumentsOf(["gateway.console.enabled=false"])).toContain("--no-console");
    const oidc = await argumentsOf([
      "gateway.auth.oidc.issuer=https://login.acme.com",
      "gateway.auth.oidc.audiences={freehold-console}",
      "gateway.console.oidcClientId=freehold-console",
      "gateway.console.oidcScopes={groups,profile}",
    ]);
    expect(oidc).toEqual(
      expect.arrayContaining([
        "--console-oidc-client-id=freehold-console",
        "--console-oidc-scope=groups",
        "--console-oidc-scope=profile",
        "--oidc-audience=freehold-console",
      ]),
    );
  });

  it("serves the gateway's metrics on a port of their own, never on its Service, with scrape annotations", async () => {
    const objects = await render();
    const gateway = find(objects, "Deployment", "fh-freehold-gateway");
    const [container] = podSpec(gateway).containers;
    expect(container?.args).toContain("--metrics-port=9090");
    expect((container as { ports?: unknown } | undefined)?.ports).toEqual([
      { name: "http", containerPort: 8080 },
      { name: "metrics", containerPort: 9090 },
    ]);
    expect(podAnnotations(gateway)).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "9090",
      "prometheus.io/path": "/metrics",
    });
    expect(find(objects, "Service", "fh-freehold-gateway").spec?.ports).toEqual([
      { name: "http", port: 80, targetPort: "http" },
    ]);
    const off = find(await render(["gateway.metrics.enabled=false"]), "Deployment", "fh-freehold-gateway");
    const offArguments = podSpec(off).containers[0]?.args ?? [];
    expect(offArguments.some((argument) => argument.startsWith("--metrics-port"))).toBe(false);
    expect(podAnnotations(off)["prometheus.io/scrape"]).toBeUndefined();
    expect((await refusedRender(["gateway.metrics.port=8080"])).toLowerCase()).toContain("metrics");
  });

  it("renders the prometheus-adapter rule that serves the operator's HPAs their queue-depth metric, when asked", async () => {
    expect((await render()).filter((object) => object.kind === "ConfigMap")).toEqual([]);
    const objects = await render([
      "metrics.prometheusAdapter.enabled=true",
      "metrics.prometheusAdapter.namespace=monitoring",
    ]);
    const configMap = find(objects, "ConfigMap", "fh-freehold-prometheus-adapter");
    expect(configMap.metadata.namespace).toBe("monitoring");
    const config = parseAllDocuments(configMap.data?.["config.yaml"] ?? "")[0]?.toJS() as {
      externalRules: {
        seriesQuery: string;
        resources: unknown;
        name: { as: string };
        metricsQuery: string;
      }[];
    };
    expect(config.externalRules).toHaveLength(1);
    const [rule] = config.externalRules;
    // The name the operator's HorizontalPodAutoscalers ask for, from the series the workers export,
    // selected by the HPA's labels (namespace, agent); every worker reports the same depth: max.
    expect(rule?.name.as).toBe(queueDepthMetric);
    expect(rule?.seriesQuery).toBe(`${queueDepthMetric}{namespace!="",agent!=""}`);
    expect(rule?.resources).toEqual({ overrides: { namespace: { resource: "namespace" } } });
    expect(rule?.metricsQuery).toBe("max(<<.Series>>{<<.LabelMatchers>>}) by (namespace, agent)");
  });

  it("adds the namespaced kinds to the built-in admin, edit and view roles", async () => {
    const objects = await render();
    expect(find(objects, "ClusterRole", "fh-freehold-edit").metadata.labels).toMatchObject({
      "rbac.authorization.k8s.io/aggregate-to-admin": "true",
      "rbac.authorization.k8s.io/aggregate-to-edit": "true",
    });
    const view = find(objects, "ClusterRole", "fh-freehold-view");
    expect(view.metadata.labels?.["rbac.authorization.k8s.io/aggregate-to-view"]).toBe("true");
    expect(view.rules?.flatMap((rule) => rule.verbs)).not.toContain("create");
    expect(view.rules?.flatMap((rule) => rule.resources)).not.toContain("tenants");
  });
});

describe("the rendered chart", () => {
  it.each(variants)("is accepted with $title (server-side dry run)", async ({ values }) => {
    const rendered = await helm(["template", release, chart, "-n", namespace, ...sets(values)]);
    expect(rendered.code, rendered.stderr).toBe(0);
    // Every namespaced object names its namespace (the release's, or a served one).
    const applied = await kubectl(["apply", "--dry-run=server", "-f", "-"], rendered.stdout);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(`deployment.apps/fh-freehold-operator created (server dry run)`);
    expect(applied.stdout).toContain(
      "validatingadmissionpolicy.admissionregistration.k8s.io/freehold-operator-scope created (server dry run)",
    );
  });
});

describe("helm install", () => {
  let installed: Run | undefined;
  /** The chart's Redis arguments run by a local redis-server (no cluster DNS or kubelet here). */
  let chartRedis: ChartRedis | undefined;

  const asOperator = (args: readonly string[], input?: string): ReturnType<typeof kubectl> =>
    kubectl([...args, `--as=${operatorUser}`], input);

  const installedJson = async <T>(args: readonly string[]): Promise<T> => {
    const got = await kubectl([...args, "-o", "json"]);
    expect(got.code, got.stderr).toBe(0);
    return JSON.parse(got.stdout) as T;
  };

  const installedSecret = async (name: string): Promise<RenderedObject> =>
    installedJson<RenderedObject>(["get", "secret", name, "-n", namespace]);

  beforeAll(async () => {
    installed = await helm([
      "install",
      release,
      chart,
      "-n",
      namespace,
      "--set",
      `operator.namespaces={${teamNamespace}}`,
    ]);
  });

  afterAll(async () => {
    await chartRedis?.stop();
  });

  it("installs the CRDs first, then every object", async () => {
    expect(installed?.code, installed?.stderr).toBe(0);
    expect(installed?.stdout).toContain("STATUS: deployed");
    expect(installed?.stdout).toContain("kubectl get agents -n acme");
    expect(installed?.stdout).toContain(`without a Tenant (single-tenant): ${teamNamespace}`);
    const established = await kubectl([
      "wait",
      "--for=condition=Established",
      "--timeout=60s",
      "crd/agents.freehold.dev",
      "crd/tenants.freehold.dev",
    ]);
    expect(established.code, established.stderr).toBe(0);
    const got = await kubectl([
      "get",
      "deployments,statefulsets,services,serviceaccounts,secrets,roles,rolebindings,networkpolicies",
      "-n",
      namespace,
      "-l",
      `app.kubernetes.io/instance=${release}`,
      "-o",
      "name",
    ]);
    expect(got.stdout.trim().split("\n").sort()).toEqual([
      "deployment.apps/fh-freehold-gateway",
      "deployment.apps/fh-freehold-operator",
      "networkpolicy.networking.k8s.io/fh-freehold-gateway",
      "networkpolicy.networking.k8s.io/fh-freehold-operator",
      "networkpolicy.networking.k8s.io/fh-freehold-redis",
      "role.rbac.authorization.k8s.io/fh-freehold-operator",
      "rolebinding.rbac.authorization.k8s.io/fh-freehold-operator",
      "secret/fh-freehold-redis",
      "service/fh-freehold-gateway",
      "service/fh-freehold-operator-metrics",
      "service/fh-freehold-redis",
      "serviceaccount/fh-freehold-gateway",
      "serviceaccount/fh-freehold-operator",
      "statefulset.apps/fh-freehold-redis",
    ]);
    const team = await kubectl(["get", "rolebindings", "-n", teamNamespace, "-o", "name"]);
    expect(team.stdout.trim()).toBe("rolebinding.rbac.authorization.k8s.io/fh-freehold-operator");
    const cluster = await kubectl([
      "get",
      "clusterroles,validatingadmissionpolicies,validatingadmissionpolicybindings",
      "-l",
      `app.kubernetes.io/instance=${release}`,
      "-o",
      "name",
    ]);
    expect(cluster.stdout.trim().split("\n").sort()).toEqual([
      "clusterrole.rbac.authorization.k8s.io/fh-freehold-edit",
      "clusterrole.rbac.authorization.k8s.io/fh-freehold-gateway",
      "clusterrole.rbac.authorization.k8s.io/fh-freehold-operator",
      "clusterrole.rbac.authorization.k8s.io/fh-freehold-view",
      "clusterrole.rbac.authorization.k8s.io/freehold-tenant-admin",
      "clusterrole.rbac.authorization.k8s.io/freehold-tenant-member",
      "clusterrole.rbac.authorization.k8s.io/freehold-workload-manager",
      "validatingadmissionpolicy.admissionregistration.k8s.io/freehold-operator-scope",
      "validatingadmissionpolicybinding.admissionregistration.k8s.io/freehold-operator-scope",
    ]);
  });

  it("installs a password-protected Redis: the password only in the Secret, requirepass through the environment", async () => {
    const secret = await installedSecret("fh-freehold-redis");
    const password = secretValue(secret, "password");
    expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(secretValue(secret, "url")).toBe(
      `redis://default:${password}@fh-freehold-redis.${namespace}.svc:6379`,
    );
    const workloads = (
      await installedJson<{ items: RenderedObject[] }>([
        "get",
        "deployments,statefulsets",
        "-n",
        namespace,
        "-l",
        `app.kubernetes.io/instance=${release}`,
      ])
    ).items;
    expect(workloads).toHaveLength(3);
    for (const workload of workloads) {
      expect(JSON.stringify(workload), workload.metadata.name).not.toContain(password);
    }
    for (const [where, container] of containers(workloads)) {
      for (const variable of container.env ?? []) {
        expect(variable.value ?? "", `${where} ${variable.name}`).not.toMatch(/rediss?:\/\//);
        if (/REDIS/.test(variable.name)) expect(variable.valueFrom?.secretKeyRef, where).toBeDefined();
      }
    }
    const redis = podSpec(find(workloads, "StatefulSet", "fh-freehold-redis")).containers[0];
    expect(redis?.args?.slice(0, 3)).toEqual(["redis-server", "--requirepass", "$(REDIS_PASSWORD)"]);
    expect(environment(redis, "REDIS_PASSWORD")?.valueFrom).toEqual({
      secretKeyRef: { name: "fh-freehold-redis", key: "password" },
    });
  });

  it("keeps the Redis password across helm upgrade, and makes a new one (rolling every pod that uses it) only when the Secret is gone", async () => {
    const before = secretValue(await installedSecret("fh-freehold-redis"), "password");
    const upgraded = await helm(["upgrade", release, chart, "-n", namespace, "--reuse-values"]);
    expect(upgraded.code, upgraded.stderr).toBe(0);
    const kept = await installedSecret("fh-freehold-redis");
    expect(secretValue(kept, "password")).toBe(before);
    expect(kept.metadata.annotations?.["freehold.dev/password-revision"]).toBe("1");
    const revisions = async (): Promise<string[]> =>
      (
        await installedJson<{ items: RenderedObject[] }>([
          "get",
          "deployments,statefulsets",
          "-n",
          namespace,
          "-l",
          `app.kubernetes.io/instance=${release}`,
        ])
      ).items.map(
        (workload) =>
          `${workload.metadata.name}:${podAnnotations(workload)["freehold.dev/redis-password-revision"] ?? ""}`,
      );
    expect((await revisions()).sort()).toEqual([
      "fh-freehold-gateway:1",
      "fh-freehold-operator:1",
      "fh-freehold-redis:1",
    ]);

    // The documented way to change it: delete the Secret, upgrade.
    const deleted = await kubectl(["delete", "secret", "fh-freehold-redis", "-n", namespace]);
    expect(deleted.code, deleted.stderr).toBe(0);
    const rotated = await helm(["upgrade", release, chart, "-n", namespace, "--reuse-values"]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const fresh = await installedSecret("fh-freehold-redis");
    expect(secretValue(fresh, "password")).not.toBe(before);
    expect(secretValue(fresh, "password")).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(fresh.metadata.annotations?.["freehold.dev/password-revision"]).toBe("3");
    expect((await revisions()).sort()).toEqual([
      "fh-freehold-gateway:3",
      "fh-freehold-operator:3",
      "fh-freehold-redis:3",
    ]);
  });

  it("runs a real redis-server with the StatefulSet's arguments: it wants the Secret's password and has the chart's limits", async () => {
    const statefulSet = await installedJson<RenderedObject>([
      "get",
      "statefulset",
      "fh-freehold-redis",
      "-n",
      namespace,
    ]);
    const container = podSpec(statefulSet).containers[0];
    if (container === undefined) throw new Error("the StatefulSet has no container");
    const secret = await installedSecret("fh-freehold-redis");
    const password = secretValue(secret, "password");
    // As the kubelet would: the variables from the Secret, then $(REDIS_PASSWORD) expanded.
    chartRedis = await startChartRedis(container, { REDIS_PASSWORD: password });
    const port = String(chartRedis.port);
    const url = secretValue(secret, "url").replace(
      `fh-freehold-redis.${namespace}.svc:6379`,
      `127.0.0.1:${port}`,
    );

    const anonymous = await run("redis-cli", ["-p", port, "ping"]);
    expect(anonymous.stdout.trim()).toMatch(/^NOAUTH/);
    const wrong = await run("redis-cli", ["-u", url.replace(password, "not-the-password"), "ping"]);
    expect(wrong.stdout + wrong.stderr).toMatch(/WRONGPASS|invalid username-password/);
    const settings: Record<string, string> = {};
    for (const name of ["maxmemory", "maxmemory-policy", "appendonly", "protected-mode", "appendfsync"]) {
      const got = await run("redis-cli", ["--no-auth-warning", "-u", url, "config", "get", name]);
      expect(got.code, got.stderr).toBe(0);
      settings[name] = got.stdout.trim().split("\n")[1] ?? "";
    }
    expect(settings).toEqual({
      maxmemory: String(768 * 1024 * 1024),
      "maxmemory-policy": "noeviction",
      appendonly: "yes",
      "protected-mode": "yes",
      appendfsync: "everysec",
    });

    // The probes as written, against this Redis' port, with and without the Secret's password.
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      const [shell, flag, script] = probe?.exec?.command ?? [];
      expect([shell, flag]).toEqual(["sh", "-c"]);
      const local = (script ?? "").replace("-p 6379", `-p ${port}`);
      expect(local).not.toBe(script);
      const passes = await run("sh", ["-c", local], { environment: { REDISCLI_AUTH: password } });
      expect(passes.code, passes.stdout + passes.stderr).toBe(0);
      const fails = await run("sh", ["-c", local], { environment: { REDISCLI_AUTH: "not-the-password" } });
      expect(fails.code).not.toBe(0);
    }
  });

  describe("the admission policy freehold-operator-scope", () => {
    /** Each outcome, printed so the run can be quoted. */
    const outcome = (what: string, result: { code: number; stdout: string; stderr: string }): string => {
      const line = `admission: ${what}: ${result.code === 0 ? "allowed" : `refused: ${result.stderr.trim()}`}`;
      console.log(line);
      return line;
    };
    const denied = (message: string): string =>
      `ValidatingAdmissionPolicy 'freehold-operator-scope' with binding 'freehold-operator-scope' denied request: ${message}`;
    const createRoleBinding = (
      where: string,
      name: string,
      role: string,
      subject: string[],
      extra: string[] = [],
    ): ReturnType<typeof kubectl> =>
      asOperator(["create", "rolebinding", name, `--clusterrole=${role}`, ...subject, "-n", where, ...extra]);
    const operatorSubject = [`--serviceaccount=${namespace}:fh-freehold-operator`];
    const namespaceManifest = (name: string, labels: Record<string, string>): string =>
      JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } });

    it("is enforced by the API server (the policy is loaded)", async () => {
      // A policy takes effect a moment after it is created: ask with dry runs until it answers.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const attempt = await createRoleBinding(
          otherNamespace,
          "freehold-operator",
          "freehold-workload-manager",
          operatorSubject,
          ["--dry-run=server"],
        );
        if (attempt.stderr.includes("freehold-operator-scope")) break;
        if (Date.now() > deadline) {
          throw new Error(
            `the API server does not enforce ValidatingAdmissionPolicy freehold-operator-scope: ${attempt.stdout}${attempt.stderr}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    });

    it("refuses the operator's RoleBindings outside tenant namespaces, with its message", async () => {
      for (const where of ["kube-system", otherNamespace, teamNamespace]) {
        const created = await createRoleBinding(
          where,
          "freehold-operator",
          "freehold-workload-manager",
          operatorSubject,
        );
        outcome(`operator creates RoleBinding freehold-operator in ${where}`, created);
        expect(created.code).not.toBe(0);
        expect(created.stderr).toContain(
          denied(
            `the Freehold operator may create, change or delete RoleBindings only in namespaces labelled freehold.dev/tenant, and namespace ${where} is not`,
          ),
        );
        const there = await kubectl(["get", "rolebinding", "freehold-operator", "-n", where]);
        expect(there.stderr).toMatch(/NotFound|not found/);
      }
      // Nor may it delete one there (a dry run: the binding stays either way).
      const removed = await asOperator([
        "delete",
        "rolebinding",
        "system::extension-apiserver-authentication-reader",
        "-n",
        "kube-system",
        "--dry-run=server",
      ]);
      outcome(
        "operator deletes RoleBinding system::extension-apiserver-authentication-reader in kube-system",
        removed,
      );
      expect(removed.stderr).toContain(
        denied("the Freehold operator may create, change or delete RoleBindings only"),
      );
    });

    it("refuses namespaces the operator would make, label or delete without the tenant label", async () => {
      const unlabelled = await asOperator(["create", "-f", "-"], namespaceManifest(tenantNamespace, {}));
      outcome(`operator creates namespace ${tenantNamespace} without the label`, unlabelled);
      expect(unlabelled.stderr).toContain(
        denied(
          `the Freehold operator may create only namespaces labelled freehold.dev/tenant, and ${tenantNamespace} is not`,
        ),
      );
      const labelled = await asOperator(["label", "namespace", "kube-system", "freehold.dev/tenant=acme"]);
      outcome("operator labels namespace kube-system freehold.dev/tenant=acme", labelled);
      expect(labelled.stderr).toContain(
        denied(
          "the Freehold operator may change or delete only namespaces labelled freehold.dev/tenant, and kube-system is not",
        ),
      );
      const kubeSystem = await kubectl([
        "get",
        "namespace",
        "kube-system",
        "-o",
        "jsonpath={.metadata.labels}",
      ]);
      expect(kubeSystem.stdout).not.toContain("freehold.dev/tenant");
      const deleted = await asOperator(["delete", "namespace", otherNamespace, "--wait=false"]);
      outcome(`operator deletes namespace ${otherNamespace}`, deleted);
      expect(deleted.stderr).toContain(
        denied(
          `the Freehold operator may change or delete only namespaces labelled freehold.dev/tenant, and ${otherNamespace} is not`,
        ),
      );
    });

    it("allows the operator a tenant namespace and the RoleBindings of the contract in it, binding only the Freehold roles", async () => {
      const created = await asOperator(
        ["create", "-f", "-"],
        namespaceManifest(tenantNamespace, { "freehold.dev/tenant": "acme" }),
      );
      outcome(`operator creates namespace ${tenantNamespace} labelled freehold.dev/tenant=acme`, created);
      expect(created.code, created.stderr).toBe(0);
      for (const [name, role, subject] of [
        ["freehold-operator", "freehold-workload-manager", operatorSubject],
        ["freehold-tenant-admins", "freehold-tenant-admin", ["--group=acme:platform"]],
        ["freehold-tenant-members", "freehold-tenant-member", ["--group=acme:billing"]],
      ] as const) {
        const bound = await createRoleBinding(tenantNamespace, name, role, [...subject]);
        outcome(`operator creates RoleBinding ${name} (${role}) in ${tenantNamespace}`, bound);
        expect(bound.code, bound.stderr).toBe(0);
      }
      // A role whose rights it holds itself (RBAC lets it bind that) is still refused by the policy.
      const reader = await kubectl([
        "create",
        "clusterrole",
        readerRole,
        "--verb=get,list,watch",
        "--resource=agents.freehold.dev",
      ]);
      expect(reader.code, reader.stderr).toBe(0);
      const other = await createRoleBinding(tenantNamespace, "readers", readerRole, ["--group=acme:all"]);
      outcome(`operator creates RoleBinding readers (${readerRole}) in ${tenantNamespace}`, other);
      expect(other.stderr).toContain(
        denied(
          `the Freehold operator may bind only the ClusterRoles freehold-tenant-admin, freehold-tenant-member and freehold-workload-manager, not ClusterRole ${readerRole}`,
        ),
      );
      // A role it does not hold: RBAC refuses before the policy is asked.
      const admin = await createRoleBinding(tenantNamespace, "root", "cluster-admin", ["--group=acme:all"]);
      outcome(`operator creates RoleBinding root (cluster-admin) in ${tenantNamespace}`, admin);
      expect(admin.stderr).toMatch(
        /forbidden: user .* is attempting to grant RBAC permissions not currently held/,
      );
      const changed = await asOperator(["label", "namespace", tenantNamespace, "example.com/team=billing"]);
      outcome(`operator labels its namespace ${tenantNamespace}`, changed);
      expect(changed.code, changed.stderr).toBe(0);
      const removal = await asOperator([
        "delete",
        "rolebinding",
        "freehold-tenant-members",
        "-n",
        tenantNamespace,
        "--dry-run=server",
      ]);
      outcome(
        `operator deletes RoleBinding freehold-tenant-members in ${tenantNamespace} (dry run)`,
        removal,
      );
      expect(removal.code, removal.stderr).toBe(0);
    });

    it("leaves everyone else alone", async () => {
      const byAdmin = await kubectl([
        "create",
        "rolebinding",
        "freehold-operator",
        "--clusterrole=freehold-workload-manager",
        ...operatorSubject,
        "-n",
        otherNamespace,
        "--dry-run=server",
      ]);
      outcome(`cluster admin creates RoleBinding freehold-operator in ${otherNamespace} (dry run)`, byAdmin);
      expect(byAdmin.code, byAdmin.stderr).toBe(0);
    });
  });

  describe("kubectl auth can-i", () => {
    // Who asks: the operator's and the gateway's ServiceAccounts, and members and admins of the tenant
    // acme (the groups bound in its namespace above).
    const who: Record<string, string[]> = {
      operator: [`--as=${operatorUser}`],
      gateway: [`--as=${gatewayUser}`],
      member: ["--as=jane", "--as-group=acme:billing"],
      admin: ["--as=ada", "--as-group=acme:platform"],
    };
    const subresources = new Set(["status", "finalizers", "runs", "items"]);
    const virtualResources = new Set(["runs.freehold.dev", "approvals.freehold.dev"]);
    const people: Record<string, { user: string; groups: string[] }> = {
      member: { user: "jane", groups: ["acme:billing"] },
      admin: { user: "ada", groups: ["acme:platform"] },
    };
    /** A SubjectAccessReview as the admin, answered "yes" or "no" like can-i. */
    const subjectAccessReview = async (
      asking: string,
      verb: string,
      resource: string,
      where: string,
    ): Promise<{ stdout: string; stderr: string }> => {
      const person = people[asking];
      if (person === undefined) throw new Error(`no SubjectAccessReview for ${asking}`);
      const [plural, group] = resource.split(/\.(.*)/);
      const review = await kubectl(
        ["create", "-f", "-", "-o", "jsonpath={.status.allowed}"],
        JSON.stringify({
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: {
            ...person,
            resourceAttributes: { group, resource: plural, verb, namespace: where },
          },
        }),
      );
      return {
        stdout: review.stdout === "true" ? "yes" : review.stdout === "false" ? "no" : review.stdout,
        stderr: review.stderr,
      };
    };
    // [who, verb, resource (with /subresource or /name), namespace ("*": all, "": none), allowed]
    const cases = (): [string, string, string, string, boolean][] => [
      ["operator", "watch", "agents.freehold.dev", "*", true],
      ["operator", "patch", "agents.freehold.dev", "acme", true],
      ["operator", "patch", "agents.freehold.dev/status", "acme", true],
      ["operator", "update", "tenants.freehold.dev/finalizers", "", true],
      ["operator", "create", "agents.freehold.dev", "acme", false],
      ["operator", "delete", "models.freehold.dev", "acme", false],
      ["operator", "list", "deployments.apps", "*", true],
      ["operator", "watch", "configmaps", "*", true],
      ["operator", "create", "deployments.apps", "kube-system", false],
      ["operator", "create", "deployments.apps", otherNamespace, false],
      ["operator", "patch", "deployments.apps", "kube-system", false],
      ["operator", "delete", "configmaps", "kube-system", false],
      ["operator", "create", "services", "kube-system", false],
      ["operator", "create", "serviceaccounts", "kube-system", false],
      ["operator", "list", "secrets", "*", false],
      ["operator", "watch", "secrets", "*", false],
      ["operator", "get", "secrets", "kube-system", false],
      ["operator", "create", "secrets", "kube-system", false],
      ["operator", "create", "deployments.apps", teamNamespace, true],
      ["operator", "create", "secrets", teamNamespace, true],
      ["operator", "create", "networkpolicies.networking.k8s.io", teamNamespace, true],
      ["operator", "create", "horizontalpodautoscalers.autoscaling", teamNamespace, true],
      ["operator", "create", "deployments.apps", tenantNamespace, true],
      ["operator", "create", "resourcequotas", tenantNamespace, true],
      ["operator", "create", "limitranges", tenantNamespace, true],
      ["operator", "watch", "secrets", tenantNamespace, true],
      ["operator", "create", "secrets", namespace, true],
      ["operator", "delete", "secrets", namespace, true],
      ["operator", "create", "deployments.apps", namespace, false],
      ["operator", "create", "pods", teamNamespace, false],
      ["operator", "delete", "pods", tenantNamespace, false],
      ["operator", "create", "roles.rbac.authorization.k8s.io", tenantNamespace, false],
      ["operator", "create", "events", tenantNamespace, true],
      ["operator", "delete", "events", tenantNamespace, false],
      ["operator", "create", "namespaces", "", true],
      ["operator", "delete", "namespaces", "", true],
      // RBAC says yes everywhere; the admission policy refuses outside tenant namespaces (above).
      ["operator", "create", "rolebindings.rbac.authorization.k8s.io", "kube-system", true],
      ["operator", "bind", "clusterroles.rbac.authorization.k8s.io/freehold-tenant-admin", "", true],
      ["operator", "bind", "clusterroles.rbac.authorization.k8s.io/freehold-tenant-member", "", true],
      ["operator", "bind", "clusterroles.rbac.authorization.k8s.io/freehold-workload-manager", "", true],
      ["operator", "bind", "clusterroles.rbac.authorization.k8s.io/cluster-admin", "", false],
      ["operator", "bind", "clusterroles.rbac.authorization.k8s.io/edit", "", false],
      ["operator", "escalate", "clusterroles.rbac.authorization.k8s.io", "", false],
      ["operator", "create", "clusterrolebindings.rbac.authorization.k8s.io", "", false],
      ["operator", "create", "leases.coordination.k8s.io", namespace, true],
      ["operator", "update", "leases.coordination.k8s.io/freehold-operator", namespace, true],
      ["operator", "get", "leases.coordination.k8s.io/freehold-operator", namespace, true],
      ["operator", "update", "leases.coordination.k8s.io/someone-else", namespace, false],
      ["operator", "create", "leases.coordination.k8s.io", teamNamespace, false],
      ["gateway", "get", "secrets", namespace, false],
      ["gateway", "list", "agents.freehold.dev", "*", false],
      ["gateway", "create", "tokenreviews.authentication.k8s.io", "", true],
      ["gateway", "create", "subjectaccessreviews.authorization.k8s.io", "", true],
      ["gateway", "get", "humanqueues.freehold.dev", tenantNamespace, true],
      ["gateway", "get", "agents.freehold.dev", tenantNamespace, true],
      ["gateway", "list", "humanqueues.freehold.dev", tenantNamespace, true],
      ["gateway", "update", "humanqueues.freehold.dev", tenantNamespace, false],
      ["gateway", "update", "agents.freehold.dev", tenantNamespace, false],
      ["member", "list", "agents.freehold.dev", tenantNamespace, true],
      ["member", "create", "agents.freehold.dev/runs", tenantNamespace, true],
      ["member", "watch", "runs.freehold.dev", tenantNamespace, true],
      ["member", "claim", "humanqueues.freehold.dev/items", tenantNamespace, true],
      ["member", "answer", "humanqueues.freehold.dev/items", tenantNamespace, true],
      ["member", "update", "approvals.freehold.dev", tenantNamespace, true],
      ["member", "create", "agents.freehold.dev", tenantNamespace, false],
      ["member", "delete", "runs.freehold.dev", tenantNamespace, false],
      ["member", "get", "secrets", tenantNamespace, false],
      ["member", "create", "agents.freehold.dev/runs", teamNamespace, false],
      ["admin", "create", "agents.freehold.dev", tenantNamespace, true],
      ["admin", "delete", "runs.freehold.dev", tenantNamespace, true],
      ["admin", "create", "secrets", tenantNamespace, true],
      ["admin", "delete", "deployments.apps", tenantNamespace, false],
      ["admin", "list", "secrets", teamNamespace, false],
    ];

    it("lets the operator do what it needs and nothing more, and tenants' people what their roles say", async () => {
      const binding = await kubectl(["get", "rolebinding", "freehold-operator", "-n", tenantNamespace]);
      expect(binding.code, `the tenant namespace's RoleBinding freehold-operator: ${binding.stderr}`).toBe(0);
      const answers: string[] = [];
      for (const [asking, verb, resource, where, allowed] of cases()) {
        const [type = resource, part] = resource.split("/");
        const subresource = subresources.has(part ?? "") ? part : undefined;
        const place = where === "*" ? "(all namespaces)" : where === "" ? "(cluster)" : where;
        // kubectl auth can-i cannot name a resource the API server does not serve (it drops the
        // group): those are asked with the SubjectAccessReview the gateway will send.
        const virtual = virtualResources.has(type);
        const answer = virtual
          ? await subjectAccessReview(asking, verb, type, where)
          : await kubectl([
              "auth",
              "can-i",
              verb,
              subresource === undefined ? resource : type,
              ...(subresource === undefined ? [] : [`--subresource=${subresource}`]),
              ...(where === "*" ? ["--all-namespaces"] : where === "" ? [] : ["-n", where]),
              ...(who[asking] ?? []),
            ]);
        const said = answer.stdout.trim();
        const line = `${virtual ? "SubjectAccessReview" : "can-i"}: ${asking} ${verb} ${resource} ${place}: ${said}`;
        console.log(line);
        answers.push(line);
        expect(said, `${line}, ${answer.stderr}`).toBe(allowed ? "yes" : "no");
      }
      expect(answers).toHaveLength(cases().length);
    });
  });

  it("lets the real operator, with the Deployment's environment and the ServiceAccount's token, serve a listed namespace", async () => {
    if (chartRedis === undefined) throw new Error("the chart's Redis did not start (see the test above)");
    // A kubeconfig with the operator's token instead of the admin's.
    const token = await kubectl([
      "create",
      "token",
      "fh-freehold-operator",
      "-n",
      namespace,
      "--duration=10m",
    ]);
    expect(token.code, token.stderr).toBe(0);
    const admin = JSON.parse(readFileSync(cluster.kubeconfig, "utf8")) as { users: { user: unknown }[] };
    const kubeconfig = join(helmHome, "operator-kubeconfig");
    writeFileSync(
      kubeconfig,
      JSON.stringify({ ...admin, users: [{ name: "admin", user: { token: token.stdout.trim() } }] }),
    );

    // The environment the chart's Deployment sets, resolved as the kubelet would (Secrets, fields);
    // the test cluster has no cluster DNS, so the in-chart Redis' host becomes the local one, and
    // the health port must be a free one on loopback.
    const deployment = await installedJson<{
      spec: { template: { spec: PodSpec & { serviceAccountName: string } } };
    }>(["get", "deployment", "fh-freehold-operator", "-n", namespace]);
    const fields: Record<string, string> = {
      "metadata.namespace": namespace,
      "metadata.name": "fh-freehold-operator-0",
      "spec.serviceAccountName": deployment.spec.template.spec.serviceAccountName,
    };
    const variables: Record<string, string> = {};
    for (const variable of deployment.spec.template.spec.containers[0]?.env ?? []) {
      const { fieldRef, secretKeyRef } = variable.valueFrom ?? {};
      variables[variable.name] =
        fieldRef !== undefined
          ? (fields[fieldRef.fieldPath] ?? "")
          : secretKeyRef !== undefined
            ? secretValue(await installedSecret(secretKeyRef.name), secretKeyRef.key)
            : (variable.value ?? "");
    }
    const redisUrl = (variables.FREEHOLD_REDIS_URL ?? "").replace(
      `fh-freehold-redis.${namespace}.svc:6379`,
      `127.0.0.1:${chartRedis.port}`,
    );
    expect(redisUrl).toMatch(/^redis:\/\/default:[A-Za-z0-9]{32}@127\.0\.0\.1:\d+$/);
    expect(variables).toMatchObject({
      POD_NAMESPACE: namespace,
      FREEHOLD_LEADER_ELECTION: "true",
      FREEHOLD_NAMESPACES: teamNamespace,
      FREEHOLD_OPERATOR_SERVICE_ACCOUNT: "fh-freehold-operator",
    });
    const healthPort = await freePort();

    const applied = await kubectl(
      ["apply", "-n", teamNamespace, "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [
          {
            apiVersion: "freehold.dev/v1alpha1",
            kind: "Model",
            metadata: { name: "default" },
            spec: { provider: "openai-compatible", model: "scripted", baseUrl: "http://127.0.0.1:9/v1" },
          },
          {
            apiVersion: "freehold.dev/v1alpha1",
            kind: "Agent",
            metadata: { name: "billing" },
            spec: { model: { ref: "default" }, instructions: "You answer questions about invoices." },
          },
        ],
      }),
    );
    expect(applied.code, applied.stderr).toBe(0);

    const { PATH, HOME } = process.env;
    const operator = spawn(
      process.execPath,
      [join(root, "operators", "freehold-operator", "src", "main.ts")],
      {
        cwd: root,
        env: {
          ...(PATH === undefined ? {} : { PATH }),
          ...(HOME === undefined ? {} : { HOME }),
          ...variables,
          FREEHOLD_REDIS_URL: redisUrl,
          FREEHOLD_HEALTH_HOST: "127.0.0.1",
          FREEHOLD_HEALTH_PORT: String(healthPort),
          KUBECONFIG: kubeconfig,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let log = "";
    operator.stdout.on("data", (chunk: Buffer) => (log += chunk.toString()));
    operator.stderr.on("data", (chunk: Buffer) => (log += chunk.toString()));
    const exited = new Promise<void>((resolve) =>
      operator.once("exit", () => {
        resolve();
      }),
    );
    const text = async (args: readonly string[]): Promise<string> => (await kubectl(args)).stdout;
    try {
      const deadline = Date.now() + 45_000;
      const reconciled = async (): Promise<boolean> => {
        const ready = await fetch(`http://127.0.0.1:${healthPort}/readyz`, {
          signal: AbortSignal.timeout(2_000),
        })
          .then((response) => response.ok)
          .catch(() => false);
        const lease = await text([
          "get",
          "lease",
          "freehold-operator",
          "-n",
          namespace,
          "-o",
          "jsonpath={.spec.holderIdentity}",
        ]);
        const owned = await text([
          "get",
          "deployments",
          "-n",
          teamNamespace,
          "-o",
          "jsonpath={.items[*].metadata.ownerReferences[*].kind}",
        ]);
        const agent = await text([
          "get",
          "agent",
          "billing",
          "-n",
          teamNamespace,
          "-o",
          'jsonpath={.status.conditions[?(@.type=="ModelResolved")].status}',
        ]);
        return ready && lease === "fh-freehold-operator-0" && owned.includes("Agent") && agent === "True";
      };
      while (!(await reconciled())) {
        if (/forbidden/i.test(log)) throw new Error(`the operator was refused something:\n${log}`);
        if (operator.exitCode !== null)
          throw new Error(`the operator exited with ${operator.exitCode}:\n${log}`);
        if (Date.now() > deadline)
          throw new Error(`the operator did not reconcile the Agent in 45 s:\n${log}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(log).not.toMatch(/forbidden|\b403\b/i);

      // The workers read Redis from the namespace's Secret freehold-redis, never a literal URL, and
      // that Secret's URL logs in to the chart's Redis.
      const workers = await installedJson<{ items: RenderedObject[] }>([
        "get",
        "deployments",
        "-n",
        teamNamespace,
      ]);
      const worker = workers.items.find((object) => object.metadata.name.includes("billing"));
      if (worker === undefined) throw new Error(`no worker Deployment of billing in ${teamNamespace}`);
      for (const [where, container] of containers([worker])) {
        for (const variable of container.env ?? []) {
          expect(variable.value ?? "", `${where} ${variable.name}`).not.toMatch(/rediss?:\/\//);
        }
        expect(environment(container, "FREEHOLD_REDIS_URL")?.valueFrom, where).toEqual({
          secretKeyRef: { name: "freehold-redis", key: "url" },
        });
      }
      const workerSecret = await installedJson<RenderedObject>([
        "get",
        "secret",
        "freehold-redis",
        "-n",
        teamNamespace,
      ]);
      expect(workerSecret.metadata.labels?.["app.kubernetes.io/managed-by"]).toBe("freehold-operator");
      const workerUrl = secretValue(workerSecret, "url").replace(
        `fh-freehold-redis.${namespace}.svc:6379`,
        `127.0.0.1:${chartRedis.port}`,
      );
      const pinged = await run("redis-cli", ["--no-auth-warning", "-u", workerUrl, "ping"]);
      expect(pinged.stdout.trim()).toBe("PONG");
    } finally {
      operator.kill("SIGTERM");
      const killer = setTimeout(() => operator.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    }
  }, 90_000);

  it("uninstalls with helm uninstall, keeping the CRDs and the resources in them", async () => {
    const uninstalled = await helm(["uninstall", release, "-n", namespace]);
    expect(uninstalled.code, uninstalled.stderr).toBe(0);
    for (const where of [namespace, teamNamespace]) {
      const left = await kubectl([
        "get",
        "deployments,statefulsets,services,serviceaccounts,secrets,roles,rolebindings,networkpolicies",
        "-n",
        where,
        "-l",
        `app.kubernetes.io/instance=${release}`,
        "-o",
        "name",
      ]);
      expect(left.code, left.stderr).toBe(0);
      expect(left.stdout).toBe("");
    }
    // The Agent the operator reconciled, in a CRD, stays.
    const agent = await kubectl(["get", "agent", "billing", "-n", teamNamespace]);
    expect(agent.code, agent.stderr).toBe(0);
    for (const object of [
      "clusterrole/fh-freehold-operator",
      "clusterrole/freehold-tenant-admin",
      "validatingadmissionpolicy/freehold-operator-scope",
    ]) {
      const got = await kubectl(["get", object]);
      expect(got.stderr, object).toMatch(/NotFound|not found/);
    }
    const crd = await kubectl(["get", "crd", "agents.freehold.dev"]);
    expect(crd.code, crd.stderr).toBe(0);
  });
});

describe("values.schema.json", () => {
  // [--set value, the path helm names, what it says]
  const refused: [string, string, string][] = [
    ["operator.replicas=-1", "/operator/replicas", "minimum: got -1, want 1"],
    ["operator.replica=2", "/operator", "additional properties 'replica' not allowed"],
    ["operator.tenantRoles={admin}", "/operator", "additional properties 'tenantRoles' not allowed"],
    ["operator.namespaces={Team_A}", "/operator/namespaces/0", "does not match pattern"],
    ["operator.namespaces={*}", "/operator/namespaces/0", "does not match pattern"],
    ["operator.namespaces={a,a}", "/operator/namespaces", "items at 0 and 1 are equal"],
    ["gateway.replicas=1.5", "/gateway/replicas", "want integer"],
    ["gateway.service.type=Public", "/gateway/service/type", "value must be one of 'ClusterIP', 'NodePort'"],
    ["operator.image.pullPolicy=Sometimes", "/operator/image/pullPolicy", "value must be one of 'Always'"],
    ["operator.port=70000", "/operator/port", "maximum: got 70,000, want 65,535"],
    ["operator.watchNamespace=Acme_Corp", "/operator/watchNamespace", "does not match pattern"],
    ["operator.resources.limits.memory=lots", "/operator/resources/limits/memory", "does not match pattern"],
    ["redis.url=localhost:6379", "/redis/url", "does not match pattern"],
    ["redis.maxmemory=lots", "/redis/maxmemory", "does not match pattern"],
    ["redis.maxmemory=0mb", "/redis/maxmemory", "does not match pattern"],
    ["redis.appendfsync=no", "/redis/appendfsync", "value must be one of 'everysec', 'always'"],
    ["redis.auth.existingSecret=My Secret", "/redis/auth/existingSecret", "does not match pattern"],
    ["redis.auth.password=hunter2", "/redis/auth", "additional properties 'password' not allowed"],
    ["networkPolicy.enabled=yes", "/networkPolicy/enabled", "got string, want boolean"],
    ["gateway.publicUrl=agents.example.com", "/gateway/publicUrl", "does not match pattern"],
    ["gateway.edge.burst=0", "/gateway/edge/burst", "minimum: got 0, want 1"],
    ["gateway.edge.burst=1000001", "/gateway/edge/burst", "maximum: got 1"],
    ["gateway.edge.requestsPerSecond=2.5", "/gateway/edge/requestsPerSecond", "want integer"],
    ["gateway.edge.maxStreamsPerCaller=10001", "/gateway/edge/maxStreamsPerCaller", "maximum: got 10,001"],
    [
      "gateway.edge.allowedOrigins={https://console.acme.com/app}",
      "/gateway/edge/allowedOrigins/0",
      "does not match pattern",
    ],
    [
      "gateway.edge.allowedOrigins={console.acme.com}",
      "/gateway/edge/allowedOrigins/0",
      "does not match pattern",
    ],
    ["gateway.edge.rateLimit=5", "/gateway/edge", "additional properties 'rateLimit' not allowed"],
    ["redis.persistence.enabled=maybe", "/redis/persistence/enabled", "got string, want boolean"],
    ["metrics.scrapeNamespaces={Monitoring}", "/metrics/scrapeNamespaces/0", "does not match pattern"],
    ["runs.retention=7 days", "/runs/retention", "does not match pattern"],
    [
      "operator.discovery.allowInternalAddresses=yes",
      "/operator/discovery/allowInternalAddresses",
      "got string, want boolean",
    ],
    ["tenants=[]", "", "additional properties 'tenants' not allowed"],
  ];

  it.each(refused)("refuses %s, naming %s", async (value, path, message) => {
    const rendered = await helm(["template", release, chart, "--set", value]);
    expect(rendered.code).not.toBe(0);
    expect(rendered.stdout).toBe("");
    expect(rendered.stderr).toContain("values don't meet the specifications of the schema(s)");
    expect(rendered.stderr).toContain(`at '${path}'`);
    expect(rendered.stderr).toContain(message);
  });

  it("describes every key of values.yaml (unknown keys are refused at every level)", () => {
    const schema = JSON.parse(readFileSync(join(chart, "values.schema.json"), "utf8")) as Record<
      string,
      unknown
    >;
    const values = parseAllDocuments(readFileSync(join(chart, "values.yaml"), "utf8"))[0]?.toJS() as Record<
      string,
      unknown
    >;
    const undescribed: string[] = [];
    const walk = (value: unknown, node: Record<string, unknown>, path: string): void => {
      const resolved =
        typeof node.$ref === "string"
          ? ((schema.definitions as Record<string, Record<string, unknown>>)[
              node.$ref.split("/").at(-1) ?? ""
            ] ?? {})
          : node;
      if (typeof value !== "object" || value === null || Array.isArray(value)) return;
      const properties = resolved.properties as Record<string, Record<string, unknown>> | undefined;
      if (properties === undefined) return;
      expect(resolved.additionalProperties, `${path || "the root"} refuses unknown keys`).toBe(false);
      for (const [key, child] of Object.entries(value)) {
        const property = properties[key];
        if (property === undefined) undescribed.push(`${path}.${key}`);
        else walk(child, property, `${path}.${key}`);
      }
    };
    walk(values, schema, "");
    expect(undescribed).toEqual([]);
  });
});

describe("the chart's CRDs", () => {
  it("are the CRDs generated from the zod schemas (pnpm generate writes both)", () => {
    const expected = [...generatedFiles()]
      .filter(([file]) => file.startsWith("crds/"))
      .map(([file, content]) => [basename(file), content]);
    const actual = readdirSync(join(chart, "crds"))
      .sort()
      .map((file) => [file, readFileSync(join(chart, "crds", file), "utf8")]);
    expect(actual.map(([file]) => file)).toEqual(expected.map(([file]) => file).sort());
    expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(expected));
  });

  it("are rendered by helm template --include-crds", async () => {
    const objects = await render([], ["--include-crds"]);
    const crds = objects.filter((object) => object.kind === "CustomResourceDefinition");
    expect(crds.map((crd) => crd.metadata.name).sort()).toEqual([
      "agents.freehold.dev",
      "humanqueues.freehold.dev",
      "mcpservers.freehold.dev",
      "models.freehold.dev",
      "tenants.freehold.dev",
    ]);
  });
});

/**
 * What an image build does, minus the base image: copy what the Dockerfile's COPY lines name (less
 * what .dockerignore leaves out) to an empty folder, run its production `pnpm install` line there
 * (offline, from the store `pnpm install` filled); for an image with a build stage, run its
 * development install line and its build line in a second copy and take the bundle from there, as
 * `COPY --from=build` does; then start its entry point.
 */
describe("the images' install steps", () => {
  const ignored = (path: string): boolean =>
    /(^|\/)(node_modules|dist|coverage|test)(\/|$)|^packages\/cli\/bundle(\/|$)|\.test\.ts$|\.log$/.test(
      path,
    );
  const bundle = "packages/cli/bundle/bin.js";
  /** PATH with this Node first: the bundle's `freehold` script starts `node`. */
  const nodeOnPath = (): Record<string, string> => ({ PATH: imageCommandEnvironment().PATH ?? "" });

  // Each image: its entry point, and arguments to node that show it starts in the installed folder.
  // `command`: what starts it instead of node (relative to the installed folder); `link`: the file
  // of the bundle the image puts on PATH as `freehold`.
  const images: {
    file: string;
    entry: string[];
    command?: string;
    check: string[];
    prints: string;
    built: boolean;
    link?: string;
  }[] = [
    {
      // The bundle's `freehold` script: `freehold worker` starts from the worker's startup snapshot.
      file: "runtime.Dockerfile",
      entry: ["freehold"],
      command: "packages/cli/bundle/freehold",
      check: ["worker", "--help"],
      prints: "Usage: freehold worker",
      built: true,
      link: "packages/cli/bundle/freehold",
    },
    {
      file: "gateway.Dockerfile",
      entry: ["freehold"],
      check: [bundle, "gateway", "--help"],
      prints: "Usage: freehold gateway",
      built: true,
      link: bundle,
    },
    {
      // The operator's entry point starts reconciling at once: loading its modules shows it would start.
      file: "operator.Dockerfile",
      entry: ["node", "operators/freehold-operator/src/main.ts"],
      check: [
        "--input-type=module",
        "--eval",
        "const operator = await import('./operators/freehold-operator/src/index.ts'); console.log(Object.keys(operator).length > 0 ? 'loaded' : 'empty');",
      ],
      prints: "loaded",
      built: false,
    },
  ];

  /**
   * The install stage's environment: the variables the Dockerfile's first `ENV` line sets
   * (`ENV A=1 B=2`), which its `pnpm install` lines run with. Not the runtime image's process
   * environment (`imageEnvironment()` in test/fixtures/image-environment.ts).
   */
  const installEnvironment = (dockerfile: string): Record<string, string> =>
    dockerfileEnvLines(dockerfile)[0] ?? {};
  /** A RUN line's command as arguments (`"freehold..."` unquoted). */
  const commandArgs = (line: string): string[] => line.split(" ").map((arg) => arg.replace(/^"(.*)"$/, "$1"));

  it.each(images)(
    "$file installs and starts",
    async ({ file, entry, command, check, prints, built, link }) => {
      const dockerfile = readFileSync(join(root, "images", file), "utf8");
      const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((match) =>
        (match[1] ?? "").split(" "),
      );
      expect(copied).toEqual([
        "package.json",
        "pnpm-lock.yaml",
        "pnpm-workspace.yaml",
        "patches",
        "packages",
        "operators",
      ]);
      const installs = [...dockerfile.matchAll(/^\s*(pnpm install --offline .+)$/gm)].map(
        (match) => match[1] ?? "",
      );
      expect(installs[0]).toMatch(/--prod --frozen-lockfile --filter/);
      const entrypoint = JSON.parse(/^ENTRYPOINT (.+)$/m.exec(dockerfile)?.[1] ?? "[]") as string[];
      expect(entrypoint).toEqual(entry);
      expect(dockerfile).toMatch(/^USER 65532:65532$/m);
      expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-slim$/m);
      if (built) {
        // The operator's Deployments and the chart run `freehold ...`: the bundle is on PATH.
        expect(dockerfile).toContain(`COPY --from=build /app/packages/cli/bundle /app/packages/cli/bundle`);
        expect(dockerfile).toMatch(new RegExp(`^RUN ln -s /app/${link ?? ""} /usr/local/bin/freehold$`, "m"));
        expect(installs[1]).toMatch(/^pnpm install --offline --frozen-lockfile --filter/);
      }

      const copyContext = (): string => {
        const context = mkdtempSync(join(tmpdir(), "freehold-image-"));
        for (const path of copied) {
          cpSync(join(root, path), join(context, path), {
            recursive: true,
            filter: (source) => !ignored(source.slice(root.length + 1)),
          });
        }
        return context;
      };
      const install = async (context: string, line: string): Promise<void> => {
        const installed = await run("pnpm", commandArgs(line).slice(1), {
          cwd: context,
          environment: installEnvironment(dockerfile),
        });
        expect(installed.code, installed.stdout + installed.stderr).toBe(0);
      };
      const contexts: string[] = [];
      try {
        const context = copyContext();
        contexts.push(context);
        await install(context, installs[0] ?? "");
        if (built) {
          const buildContext = copyContext();
          contexts.push(buildContext);
          await install(buildContext, installs[1] ?? "");
          const buildLine = /^RUN (node packages\/cli\/scripts\/build\.ts)$/m.exec(dockerfile)?.[1];
          expect(buildLine, "the build stage runs the CLI's build").toBeDefined();
          const [command = "", ...args] = commandArgs(buildLine ?? "");
          const builtBundle = await run(command === "node" ? process.execPath : command, args, {
            cwd: buildContext,
          });
          expect(builtBundle.code, builtBundle.stdout + builtBundle.stderr).toBe(0);
          cpSync(join(buildContext, "packages/cli/bundle"), join(context, "packages/cli/bundle"), {
            recursive: true,
          });
          // Executable, as the PATH link needs it.
          expect(statSync(join(context, bundle)).mode & 0o111).not.toBe(0);
          expect(readFileSync(join(context, bundle), "utf8")).toMatch(/^#!\/usr\/bin\/env node\n/);
        } else {
          expect(existsSync(join(context, entry[1] ?? "")), `${entry[1] ?? ""} is in the image`).toBe(true);
        }
        if (file === "runtime.Dockerfile") {
          // Agents' own code under /app (spec.code) imports the very copy of a framework the bundle loads.
          const linkLine = /^RUN (mkdir -p \/app\/node_modules\/@openai [\s\S]+?done)$/m.exec(
            dockerfile,
          )?.[1];
          expect(linkLine, "the image links the frameworks into /app/node_modules").toBeDefined();
          const linked = await run("sh", ["-c", (linkLine ?? "").replaceAll("/app/", `${context}/`)], {
            cwd: context,
          });
          expect(linked.code, linked.stderr).toBe(0);
          const frameworks = [
            "ai",
            "@openai/agents",
            "@openai/agents-core",
            "@langchain/core/messages",
            "@langchain/langgraph",
            "@mastra/core/agent",
            "zod",
          ];
          const probe = `for (const name of ${JSON.stringify(frameworks)}) console.log(import.meta.resolve(name));`;
          mkdirSync(join(context, "agents"));
          writeFileSync(join(context, "agents", "probe.mjs"), probe);
          writeFileSync(join(context, "packages", "cli", "bundle", "probe.mjs"), probe);
          const fromCode = await run(process.execPath, ["agents/probe.mjs"], { cwd: context });
          const fromBundle = await run(process.execPath, ["packages/cli/bundle/probe.mjs"], { cwd: context });
          expect(fromCode.code, fromCode.stderr).toBe(0);
          expect(fromCode.stdout.trim().split("\n")).toHaveLength(frameworks.length);
          expect(fromCode.stdout).toBe(fromBundle.stdout);
        }
        if (file === "runtime.Dockerfile") {
          // The startup snapshot, built again in the folder it runs from, as the final stage does.
          const snapshotLine = /^RUN (node --snapshot-blob \S+ --build-snapshot \S+)$/m.exec(dockerfile)?.[1];
          expect(snapshotLine, "the image builds the worker's startup snapshot").toBeDefined();
          const [, ...snapshotArgs] = commandArgs((snapshotLine ?? "").replaceAll("/app/", `${context}/`));
          const snapshot = await run(process.execPath, snapshotArgs, { cwd: context });
          expect(snapshot.code, snapshot.stderr).toBe(0);
          // A worker starts from it (a missing configuration is its first and only line: no start
          // again from the bundle), with the image's settings.
          const worker = await run(
            join(context, command ?? ""),
            ["worker", "--config", "/nonexistent/config.json", "--redis-url", "redis://127.0.0.1:1"],
            { cwd: context, environment: { ...dockerfileEnvironment(dockerfile), ...nodeOnPath() } },
          );
          expect(worker.code).toBe(1);
          expect(worker.stderr).toMatch(
            /^error: cannot read the runtime configuration .*\(worker\.config-missing\)\n$/,
          );
        }
        // With the image's Node options and allocator settings: a flag NODE_OPTIONS refuses would stop
        // every start.
        const started = await run(command === undefined ? process.execPath : join(context, command), check, {
          cwd: context,
          environment: { ...dockerfileEnvironment(dockerfile), ...nodeOnPath() },
        });
        expect(started.stderr).toBe("");
        expect(started.code).toBe(0);
        expect(started.stdout).toContain(prints);
      } finally {
        for (const context of contexts) rmSync(context, { recursive: true, force: true });
      }
    },
  );
});
