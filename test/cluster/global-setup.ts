/**
 * vitest global setup of the `cluster` project: starts one real control plane (etcd +
 * kube-apiserver) for all its suites and hands them its kubeconfig. When the cluster cannot be built
 * or started, setup fails with the reason and the suites do not run: nothing is skipped silently.
 */
import type { TestProject } from "vitest/node";
import { startCluster, type Cluster } from "./cluster.ts";

declare module "vitest" {
  export interface ProvidedContext {
    cluster: {
      kubeconfig: string;
      kubectl: string;
      server: string;
      token: string;
      kubernetesVersion: string;
    };
  }
}

let cluster: Cluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  cluster = await startCluster({ log: (line) => process.stderr.write(`${line}\n`) });
  process.stderr.write(
    `[cluster] kube-apiserver ${cluster.kubernetesVersion} listening at ${cluster.server}\n`,
  );
  project.provide("cluster", {
    kubeconfig: cluster.kubeconfig,
    kubectl: cluster.kubectl,
    server: cluster.server,
    token: cluster.token,
    kubernetesVersion: cluster.kubernetesVersion,
  });
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}
