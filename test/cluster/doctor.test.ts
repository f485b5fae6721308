/**
 * `freehold doctor` against a real kube-apiserver of its own (the CRDs are removed and changed here,
 * which the shared cluster's other suites must not see): the cluster reached with a kubeconfig, the
 * CRDs missing, installed and current, and outdated; the Models and MCPServers listed from the
 * cluster and probed; a cluster that does not answer.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startRedisServer, type RedisServer } from "@freehold/handoff";
import { startScriptedModelServer, type ScriptedModelServer } from "@freehold/models";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCounterServer, type CounterServer } from "../fixtures/mcp/counter-server.ts";
import { startCluster, type Cluster } from "./cluster.ts";
import { createKubectl, type Kubectl } from "./kubectl.ts";

const root = join(import.meta.dirname, "..", "..");
const bin = join(root, "packages", "cli", "src", "bin.ts");
const crdDirectory = join(root, "packages", "api", "generated", "crds");

interface Check {
  readonly check: string;
  readonly status: "ok" | "warn" | "fail";
  readonly message: string;
  readonly fix?: string;
}

let cluster: Cluster;
let kubectl: Kubectl;
let redis: RedisServer;
let model: ScriptedModelServer;
let counter: CounterServer;

function doctor(kubeconfig: string): Promise<{ code: number; ok: boolean; checks: Check[] }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [bin, "doctor", "--kubeconfig", kubeconfig, "--redis-url", redis.url, "--json"],
      { timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } },
      (error, stdout, stderr) => {
        try {
          const parsed = JSON.parse(stdout) as { ok: boolean; checks: Check[] };
          resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, ...parsed });
        } catch {
          reject(new Error(`freehold doctor printed no JSON: ${stdout}\n${stderr}`));
        }
      },
    );
  });
}

function find(checks: readonly Check[], name: string): Check | undefined {
  return checks.find((check) => check.check === name);
}

beforeAll(async () => {
  cluster = await startCluster();
  kubectl = createKubectl(cluster.kubectl, cluster.kubeconfig);
  redis = await startRedisServer({
    dataDirectory: mkdtempSync(join(tmpdir(), "freehold-doctor-redis-")),
    appendOnly: true,
  });
  model = await startScriptedModelServer({ script: [{ text: "hello" }] });
  counter = await startCounterServer({ transport: "http" });
}, 300_000);

afterAll(async () => {
  await Promise.all([cluster.stop(), redis.stop(), model.close(), counter.close()]);
});

describe("freehold doctor on a cluster", () => {
  it("reaches the cluster and names each CRD that is not installed", async () => {
    const result = await doctor(cluster.kubeconfig);
    expect(result.code).toBe(1);
    expect(find(result.checks, "cluster")).toEqual({
      check: "cluster",
      status: "ok",
      message: `Kubernetes ${cluster.kubernetesVersion} at ${cluster.server}`,
    });
    expect(find(result.checks, "redis")?.status).toBe("ok");
    for (const name of ["agents", "models", "mcpservers", "humanqueues", "tenants"]) {
      expect(find(result.checks, `crd ${name}.freehold.dev`)).toEqual({
        check: `crd ${name}.freehold.dev`,
        status: "fail",
        message: "not installed",
        fix: "freehold crds | kubectl apply --server-side -f -",
      });
    }
  });

  it("says ok once the CRDs are applied, and probes the cluster's Models and MCPServers", async () => {
    const applied = await kubectl(["apply", "--server-side", "-f", crdDirectory]);
    expect(applied.code, applied.stderr).toBe(0);
    const established = await kubectl([
      "wait",
      "--for=condition=Established",
      "--timeout=60s",
      "crd",
      "-l",
      "app.kubernetes.io/part-of=freehold",
    ]);
    expect(established.code, established.stderr).toBe(0);
    const resources = await kubectl(
      ["apply", "-f", "-"],
      `apiVersion: freehold.dev/v1alpha1
kind: Model
metadata: {name: scripted, namespace: default}
spec: {provider: openai-compatible, model: scripted-model, baseUrl: "${model.baseUrl}"}
---
apiVersion: freehold.dev/v1alpha1
kind: MCPServer
metadata: {name: counter, namespace: default}
spec: {http: {url: "${counter.url}"}}
`,
    );
    expect(resources.code, resources.stderr).toBe(0);

    const result = await doctor(cluster.kubeconfig);
    expect(result.checks.filter((check) => check.status !== "ok")).toEqual([]);
    expect(result.code).toBe(0);
    expect(find(result.checks, "crd agents.freehold.dev")?.message).toBe("installed and current");
    expect(find(result.checks, "model default/scripted")?.message).toBe(
      `openai-compatible scripted-model at ${model.baseUrl}`,
    );
    expect(find(result.checks, "mcp default/counter")?.message).toMatch(/^\d+ tools at \S+: .*\badd\b/);
  });

  it("names a CRD that differs from the generated one", async () => {
    const patched = await kubectl([
      "patch",
      "crd",
      "humanqueues.freehold.dev",
      "--type=json",
      "-p",
      JSON.stringify([
        {
          op: "replace",
          path: "/spec/versions/0/schema/openAPIV3Schema/description",
          value: "A queue of an older version.",
        },
      ]),
    ]);
    expect(patched.code, patched.stderr).toBe(0);
    const result = await doctor(cluster.kubeconfig);
    expect(result.code).toBe(1);
    expect(find(result.checks, "crd humanqueues.freehold.dev")).toEqual({
      check: "crd humanqueues.freehold.dev",
      status: "fail",
      message: "installed, but not the one this version of freehold generates",
      fix: "freehold crds | kubectl apply --server-side -f -",
    });
    expect(find(result.checks, "crd agents.freehold.dev")?.status).toBe("ok");
  });

  it("names the cluster when its kube-apiserver does not answer", async () => {
    const closed = await freePort();
    const kubeconfig = join(mkdtempSync(join(tmpdir(), "freehold-doctor-kube-")), "kubeconfig");
    writeFileSync(
      kubeconfig,
      readFileSync(cluster.kubeconfig, "utf8").replace(cluster.server, `https://127.0.0.1:${closed}`),
    );
    const result = await doctor(kubeconfig);
    expect(result.code).toBe(1);
    expect(find(result.checks, "cluster")).toMatchObject({
      status: "fail",
      message: expect.stringContaining(
        `the kube-apiserver at https://127.0.0.1:${closed} did not answer`,
      ) as unknown,
    });
    expect(result.checks.some((check) => check.check.startsWith("crd "))).toBe(false);
  });
});
