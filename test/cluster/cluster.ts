/**
 * A real Kubernetes control plane for tests: etcd and kube-apiserver (and, on request,
 * kube-controller-manager) built from Go modules by build.sh, started on free loopback ports with a
 * temporary data directory, an admin token, and a kubeconfig. Stopped cleanly by `stop()` or
 * `await using`.
 *
 * @example
 * ```ts
 * await using cluster = await startCluster();
 * execFileSync(cluster.kubectl, ["--kubeconfig", cluster.kubeconfig, "get", "namespaces"]);
 * ```
 * @module
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "@freehold/handoff";

/** A running control plane. */
export interface Cluster extends AsyncDisposable {
  /** The API server's URL, https://127.0.0.1:<port>. */
  readonly server: string;
  /** A kubeconfig file with an admin (system:masters) token. */
  readonly kubeconfig: string;
  /** The bearer token of the admin user. */
  readonly token: string;
  /** The certificate the API server serves, to trust. */
  readonly caFile: string;
  /** The folder holding kube-apiserver, kubectl, etcd, kube-controller-manager. */
  readonly binDirectory: string;
  /** The kubectl binary built with the API server. */
  readonly kubectl: string;
  /** The Kubernetes version (`v1.37.2`). */
  readonly kubernetesVersion: string;
  /** Stops every process and removes the data directory. */
  stop(): Promise<void>;
}

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Also start kube-controller-manager, so Deployments get ReplicaSets and namespaces are finalized. */
  readonly controllerManager?: boolean;
  /** How long the API server may take to become ready. */
  readonly startTimeoutMs?: number;
  /** Progress lines go here (default: stderr). */
  readonly log?: (line: string) => void;
}

const here = import.meta.dirname;
const execFileAsync = promisify(execFile);

/** Builds the binaries if missing (printing progress) and returns their folder. */
export async function buildClusterBinaries(log: (line: string) => void): Promise<string> {
  const child = spawn(join(here, "build.sh"), [], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line !== "") log(line);
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`test/cluster/build.sh failed (exit ${code}); the lines above say why`);
  const binDirectory = stdout.trim().split("\n").at(-1);
  if (binDirectory === undefined || binDirectory === "")
    throw new Error("test/cluster/build.sh printed no bin folder");
  return binDirectory;
}

interface Started {
  readonly name: string;
  readonly process: ChildProcess;
  readonly logFile: string;
}

function startProcess(name: string, binary: string, args: string[], directory: string): Started {
  const logFile = join(directory, `${name}.log`);
  const descriptor = openSync(logFile, "a");
  const child = spawn(binary, args, { stdio: ["ignore", descriptor, descriptor] });
  closeSync(descriptor);
  return { name, process: child, logFile };
}

function logTail(started: Started, lines = 25): string {
  try {
    return readFileSync(started.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function stopProcess(started: Started): Promise<void> {
  const child = started.process;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      resolve();
    }),
  );
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

function get(url: string, token: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const call = request(
      url,
      { headers: { authorization: `Bearer ${token}` }, ca, timeout: 5_000 },
      (response) => {
        let body = "";
        response.on("data", (chunk: Buffer) => (body += chunk.toString()));
        response.on("end", () => {
          resolve({ status: response.statusCode ?? 0, body });
        });
      },
    );
    call.on("timeout", () => call.destroy(new Error("timeout")));
    call.on("error", reject);
    call.end();
  });
}

