/**
 * reconcile: 1,000 Agents (`BENCH_AGENTS`) created at once in one namespace of a real kube-apiserver
 * (etcd + API server, no controller manager), with the operator running as its own process: the time
 * until every Agent's Deployment and ConfigMap exist and every Agent's status.observedGeneration
 * equals its generation, and the operator's CPU seconds and peak RSS (from /proc) meanwhile. The
 * baseline in the same run: as many bare ConfigMap creates through the same API server, sent the same
 * way (concurrent POSTs), which is what the cluster itself can do. Prints one JSON line.
 */
import { readFileSync } from "node:fs";
import { Agent as HttpsAgent, request } from "node:https";
import { startCluster } from "../test/cluster/cluster.ts";
import { createKubectl } from "../test/cluster/kubectl.ts";
import { startCounterServer } from "../test/fixtures/mcp/counter-server.ts";
import { startOperatorProcess } from "../operators/freehold-operator/test/operator-process.ts";

const agents = Number(process.env.BENCH_AGENTS ?? 1000);
const goalSeconds = 60;
const inFlight = 32;
const timeoutMs = 600_000;
const namespace = "bench";
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const crdDirectory = new URL("../packages/api/generated/crds", import.meta.url).pathname;

interface Stored {
  readonly metadata: { readonly name: string; readonly generation?: number };
  readonly status?: {
    readonly observedGeneration?: number;
    readonly conditions?: { type: string; status: string }[];
  };
}

log(`reconcile: starting etcd and kube-apiserver`);
const cluster = await startCluster({ log });
const kubectl = createKubectl(cluster.kubectl, cluster.kubeconfig);
const counter = await startCounterServer({ transport: "http" });
const ca = readFileSync(cluster.caFile);
const connections = new HttpsAgent({ keepAlive: true, maxSockets: inFlight, ca });

/** One API call with the admin token; resolves with the status and the parsed body. */
function api(method: string, path: string, body?: object): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const call = request(
      `${cluster.server}${path}`,
      {
        method,
        agent: connections,
        headers: { authorization: `Bearer ${cluster.token}`, "content-type": "application/json" },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: response.statusCode ?? 0, body: text === "" ? undefined : JSON.parse(text) });
        });
      },
    );
    call.on("error", reject);
    call.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** POSTs every object, `inFlight` at a time; throws on the first refusal. */
