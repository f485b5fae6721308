/**
 * The gateway's authentication and authorization on a real kube-apiserver: TokenReview of real
 * ServiceAccount tokens (made with the TokenRequest API, for the gateway's audience) and
 * SubjectAccessReview against the chart's tenant ClusterRoles bound in two tenant namespaces. The
 * gateway asks the API server as a ServiceAccount holding exactly the chart's gateway ClusterRole.
 * Each refused request is checked to have changed nothing.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { RunState } from "@freehold/api";
import { createAgentRegistry, runStartedByKey, startRedisServer, type RedisServer } from "@freehold/handoff";
import {
  createCachedAuthorizer,
  createGateway,
  createKubernetesClient,
  createKubernetesDirectory,
  createSubjectAccessReviewAuthorizer,
  createTokenReviewAuthenticator,
  type Gateway,
} from "@freehold/gateway";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse } from "yaml";
import { parseObjects, run, type RenderedObject } from "./chart-tools.ts";
import { createKubectl } from "./kubectl.ts";

const cluster = inject("cluster");
const kubectl = createKubectl(cluster.kubectl, cluster.kubeconfig);
const root = join(import.meta.dirname, "..", "..");
const suffix = randomUUID().slice(0, 8);
const acme = `gw-${suffix}-acme`;
const globex = `gw-${suffix}-globex`;
const audience = "freehold-gateway";
const helmHome = mkdtempSync(join(tmpdir(), "freehold-gateway-auth-"));

let redisServer: RedisServer;
let connection: Redis;
let gateway: Gateway;
let url: string;
const tokens = new Map<string, string>();

async function must(args: readonly string[], input?: string): Promise<string> {
  const result = await kubectl(args, input);
  expect(result.code, `kubectl ${args.join(" ")}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

/** The chart's ClusterRoles, as `helm template` renders them. */
async function chartRoles(): Promise<RenderedObject[]> {
  const rendered = await run(
    join(dirname(cluster.kubectl), "helm"),
    ["template", "fh", join(root, "charts", "freehold"), "-n", `gw-${suffix}`],
    {
      cwd: root,
      environment: {
        HELM_CACHE_HOME: join(helmHome, "cache"),
        HELM_CONFIG_HOME: join(helmHome, "config"),
        HELM_DATA_HOME: join(helmHome, "data"),
      },
    },
  );
  expect(rendered.code, rendered.stderr).toBe(0);
  return parseObjects(rendered.stdout).filter((object) => object.kind === "ClusterRole");
}

/** A copy of a chart ClusterRole under a name of this suite (other suites own the chart's names). */
function copyRole(roles: readonly RenderedObject[], name: string): unknown {
  const role = roles.find((object) => object.metadata.name === name);
  if (role === undefined) throw new Error(`the chart renders no ClusterRole ${name}`);
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: `${name}-${suffix}` },
    rules: role.rules,
  };
}

function binding(
  namespace: string,
  role: string,
  serviceAccount: { name: string; namespace: string },
): unknown {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: namespace === "" ? "ClusterRoleBinding" : "RoleBinding",
    metadata: { name: `${role}-${serviceAccount.name}`, ...(namespace === "" ? {} : { namespace }) },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
    subjects: [{ kind: "ServiceAccount", ...serviceAccount }],
  };
}

/** The kubeconfig's CA, to trust the API server. */
function clusterCa(): string {
  const config = parse(readFileSync(cluster.kubeconfig, "utf8")) as {
    clusters: { cluster: { "certificate-authority"?: string; "certificate-authority-data"?: string } }[];
  };
  const entry = config.clusters[0]?.cluster;
  if (entry?.["certificate-authority-data"] !== undefined)
    return Buffer.from(entry["certificate-authority-data"], "base64").toString("utf8");
  if (entry?.["certificate-authority"] !== undefined)
    return readFileSync(entry["certificate-authority"], "utf8");
  throw new Error("the kubeconfig names no CA");
}

async function call(
  method: "GET" | "POST",
  path: string,
  token: string | undefined,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
}

