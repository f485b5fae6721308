/**
 * Starts the test cluster by hand and keeps it up until Ctrl-C:
 *
 *   node test/cluster/start.ts [--controller-manager]
 *   export KUBECONFIG=<the printed path>; kubectl get namespaces
 */
import { startCluster } from "./cluster.ts";

const cluster = await startCluster({ controllerManager: process.argv.includes("--controller-manager") });
console.log(`kubernetes ${cluster.kubernetesVersion} at ${cluster.server}`);
console.log(`export KUBECONFIG=${cluster.kubeconfig}`);
console.log(`kubectl: ${cluster.kubectl}`);
const stop = (): void => {
  console.log("stopping");
  void cluster.stop().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