async function createAll(path: string, objects: readonly object[]): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < objects.length) {
      const object = objects[next];
      next += 1;
      if (object === undefined) continue;
      const created = await api("POST", path, object);
      if (created.status !== 201)
        throw new Error(`POST ${path} answered ${created.status}: ${JSON.stringify(created.body)}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

async function kubectlOk(args: readonly string[], input?: string): Promise<void> {
  const result = await kubectl(args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
}

async function list<T>(path: string): Promise<T[]> {
  const listed = await api("GET", path);
  if (listed.status !== 200) throw new Error(`GET ${path} answered ${listed.status}`);
  return (listed.body as { items: T[] }).items;
}

/** CPU seconds (user + system) of a process, from /proc/<pid>/stat (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The resident set size of a process in MB, from /proc/<pid>/status. */
function rssMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? 0) / 1024;
}

const round1 = (value: number): number => Math.round(value * 10) / 10;
const round2 = (value: number): number => Math.round(value * 100) / 100;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let operator: Awaited<ReturnType<typeof startOperatorProcess>> | undefined;
try {
  log(`reconcile: applying the CRDs, a Model and an MCPServer`);
  await kubectlOk(["apply", "--server-side", "--field-manager=freehold-bench", "-f", crdDirectory]);
  await kubectlOk(["wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"]);
  await kubectlOk(["create", "namespace", namespace]);
  await kubectlOk(["create", "namespace", "baseline"]);
  await kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [
        {
          apiVersion: "freehold.dev/v1alpha1",
          kind: "Model",
          metadata: { name: "default", namespace },
          spec: { provider: "openai-compatible", model: "scripted", baseUrl: "http://127.0.0.1:9/v1" },
        },
        {
          apiVersion: "freehold.dev/v1alpha1",
          kind: "MCPServer",
          metadata: { name: "counter", namespace },
          spec: { http: { url: counter.url } },
        },
      ],
    }),
  );

  log(`reconcile: baseline, ${agents} bare ConfigMap creates (${inFlight} in flight)`);
  const baselineStarted = performance.now();
  await createAll(
    "/api/v1/namespaces/baseline/configmaps",
    Array.from({ length: agents }, (_, index) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `bare-${index}` },
      data: { "config.json": "{}" },
    })),
  );
  const baselineSeconds = (performance.now() - baselineStarted) / 1000;
  log(`  ${round2(baselineSeconds)} s`);

  operator = await startOperatorProcess("bench-operator", {
    KUBECONFIG: cluster.kubeconfig,
    FREEHOLD_LEADER_ELECTION: "false",
  });
  const pid = operator.child.pid;
  if (pid === undefined) throw new Error("the operator process has no pid");
  log(`reconcile: operator running (pid ${pid}); waiting for the MCPServer to list its tools`);
  for (;;) {
    const server = await api("GET", `/apis/freehold.dev/v1alpha1/namespaces/${namespace}/mcpservers/counter`);
    const ready = (server.body as Stored).status?.conditions?.find((condition) => condition.type === "Ready");
    if (ready?.status === "True") break;
    await sleep(250);
  }
  const idleRssMb = rssMb(pid);
  const cpuBefore = cpuSeconds(pid);
  let peakRssMb = idleRssMb;

  log(`reconcile: creating ${agents} Agents (${inFlight} in flight)`);
  const started = performance.now();
  let createFailure: Error | undefined;
  const created = createAll(
    `/apis/freehold.dev/v1alpha1/namespaces/${namespace}/agents`,
    Array.from({ length: agents }, (_, index) => ({
      apiVersion: "freehold.dev/v1alpha1",
      kind: "Agent",
      metadata: { name: `agent-${index}` },
      spec: {
        model: { ref: "default" },
        instructions: `You are agent ${index}. Add numbers.`,
        tools: [{ mcpServer: "counter", allow: ["add"] }],
      },
    })),
  ).then(
    () => performance.now(),
    (error: unknown) => {
      createFailure = error instanceof Error ? error : new Error(String(error));
      return Number.NaN;
    },
  );
  const sampler = setInterval(() => {
    peakRssMb = Math.max(peakRssMb, rssMb(pid));
  }, 100);

  let done = { agents: 0, deployments: 0, configMaps: 0 };
  let resolved = 0;
  let allReconciledSeconds: number | undefined;
  while (performance.now() - started < timeoutMs) {
    await sleep(500);
    if (createFailure !== undefined) throw createFailure;
    const [stored, deployments, configMaps] = await Promise.all([
      list<Stored>(`/apis/freehold.dev/v1alpha1/namespaces/${namespace}/agents`),
      list<Stored>(`/apis/apps/v1/namespaces/${namespace}/deployments`),
      list<Stored>(`/api/v1/namespaces/${namespace}/configmaps`),
    ]);
    const deploymentNames = new Set(deployments.map((object) => object.metadata.name));
    const configMapNames = new Set(configMaps.map((object) => object.metadata.name));
    done = {
      agents: stored.filter(
        (agent) =>
          agent.status?.observedGeneration !== undefined &&
          agent.status.observedGeneration === agent.metadata.generation,
      ).length,
      deployments: stored.filter((agent) => deploymentNames.has(`${agent.metadata.name}-agent`)).length,
      configMaps: stored.filter((agent) => configMapNames.has(`${agent.metadata.name}-agent`)).length,
    };
    resolved = stored.filter((agent) =>
      ["ModelResolved", "ToolsResolved"].every(
        (type) => agent.status?.conditions?.find((condition) => condition.type === type)?.status === "True",
      ),
    ).length;
    const elapsed = (performance.now() - started) / 1000;
    log(
      `  ${round1(elapsed)} s: ${stored.length} created, ${done.agents} observed, ${done.deployments} Deployments, ${done.configMaps} ConfigMaps`,
    );
    if (
      stored.length === agents &&
      done.agents === agents &&
      done.deployments === agents &&
      done.configMaps === agents
    ) {
      allReconciledSeconds = elapsed;
      break;
    }
  }
  clearInterval(sampler);
  const createdSeconds = ((await created) - started) / 1000;
  const operatorCpuSeconds = cpuSeconds(pid) - cpuBefore;
  peakRssMb = Math.max(peakRssMb, rssMb(pid));

  console.log(
    JSON.stringify({
      bench: "reconcile",
      agents,
      allReconciledSeconds: allReconciledSeconds === undefined ? null : round2(allReconciledSeconds),
      ...(allReconciledSeconds === undefined
        ? { timedOutAfterSeconds: timeoutMs / 1000, reconciled: done }
        : {}),
      agentsWithModelAndToolsResolved: resolved,
      agentsCreatedSeconds: round2(createdSeconds),
      operatorCpuSeconds: round2(operatorCpuSeconds),
      operatorIdleRssMb: round1(idleRssMb),
      operatorPeakRssMb: round1(peakRssMb),
      baselineSeconds: round2(baselineSeconds),
      ratio: allReconciledSeconds === undefined ? null : round1(allReconciledSeconds / baselineSeconds),
      goalSeconds,
      goalMet: allReconciledSeconds !== undefined && allReconciledSeconds < goalSeconds,
    }),
  );
} finally {
  await operator?.stop("SIGTERM");
  connections.destroy();
  await counter.close();
  await cluster.stop();
}