/** Every Freehold key of the two namespaces, with its content. */
async function snapshot(): Promise<Record<string, string | null>> {
  const keys = [
    ...(await connection.keys(`freehold:${acme}:*`)),
    ...(await connection.keys(`freehold:${globex}:*`)),
  ].sort();
  const entries: [string, string | null][] = [];
  for (const key of keys) {
    const type = await connection.type(key);
    entries.push([
      key,
      type === "string" ? await connection.get(key) : `${type}:${JSON.stringify(await connection.dump(key))}`,
    ]);
  }
  return Object.fromEntries(entries);
}

async function refused(
  attack: () => Promise<{ status: number; body: unknown }>,
  status: number,
): Promise<{ status: number; body: unknown }> {
  const before = await snapshot();
  const response = await attack();
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(await snapshot()).toEqual(before);
  return response;
}

beforeAll(async () => {
  const roles = await chartRoles();
  const member = `freehold-tenant-member-${suffix}`;
  const admin = `freehold-tenant-admin-${suffix}`;
  const gatewayRole = `fh-freehold-gateway-${suffix}`;
  const objects: unknown[] = [
    copyRole(roles, "freehold-tenant-member"),
    copyRole(roles, "freehold-tenant-admin"),
    copyRole(roles, "fh-freehold-gateway"),
    { apiVersion: "v1", kind: "Namespace", metadata: { name: acme } },
    { apiVersion: "v1", kind: "Namespace", metadata: { name: globex } },
  ];
  for (const [name, namespace] of [
    ["ann", acme],
    ["alice", acme],
    ["gina", globex],
    ["gateway", acme],
  ] as const) {
    objects.push({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } });
  }
  objects.push(
    binding(acme, member, { name: "ann", namespace: acme }),
    binding(acme, admin, { name: "alice", namespace: acme }),
    binding(globex, member, { name: "gina", namespace: globex }),
    binding("", gatewayRole, { name: "gateway", namespace: acme }),
  );
  await must(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
  // HumanQueues, read by the gateway's directory with its own ServiceAccount.
  const crds = join(root, "packages", "api", "generated", "crds");
  for (const plural of ["humanqueues", "agents"]) {
    await must([
      "apply",
      "--server-side",
      "--field-manager=freehold-test",
      "-f",
      join(crds, `freehold.dev_${plural}.yaml`),
    ]);
    await must(["wait", "--for=condition=Established", "--timeout=60s", `crd/${plural}.freehold.dev`]);
  }
  const queue = (name: string, members: unknown[]) => ({
    apiVersion: "freehold.dev/v1alpha1",
    kind: "HumanQueue",
    metadata: { name, namespace: acme },
    spec: { description: `The ${name}.`, members },
  });
  await must(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [
        queue("desk", [{ user: `system:serviceaccount:${acme}:ann` }]),
        queue("vault", [{ user: "nobody" }]),
        {
          apiVersion: "freehold.dev/v1alpha1",
          kind: "Agent",
          metadata: { name: "billing", namespace: acme },
          spec: {
            model: { ref: "default" },
            instructions: "Answer about invoices.",
            tools: [{ mcpServer: "billing-tools" }],
            handoffs: [{ humanQueue: "desk" }],
          },
        },
      ],
    }),
  );
  // What the operator would write: not ready, and why.
  await must([
    "patch",
    "agent",
    "billing",
    "-n",
    acme,
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify({
      status: {
        conditions: [
          {
            type: "Ready",
            status: "False",
            reason: "ModelNotFound",
            message: "Model default does not exist in the namespace",
            lastTransitionTime: "2026-12-04T12:00:00Z",
          },
        ],
      },
    }),
  ]);
  for (const [name, namespace] of [
    ["ann", acme],
    ["alice", acme],
    ["gina", globex],
  ] as const) {
    tokens.set(
      name,
      (await must(["create", "token", name, "-n", namespace, `--audience=${audience}`])).trim(),
    );
  }
  tokens.set("ann-default-audience", (await must(["create", "token", "ann", "-n", acme])).trim());
  const gatewayToken = (await must(["create", "token", "gateway", "-n", acme])).trim();

  redisServer = await startRedisServer();
  connection = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  for (const namespace of [acme, globex]) {
    await createAgentRegistry(connection).register(namespace, {
      name: "billing",
      description: "Never works.",
    });
  }
  const client = createKubernetesClient({
    server: cluster.server,
    token: () => gatewayToken,
    ca: clusterCa(),
  });
  gateway = createGateway({
    redis: connection,
    log: () => undefined,
    authenticator: createTokenReviewAuthenticator({ client, audiences: [audience] }),
    authorizer: createCachedAuthorizer(createSubjectAccessReviewAuthorizer({ client }), 2000),
    directory: createKubernetesDirectory({ client }),
  });
  url = (await gateway.listen(0, "127.0.0.1")).url;
});

