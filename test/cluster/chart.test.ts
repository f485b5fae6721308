/**
 * The Helm chart (charts/freehold) on a real kube-apiserver, with the helm CLI built from Go modules
 * by build.sh: `helm lint` passes, `helm template` renders what the chart promises (no root, no
 * writable root filesystem, least-privilege RBAC), the API server accepts the rendered objects and a
 * real `helm install`, the operator's ServiceAccount can do what it needs and nothing more,
 * values.schema.json refuses bad values naming the field, and the chart's CRDs are the generated
 * ones. Last, the images' install steps (images/*.Dockerfile) run as written on the workspace.
 */
import { execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { generatedFiles } from "@freehold/api";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { freePort } from "@freehold/handoff";
import { createKubectl } from "./kubectl.ts";

const root = join(import.meta.dirname, "..", "..");
const chart = join(root, "charts", "freehold");
const cluster = inject("cluster");
const kubectl = createKubectl(cluster.kubectl, cluster.kubeconfig);
const helmBinary = join(dirname(cluster.kubectl), "helm");
const helmHome = mkdtempSync(join(tmpdir(), "freehold-helm-"));
const namespace = `freehold-chart-${randomUUID().slice(0, 8)}`;
const release = "fh";

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command, never throwing: tests look at the exit code and the output. */
function run(
  binary: string,
  args: readonly string[],
  options: { cwd?: string; environment?: Record<string, string> } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      binary,
      args,
      {
        timeout: 120_000,
        maxBuffer: 16 * 1024 * 1024,
        cwd: options.cwd ?? root,
        env: {
          ...process.env,
          HELM_CACHE_HOME: join(helmHome, "cache"),
          HELM_CONFIG_HOME: join(helmHome, "config"),
          HELM_DATA_HOME: join(helmHome, "data"),
          ...options.environment,
        },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const helm = (args: readonly string[]): Promise<Run> =>
  run(helmBinary, ["--kubeconfig", cluster.kubeconfig, ...args]);

/** `--set` arguments from a list of `key=value`. */
const sets = (values: readonly string[]): string[] => values.flatMap((value) => ["--set", value]);

interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[];
}

interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  securityContext?: Record<string, unknown>;
}

interface PodSpec {
  securityContext?: Record<string, unknown>;
  containers: Container[];
}

async function render(
  values: readonly string[] = [],
  extra: readonly string[] = [],
): Promise<RenderedObject[]> {
  const rendered = await helm(["template", release, chart, "-n", namespace, ...sets(values), ...extra]);
  expect(rendered.stderr).toBe("");
  expect(rendered.code).toBe(0);
  return parseAllDocuments(rendered.stdout)
    .map((document) => document.toJS() as RenderedObject | null)
    .filter((object) => object !== null);
}

function podSpec(object: RenderedObject): PodSpec {
  return (object.spec?.template as { spec: PodSpec }).spec;
}

function find(objects: readonly RenderedObject[], kind: string, name: string): RenderedObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (found === undefined) throw new Error(`the chart rendered no ${kind} ${name}`);
  return found;
}

function environment(container: Container | undefined, name: string): unknown {
  return container?.env?.find((variable) => variable.name === name);
}

/** Values a user might install with, each rendered, linted and applied. */
const variants: readonly { title: string; values: readonly string[] }[] = [
  { title: "the default values", values: [] },
  {
    title: "an external Redis URL and no gateway",
    values: ["redis.enabled=false", "redis.url=redis://redis.example:6379", "gateway.enabled=false"],
  },
  {
    title: "a Redis URL from a Secret and two operators",
    values: ["redis.enabled=false", "redis.existingSecret.name=redis", "operator.replicas=2"],
  },
  {
    title: "a persistent Redis, no tenant roles, no autoscaling",
    values: [
      "redis.persistence.enabled=true",
      "operator.tenantRoles=null",
      "operator.autoscaling=false",
      "gateway.publicUrl=https://agents.example.com",
    ],
  },
];

beforeAll(async () => {
  const created = await kubectl(["create", "namespace", namespace]);
  expect(created.code, created.stderr).toBe(0);
});

