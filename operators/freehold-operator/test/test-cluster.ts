/**
 * A control plane for the operator's suites: the project's test cluster (etcd + kube-apiserver)
 * plus a kube-controller-manager running the controllers the operator's objects need (Deployments
 * get ReplicaSets and pods; owner references are garbage-collected; deleted namespaces are emptied
 * and go), with the CRDs applied.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startCluster, type Cluster } from "../../../test/cluster/cluster.ts";
import { createKubectl, type Kubectl } from "../../../test/cluster/kubectl.ts";

const root = join(import.meta.dirname, "..", "..", "..");
const crdDirectory = join(root, "packages", "api", "generated", "crds");

/** A running cluster for operator tests. */
export interface OperatorTestCluster {
  readonly cluster: Cluster;
  readonly kubectl: Kubectl;
  stop(): Promise<void>;
}

function startControllerManager(cluster: Cluster, logFile: string): ChildProcess {
  const descriptor = openSync(logFile, "a");
  const child = spawn(
    join(cluster.binDirectory, "kube-controller-manager"),
    [
      `--kubeconfig=${cluster.kubeconfig}`,
      `--authentication-kubeconfig=${cluster.kubeconfig}`,
      `--authorization-kubeconfig=${cluster.kubeconfig}`,
      "--bind-address=127.0.0.1",
      "--secure-port=0",
      "--leader-elect=false",
      "--use-service-account-credentials=false",
      "--controllers=deployment-controller,replicaset-controller,garbage-collector-controller,serviceaccount-controller,namespace-controller",
      "--v=1",
    ],
    { stdio: ["ignore", descriptor, descriptor] },
  );
  closeSync(descriptor);
  return child;
}

/**
 * Starts the cluster, its controller manager, and applies the CRDs.
 *
 * @example
 * ```ts
 * const test = await startOperatorTestCluster();
 * await test.kubectl(["get", "agents", "-A"]);
 * await test.stop();
 * ```
 */
export async function startOperatorTestCluster(): Promise<OperatorTestCluster> {
  const cluster = await startCluster({ log: () => undefined });
  const logFile = join(cluster.kubeconfig, "..", "kube-controller-manager.log");
  let controllerManager: ChildProcess | undefined;
  const kubectl = createKubectl(cluster.kubectl, cluster.kubeconfig);
  const stop = async (): Promise<void> => {
    const child = controllerManager;
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    await cluster.stop();
  };
  try {
    const applied = await kubectl([
      "apply",
      "--server-side",
      "--field-manager=freehold-test",
      "-f",
      crdDirectory,
    ]);
    if (applied.code !== 0) throw new Error(`applying the CRDs failed: ${applied.stderr}`);
    const crds = readdirSync(crdDirectory).map(
      (file) => `crd/${file.replace(/^freehold\.dev_(.*)\.yaml$/, "$1.freehold.dev")}`,
    );
    const established = await kubectl(["wait", "--for=condition=Established", "--timeout=60s", ...crds]);
    if (established.code !== 0) throw new Error(`the CRDs were not established: ${established.stderr}`);
    // After the CRDs: the garbage collector watches the owner kinds it discovers when it starts.
    controllerManager = startControllerManager(cluster, logFile);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    if (controllerManager.exitCode !== null) {
      throw new Error(`kube-controller-manager exited:\n${readFileSync(logFile, "utf8").slice(-2000)}`);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { cluster, kubectl, stop };
}

/**
 * Calls `check` until it returns without throwing (returning its value) or the time is up (throwing
 * its last error).
 */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** `kubectl get -o json`, parsed; throws when it fails. */
export async function getJson<T>(kubectl: Kubectl, args: readonly string[]): Promise<T> {
  const result = await kubectl(["get", ...args, "-o", "json"]);
  if (result.code !== 0) throw new Error(`kubectl get ${args.join(" ")}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
