/**
 * Two operator processes against one cluster: one holds the Lease and reconciles, the other
 * stands by and takes over when the leader dies; an operator killed in the middle of reconciling
 * a batch of agents is replaced by one that converges them all.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubernetesObject } from "../src/kubernetes-objects.ts";
import { startOperatorProcess, type OperatorProcess } from "./operator-process.ts";
import { eventually, getJson, startOperatorTestCluster, type OperatorTestCluster } from "./test-cluster.ts";

interface Stored extends KubernetesObject {
  readonly status?: {
    readonly observedGeneration?: number;
    readonly conditions?: { type: string; status: string }[];
  };
}

let test: OperatorTestCluster;
const processes: OperatorProcess[] = [];

async function start(name: string): Promise<OperatorProcess> {
  const started = await startOperatorProcess(name, {
    KUBECONFIG: test.cluster.kubeconfig,
    FREEHOLD_NAMESPACES: "fleet,restart",
  });
  processes.push(started);
  return started;
}

async function holder(): Promise<string> {
  const lease = await getJson<{ spec: { holderIdentity?: string } }>(test.kubectl, [
    "-n",
    "default",
    "lease",
    "freehold-operator",
  ]);
  return lease.spec.holderIdentity ?? "";
}

async function leaderMetric(operator: OperatorProcess): Promise<string | undefined> {
  const text = await (await fetch(`${operator.healthUrl}/metrics`)).text();
  return /^freehold_operator_leader (\d)$/m.exec(text)?.[1];
}

function agent(namespace: string, name: string): object {
  return {
    apiVersion: "freehold.dev/v1alpha1",
    kind: "Agent",
    metadata: { name, namespace },
    spec: { model: { ref: "default" }, instructions: `You are ${name}.` },
  };
}

async function apply(objects: readonly object[]): Promise<void> {
  const result = await test.kubectl(
    ["apply", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
  );
  if (result.code !== 0) throw new Error(result.stderr);
}

async function reconciled(namespace: string, name: string): Promise<void> {
  const stored = await getJson<Stored>(test.kubectl, ["-n", namespace, "agent", name]);
  expect(stored.status?.observedGeneration).toBe(stored.metadata.generation);
  expect(stored.status?.conditions?.find((condition) => condition.type === "ModelResolved")?.status).toBe(
    "True",
  );
  await getJson(test.kubectl, ["-n", namespace, "deployment", `${name}-agent`]);
}

beforeAll(async () => {
  test = await startOperatorTestCluster();
  for (const namespace of ["fleet", "restart"]) {
    const created = await test.kubectl(["create", "namespace", namespace]);
    expect(created.code, created.stderr).toBe(0);
    await apply([
      {
        apiVersion: "freehold.dev/v1alpha1",
        kind: "Model",
        metadata: { name: "default", namespace },
        spec: { provider: "openai-compatible", model: "scripted", baseUrl: "http://127.0.0.1:8765/v1" },
      },
    ]);
  }
});

afterAll(async () => {
  await Promise.all(processes.map((operator) => operator.stop("SIGKILL")));
  await test.stop();
});

describe("two operator replicas", () => {
  it("elect one leader; the other stands by, ready, and takes over when the leader dies", async () => {
    const [first, second] = await Promise.all([start("operator-a"), start("operator-b")]);
    const leaderName = await eventually(async () => {
      const name = await holder();
      expect(["operator-a", "operator-b"]).toContain(name);
      return name;
    });
    const [leader, standby] = leaderName === "operator-a" ? [first, second] : [second, first];
    await eventually(async () => {
      expect(await leaderMetric(leader)).toBe("1");
      expect((await fetch(`${leader.healthUrl}/readyz`)).status).toBe(200);
    });
    expect(await leaderMetric(standby)).toBe("0");
    expect((await fetch(`${standby.healthUrl}/readyz`)).status).toBe(200);

    await apply([agent("fleet", "before")]);
    await eventually(() => reconciled("fleet", "before"));
    expect(standby.log()).not.toContain("operator leading");

    await leader.stop("SIGKILL");
    await eventually(async () => {
      expect(await holder()).toBe(standby.name);
      expect(await leaderMetric(standby)).toBe("1");
    });
    await apply([agent("fleet", "after")]);
    await eventually(() => reconciled("fleet", "after"));
  });

  it("hands over at once when the leader stops gracefully", async () => {
    const [current] = processes.filter(
      (operator) => operator.child.exitCode === null && operator.child.signalCode === null,
    );
    if (current === undefined) throw new Error("no operator is running");
    const next = await start("operator-c");
    expect(await leaderMetric(next)).toBe("0");
    await current.stop("SIGTERM");
    expect(current.log()).toContain("stopped leading");
    await eventually(async () => {
      expect(await holder()).toBe("operator-c");
    }, 10_000);
  });
});

describe("an operator killed mid-reconcile", () => {
  it("is replaced by one that converges every agent", async () => {
    const running = processes.filter(
      (operator) => operator.child.exitCode === null && operator.child.signalCode === null,
    );
    const names = Array.from({ length: 40 }, (_, index) => `agent-${index}`);
    await apply(names.map((name) => agent("restart", name)));
    // Kill the leader as soon as it has made the first Deployment of the batch.
    await eventually(async () => {
      const deployments = await getJson<{ items: unknown[] }>(test.kubectl, ["-n", "restart", "deployments"]);
      expect(deployments.items.length).toBeGreaterThan(0);
    });
    await Promise.all(running.map((operator) => operator.stop("SIGKILL")));
    await start("operator-d");
    await eventually(async () => {
      expect(await holder()).toBe("operator-d");
    });
    await eventually(async () => {
      for (const name of names) await reconciled("restart", name);
    }, 60_000);
  }, 120_000);
});