afterAll(async () => {
  await helm(["uninstall", release, "-n", namespace, "--ignore-not-found"]);
  await kubectl(["delete", "namespace", namespace, "--wait=false"]);
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
  it("renders the operator, its RBAC, the gateway and Redis", async () => {
    const objects = await render();
    const names = objects.map((object) => `${object.kind}/${object.metadata.name}`).sort();
    expect(names).toEqual([
      "ClusterRole/fh-freehold-edit",
      "ClusterRole/fh-freehold-operator",
      "ClusterRole/fh-freehold-view",
      "ClusterRoleBinding/fh-freehold-operator",
      "Deployment/fh-freehold-gateway",
      "Deployment/fh-freehold-operator",
      "Role/fh-freehold-operator-leader-election",
      "RoleBinding/fh-freehold-operator-leader-election",
      "Service/fh-freehold-gateway",
      "Service/fh-freehold-operator-metrics",
      "Service/fh-freehold-redis",
      "ServiceAccount/fh-freehold-gateway",
      "ServiceAccount/fh-freehold-operator",
      "StatefulSet/fh-freehold-redis",
    ]);
    for (const object of objects) {
      expect(object.metadata.labels?.["app.kubernetes.io/part-of"]).toBe("freehold");
      expect(object.metadata.labels?.["app.kubernetes.io/instance"]).toBe(release);
      if (!object.kind.startsWith("Cluster")) expect(object.metadata.namespace).toBe(namespace);
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

  it("gives the operator its images, Redis, namespace and leader election settings", async () => {
    const objects = await render([
      "runtime.image.tag=1.2.3",
      "operator.replicas=2",
      "operator.watchNamespace=acme",
    ]);
    const operator = find(objects, "Deployment", "fh-freehold-operator");
    expect(operator.spec?.replicas).toBe(2);
    const container = podSpec(operator).containers[0];
    expect(container?.image).toBe("ghcr.io/freehold-dev/freehold-operator:0.1.0");
    // What operators/freehold-operator/src/main.ts reads.
    expect(container?.env).toEqual([
      { name: "REDIS_URL", value: `redis://fh-freehold-redis.${namespace}.svc:6379` },
      { name: "FREEHOLD_RUNTIME_IMAGE", value: "ghcr.io/freehold-dev/freehold-runtime:1.2.3" },
      { name: "FREEHOLD_IMAGE_PULL_POLICY", value: "IfNotPresent" },
      { name: "FREEHOLD_WORKER_HEALTH_PORT", value: "8081" },
      { name: "FREEHOLD_WATCH_NAMESPACE", value: "acme" },
      { name: "FREEHOLD_LEADER_ELECTION", value: "true" },
      { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "FREEHOLD_HEALTH_PORT", value: "8081" },
    ]);
  });

  it("sets only variables the operator reads", async () => {
    const objects = await render(["operator.watchNamespace=acme"]);
    const container = podSpec(find(objects, "Deployment", "fh-freehold-operator")).containers[0];
    const main = readFileSync(join(root, "operators", "freehold-operator", "src", "main.ts"), "utf8");
    const read = new Set(
      [...main.matchAll(/environment\.([A-Z_]+)|integer\("([A-Z_]+)"\)/g)].map(
        (match) => match[1] ?? match[2],
      ),
    );
    expect(container?.env?.map((variable) => variable.name).filter((name) => !read.has(name))).toEqual([]);
  });

  it("points the operator and the gateway at the user's Redis, from a URL or a Secret", async () => {
    const byUrl = await render(["redis.enabled=false", "redis.url=rediss://redis.example:6380"]);
    expect(byUrl.some((object) => object.metadata.name.endsWith("-redis"))).toBe(false);
    for (const [name, variable] of [
      ["fh-freehold-operator", "REDIS_URL"],
      ["fh-freehold-gateway", "FREEHOLD_REDIS_URL"],
    ] as const) {
      expect(environment(podSpec(find(byUrl, "Deployment", name)).containers[0], variable)).toEqual({
        name: variable,
        value: "rediss://redis.example:6380",
      });
    }
    const bySecret = await render(["redis.enabled=false", "redis.existingSecret.name=redis-credentials"]);
    expect(
      environment(
        podSpec(find(bySecret, "Deployment", "fh-freehold-gateway")).containers[0],
        "FREEHOLD_REDIS_URL",
      ),
    ).toEqual({
      name: "FREEHOLD_REDIS_URL",
      valueFrom: { secretKeyRef: { name: "redis-credentials", key: "url" } },
    });
  });

  it("refuses to render without a Redis, saying what to set", async () => {
    const rendered = await helm(["template", release, chart, ...sets(["redis.enabled=false"])]);
    expect(rendered.code).not.toBe(0);
    expect(rendered.stderr).toContain(
      "redis.enabled is false but no Redis is given: set redis.url (redis://host:6379) or redis.existingSecret.name",
    );
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
    const applied = await kubectl(["apply", "--dry-run=server", "-n", namespace, "-f", "-"], rendered.stdout);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(`deployment.apps/fh-freehold-operator created (server dry run)`);
  });
});

describe("helm install", () => {
  let installed: Run | undefined;

  beforeAll(async () => {
    installed = await helm(["install", release, chart, "-n", namespace]);
  });

  it("installs the CRDs first, then every object", async () => {
    expect(installed?.code, installed?.stderr).toBe(0);
    expect(installed?.stdout).toContain("STATUS: deployed");
    expect(installed?.stdout).toContain("kubectl get agents -n acme");
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
      "deployments,statefulsets,services,serviceaccounts,roles,rolebindings",
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
      "role.rbac.authorization.k8s.io/fh-freehold-operator-leader-election",
      "rolebinding.rbac.authorization.k8s.io/fh-freehold-operator-leader-election",
      "service/fh-freehold-gateway",
      "service/fh-freehold-operator-metrics",
      "service/fh-freehold-redis",
      "serviceaccount/fh-freehold-gateway",
      "serviceaccount/fh-freehold-operator",
      "statefulset.apps/fh-freehold-redis",
    ]);
  });

  describe("the operator's ServiceAccount", () => {
    const operator = (): string => `system:serviceaccount:${namespace}:fh-freehold-operator`;
    const gateway = (): string => `system:serviceaccount:${namespace}:fh-freehold-gateway`;
    // [who, verb, resource, namespace ("*": all), allowed]
    const cases = (): [string, string, string, string, boolean][] => [
      [operator(), "watch", "agents.freehold.dev", "*", true],
      [operator(), "patch", "agents.freehold.dev/status", "acme", true],
      [operator(), "update", "tenants.freehold.dev/finalizers", "", true],
      [operator(), "create", "agents.freehold.dev", "acme", false],
      [operator(), "delete", "models.freehold.dev", "acme", false],
      [operator(), "patch", "deployments.apps", "acme", true],
      [operator(), "delete", "configmaps", "acme", true],
      [operator(), "create", "serviceaccounts", "acme", true],
      [operator(), "watch", "secrets", "*", true],
      [operator(), "create", "secrets", "acme", false],
      [operator(), "update", "secrets", "acme", false],
      [operator(), "create", "pods", "acme", false],
      [operator(), "delete", "pods", "acme", false],
      [operator(), "create", "events", "acme", true],
      [operator(), "delete", "events", "acme", false],
      [operator(), "create", "namespaces", "", true],
      [operator(), "create", "rolebindings.rbac.authorization.k8s.io", "acme", true],
      [operator(), "create", "networkpolicies.networking.k8s.io", "acme", true],
      [operator(), "create", "resourcequotas", "acme", true],
      [operator(), "bind", "clusterroles.rbac.authorization.k8s.io/edit", "", true],
      [operator(), "bind", "clusterroles.rbac.authorization.k8s.io/cluster-admin", "", false],
      [operator(), "escalate", "clusterroles.rbac.authorization.k8s.io", "", false],
      [operator(), "create", "clusterrolebindings.rbac.authorization.k8s.io", "", false],
      [operator(), "create", "leases.coordination.k8s.io", namespace, true],
      [operator(), "update", "leases.coordination.k8s.io/freehold-operator", namespace, true],
      [operator(), "get", "leases.coordination.k8s.io/freehold-operator", namespace, true],
      [operator(), "update", "leases.coordination.k8s.io/someone-else", namespace, false],
      [operator(), "create", "leases.coordination.k8s.io", "acme", false],
      [operator(), "create", "horizontalpodautoscalers.autoscaling", "acme", true],
      [gateway(), "get", "secrets", namespace, false],
      [gateway(), "list", "agents.freehold.dev", "*", false],
    ];

    it("may do what the operator needs and nothing more", async () => {
      const answers: string[] = [];
      for (const [who, verb, resource, where, allowed] of cases()) {
        const [type, name] = resource.split("/");
        const subresource = ["status", "finalizers"].includes(name ?? "") ? name : undefined;
        const answer = await kubectl([
          "auth",
          "can-i",
          verb,
          subresource === undefined ? resource : (type ?? resource),
          ...(subresource === undefined ? [] : [`--subresource=${subresource}`]),
          ...(where === "*" ? ["--all-namespaces"] : where === "" ? [] : ["-n", where]),
          `--as=${who}`,
        ]);
        const said = answer.stdout.trim();
        answers.push(`${who.split(":").at(-1)} ${verb} ${resource} ${where}: ${said}`);
        expect(said, `${answers.at(-1)}, ${answer.stderr}`).toBe(allowed ? "yes" : "no");
      }
      expect(answers).toHaveLength(cases().length);
    });
  });

  it("lets the real operator, with the Deployment's environment and the ServiceAccount's token, reconcile an Agent", async () => {
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

    // The environment the chart's Deployment sets, resolved as the kubelet would; the test cluster has
    // no cluster DNS for the in-chart Redis, and the health port must be a free one on loopback.
    const deployment = JSON.parse(
      (await kubectl(["get", "deployment", "fh-freehold-operator", "-n", namespace, "-o", "json"])).stdout,
    ) as { spec: { template: { spec: PodSpec } } };
    const fields: Record<string, string> = {
      "metadata.namespace": namespace,
      "metadata.name": "fh-freehold-operator-0",
    };
    const healthPort = await freePort();
    const variables = Object.fromEntries(
      (deployment.spec.template.spec.containers[0]?.env ?? [])
        .filter((variable) => variable.name !== "REDIS_URL")
        .map((variable) => {
          const field = (variable.valueFrom as { fieldRef?: { fieldPath: string } } | undefined)?.fieldRef
            ?.fieldPath;
          return [variable.name, field === undefined ? (variable.value ?? "") : (fields[field] ?? "")];
        }),
    );
    expect(variables).toMatchObject({ POD_NAMESPACE: namespace, FREEHOLD_LEADER_ELECTION: "true" });

    await kubectl(
      ["apply", "-n", namespace, "-f", "-"],
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
          FREEHOLD_WATCH_NAMESPACE: namespace,
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
    try {
      const deadline = Date.now() + 45_000;
      const reconciled = async (): Promise<boolean> => {
        const ready = await fetch(`http://127.0.0.1:${healthPort}/readyz`, {
          signal: AbortSignal.timeout(2_000),
        })
          .then((response) => response.ok)
          .catch(() => false);
        const lease = await kubectl([
          "get",
          "lease",
          "freehold-operator",
          "-n",
          namespace,
          "-o",
          "jsonpath={.spec.holderIdentity}",
        ]);
        const owned = await kubectl([
          "get",
          "deployments",
          "-n",
          namespace,
          "-o",
          "jsonpath={.items[*].metadata.ownerReferences[*].kind}",
        ]);
        const agent = await kubectl([
          "get",
          "agent",
          "billing",
          "-n",
          namespace,
          "-o",
          'jsonpath={.status.conditions[?(@.type=="ModelResolved")].status}',
        ]);
        return (
          ready &&
          lease.stdout === "fh-freehold-operator-0" &&
          owned.stdout.includes("Agent") &&
          agent.stdout === "True"
        );
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
    const left = await kubectl([
      "get",
      "deployments,statefulsets,services,serviceaccounts,roles,rolebindings",
      "-n",
      namespace,
      "-l",
      `app.kubernetes.io/instance=${release}`,
      "-o",
      "name",
    ]);
    expect(left.code, left.stderr).toBe(0);
    expect(left.stdout).toBe("");
    // The Agent the operator reconciled, in a CRD, stays.
    const agent = await kubectl(["get", "agent", "billing", "-n", namespace]);
    expect(agent.code, agent.stderr).toBe(0);
    const clusterRole = await kubectl(["get", "clusterrole", "fh-freehold-operator"]);
    expect(clusterRole.stderr).toMatch(/NotFound|not found/);
    const crd = await kubectl(["get", "crd", "agents.freehold.dev"]);
    expect(crd.code, crd.stderr).toBe(0);
  });
});

describe("values.schema.json", () => {
  // [--set value, the path helm names, what it says]
  const refused: [string, string, string][] = [
    ["operator.replicas=-1", "/operator/replicas", "minimum: got -1, want 1"],
    ["operator.replica=2", "/operator", "additional properties 'replica' not allowed"],
    ["gateway.replicas=1.5", "/gateway/replicas", "want integer"],
    ["gateway.service.type=Public", "/gateway/service/type", "value must be one of 'ClusterIP', 'NodePort'"],
    ["operator.image.pullPolicy=Sometimes", "/operator/image/pullPolicy", "value must be one of 'Always'"],
    ["operator.port=70000", "/operator/port", "maximum: got 70,000, want 65,535"],
    ["operator.watchNamespace=Acme_Corp", "/operator/watchNamespace", "does not match pattern"],
    ["operator.resources.limits.memory=lots", "/operator/resources/limits/memory", "does not match pattern"],
    ["redis.url=localhost:6379", "/redis/url", "does not match pattern"],
    ["gateway.publicUrl=agents.example.com", "/gateway/publicUrl", "does not match pattern"],
    ["redis.persistence.enabled=maybe", "/redis/persistence/enabled", "got string, want boolean"],
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
 * what .dockerignore leaves out) to an empty folder, run its `pnpm install` line there (offline,
 * from the store `pnpm install` filled), and start its entry point.
 */
describe("the images' install steps", () => {
  const ignored = (path: string): boolean =>
    /(^|\/)(node_modules|dist|coverage|test)(\/|$)|\.test\.ts$|\.log$/.test(path);

  // Each image: its entry point, and arguments to node that show it starts in the installed folder.
  const images: { file: string; entry: string; check: string[]; prints: string }[] = [
    {
      file: "runtime.Dockerfile",
      entry: "packages/cli/src/bin.ts",
      check: ["packages/cli/src/bin.ts", "worker", "--help"],
      prints: "Usage: freehold worker",
    },
    {
      file: "gateway.Dockerfile",
      entry: "packages/cli/src/bin.ts",
      check: ["packages/cli/src/bin.ts", "gateway", "--help"],
      prints: "Usage: freehold gateway",
    },
    {
      // The operator's entry point starts reconciling at once: loading its modules shows it would start.
      file: "operator.Dockerfile",
      entry: "operators/freehold-operator/src/main.ts",
      check: [
        "--input-type=module",
        "--eval",
        "const operator = await import('./operators/freehold-operator/src/index.ts'); console.log(Object.keys(operator).length > 0 ? 'loaded' : 'empty');",
      ],
      prints: "loaded",
    },
  ];

  /** The variables the Dockerfile's first stage sets (`ENV A=1 B=2`). */
  const imageEnvironment = (dockerfile: string): Record<string, string> =>
    Object.fromEntries(
      (/^ENV (.+)$/m.exec(dockerfile)?.[1] ?? "")
        .split(" ")
        .map((pair) => pair.split("=") as [string, string]),
    );

  it.each(images)("$file installs and starts", async ({ file, entry, check, prints }) => {
    const dockerfile = readFileSync(join(root, "images", file), "utf8");
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((match) =>
      (match[1] ?? "").split(" "),
    );
    expect(copied).toEqual([
      "package.json",
      "pnpm-lock.yaml",
      "pnpm-workspace.yaml",
      "packages",
      "operators",
    ]);
    const install = /^\s*(pnpm install --offline .+)$/m.exec(dockerfile)?.[1];
    expect(install).toMatch(/--prod --frozen-lockfile --filter/);
    const entrypoint = JSON.parse(/^ENTRYPOINT (.+)$/m.exec(dockerfile)?.[1] ?? "[]") as string[];
    expect(entrypoint).toEqual(["node", entry]);
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-slim$/m);

    const context = mkdtempSync(join(tmpdir(), "freehold-image-"));
    try {
      for (const path of copied) {
        cpSync(join(root, path), join(context, path), {
          recursive: true,
          filter: (source) => !ignored(source.slice(root.length + 1)),
        });
      }
      const args = (install ?? "")
        .split(" ")
        .slice(1)
        .map((arg) => arg.replace(/^"(.*)"$/, "$1"));
      const installed = await run("pnpm", args, { cwd: context, environment: imageEnvironment(dockerfile) });
      expect(installed.code, installed.stdout + installed.stderr).toBe(0);
      expect(existsSync(join(context, entry)), `${entry} is in the image`).toBe(true);
      const started = await run(process.execPath, check, { cwd: context });
      expect(started.stderr).toBe("");
      expect(started.code).toBe(0);
      expect(started.stdout).toContain(prints);
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  });
});