async function waitUntil(
  what: string,
  started: readonly Started[],
  timeoutMs: number,
  ready: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = started.find((process) => process.process.exitCode !== null);
    if (dead !== undefined) {
      throw new Error(
        `${dead.name} exited with code ${dead.process.exitCode} while waiting for ${what}:\n${logTail(dead)}`,
      );
    }
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${what} not ready after ${timeoutMs} ms:\n${started.map((process) => `--- ${process.name}\n${logTail(process)}`).join("\n")}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Starts etcd and kube-apiserver (building them first if needed) and waits until the API server
 * is ready. Throws with the processes' last log lines when they cannot start.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const binDirectory = await buildClusterBinaries(log);
  const { stdout: versionOutput } = await execFileAsync(join(binDirectory, "kube-apiserver"), ["--version"]);
  const kubernetesVersion = versionOutput.trim().split(" ").at(-1) ?? "unknown";
  const directory = mkdtempSync(join(tmpdir(), "freehold-cluster-"));
  const started: Started[] = [];
  const stop = async (): Promise<void> => {
    for (const process of [...started].reverse()) await stopProcess(process);
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    const [etcdClientPort, etcdPeerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = startProcess(
      "etcd",
      join(binDirectory, "etcd"),
      [
        "--name=default",
        `--data-dir=${join(directory, "etcd")}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=default=${peerUrl}`,
        "--unsafe-no-fsync=true",
        "--log-level=warn",
      ],
      directory,
    );
    started.push(etcd);
    await waitUntil("etcd", started, 30_000, async () => {
      const response = await fetch(`${etcdUrl}/health`);
      return response.ok;
    });

    const token = randomBytes(24).toString("hex");
    writeFileSync(join(directory, "tokens.csv"), `${token},admin,admin,system:masters\n`);
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(join(directory, "sa.key"), privateKey.export({ type: "pkcs8", format: "pem" }));
    writeFileSync(join(directory, "sa.pub"), publicKey.export({ type: "spki", format: "pem" }));
    const certDirectory = join(directory, "certs");
    const apiserver = startProcess(
      "kube-apiserver",
      join(binDirectory, "kube-apiserver"),
      [
        `--etcd-servers=${etcdUrl}`,
        "--advertise-address=127.0.0.1",
        "--endpoint-reconciler-type=none",
        "--bind-address=127.0.0.1",
        `--secure-port=${apiPort}`,
        `--cert-dir=${certDirectory}`,
        `--token-auth-file=${join(directory, "tokens.csv")}`,
        "--authorization-mode=RBAC",
        "--service-cluster-ip-range=10.96.0.0/24",
        `--service-account-issuer=https://127.0.0.1:${apiPort}`,
        `--service-account-key-file=${join(directory, "sa.pub")}`,
        `--service-account-signing-key-file=${join(directory, "sa.key")}`,
        "--allow-privileged=true",
        "--enable-priority-and-fairness=false",
        "--v=1",
      ],
      directory,
    );
    started.push(apiserver);
    const server = `https://127.0.0.1:${apiPort}`;
    const caFile = join(certDirectory, "apiserver.crt");
    await waitUntil("kube-apiserver", started, options.startTimeoutMs ?? 90_000, async () => {
      const response = await get(`${server}/readyz`, token, readFileSync(caFile, "utf8"));
      return response.status === 200;
    });

    const kubeconfig = join(directory, "kubeconfig");
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "test", cluster: { server, "certificate-authority": caFile } }],
        users: [{ name: "admin", user: { token } }],
        contexts: [{ name: "test", context: { cluster: "test", user: "admin", namespace: "default" } }],
        "current-context": "test",
      }),
    );

    if (options.controllerManager === true) {
      const controllerManager = startProcess(
        "kube-controller-manager",
        join(binDirectory, "kube-controller-manager"),
        [
          `--kubeconfig=${kubeconfig}`,
          `--authentication-kubeconfig=${kubeconfig}`,
          `--authorization-kubeconfig=${kubeconfig}`,
          "--bind-address=127.0.0.1",
          `--secure-port=${await freePort()}`,
          `--cert-dir=${join(directory, "controller-manager-certs")}`,
          "--leader-elect=false",
          `--service-account-private-key-file=${join(directory, "sa.key")}`,
          "--use-service-account-credentials=false",
          // No nodes here: leave out the controllers that manage them.
          "--controllers=*,-node-ipam-controller,-node-lifecycle-controller",
          "--v=1",
        ],
        directory,
      );
      started.push(controllerManager);
      // Ready once its service account controller has made the default namespace's account.
      await waitUntil("kube-controller-manager", started, options.startTimeoutMs ?? 90_000, async () => {
        const response = await get(
          `${server}/api/v1/namespaces/default/serviceaccounts/default`,
          token,
          readFileSync(caFile, "utf8"),
        );
        return response.status === 200;
      });
    }

    return {
      server,
      kubeconfig,
      token,
      caFile,
      binDirectory,
      kubectl: join(binDirectory, "kubectl"),
      kubernetesVersion,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