afterAll(async () => {
  await gateway.close();
  connection.disconnect();
  await redisServer.stop();
  await kubectl(["delete", "namespace", acme, globex, "--wait=false"]);
  await kubectl([
    "delete",
    "clusterrole,clusterrolebinding",
    `freehold-tenant-member-${suffix}`,
    `freehold-tenant-admin-${suffix}`,
    `fh-freehold-gateway-${suffix}`,
    "--ignore-not-found",
  ]);
  rmSync(helmHome, { recursive: true, force: true });
});

describe("the gateway on TokenReview and SubjectAccessReview", () => {
  let runId: string;

  it("lets a member start a run and read it, as the ServiceAccount the API server names", async () => {
    const started = await call("POST", `/v1/namespaces/${acme}/agents/billing/runs`, tokens.get("ann"), {
      input: "Where is my invoice?",
    });
    expect(started.status).toBe(201);
    runId = (started.body as RunState).id;
    expect(await connection.get(runStartedByKey(acme, runId))).toBe(`system:serviceaccount:${acme}:ann`);
    expect(await call("GET", `/v1/namespaces/${acme}/runs/${runId}`, tokens.get("ann"))).toMatchObject({
      status: 200,
    });
  });

  it("refuses no token, a made-up token and a real token for another audience (401)", async () => {
    const path = `/v1/namespaces/${acme}/agents/billing/runs`;
    await refused(() => call("POST", path, undefined, { input: "x" }), 401);
    await refused(() => call("POST", path, "not-a-real-token", { input: "x" }), 401);
    await refused(() => call("POST", path, tokens.get("ann-default-audience"), { input: "x" }), 401);
  });

  it("answers another tenant's member 404 on runs, agents and approvals of acme", async () => {
    await refused(() => call("GET", `/v1/namespaces/${acme}/runs/${runId}`, tokens.get("gina")), 404);
    await refused(
      () => call("POST", `/v1/namespaces/${acme}/agents/billing/runs`, tokens.get("gina"), { input: "x" }),
      404,
    );
    await refused(() => call("GET", `/v1/namespaces/${acme}/approvals`, tokens.get("gina")), 404);
    await refused(() => call("POST", `/v1/namespaces/${acme}/runs/${runId}/cancel`, tokens.get("gina")), 404);
  });

  it("lists a member the human queues they work, read from the cluster with the gateway's own ServiceAccount", async () => {
    const listed = await call("GET", `/v1/namespaces/${acme}/humanqueues`, tokens.get("ann"));
    expect(listed).toMatchObject({
      status: 200,
      body: { queues: [{ name: "desk", description: "The desk.", waiting: 0, claimed: 0 }] },
    });
    expect((listed.body as { queues: unknown[] }).queues).toHaveLength(1);
    await refused(() => call("GET", `/v1/namespaces/${acme}/humanqueues`, tokens.get("gina")), 404);
  });

  it("lists a member the agents with what the cluster says of them: model, tools, handoffs, and why not ready", async () => {
    const listed = await call("GET", `/v1/namespaces/${acme}/agents`, tokens.get("ann"));
    expect(listed).toMatchObject({
      status: 200,
      body: {
        agents: [
          {
            name: "billing",
            model: "default",
            tools: ["billing-tools"],
            handoffs: ["people desk"],
            queued: expect.any(Number) as unknown,
            working: 0,
            conditions: [
              {
                type: "Ready",
                status: "False",
                reason: "ModelNotFound",
                message: "Model default does not exist in the namespace",
              },
            ],
          },
        ],
      },
    });
  });

  it("refuses a member what the member ClusterRole does not grant (delete runs: 403); the admin may", async () => {
    await refused(() => call("POST", `/v1/namespaces/${acme}/runs/${runId}/cancel`, tokens.get("ann")), 403);
    const cancelled = await call("POST", `/v1/namespaces/${acme}/runs/${runId}/cancel`, tokens.get("alice"));
    expect(cancelled).toMatchObject({ status: 200, body: { status: "cancelled" } });
  });
});
