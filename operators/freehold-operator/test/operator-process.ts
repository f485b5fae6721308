/**
 * The operator as a process (`node src/main.ts`), as it runs in its pod: started with the
 * environment a Deployment would give it, its health URL read from its log, stopped by signal.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

const main = join(import.meta.dirname, "..", "src", "main.ts");

/** A running operator process. */
export interface OperatorProcess {
  readonly name: string;
  /** Where /healthz, /readyz and /metrics are served. */
  readonly healthUrl: string;
  readonly child: ChildProcess;
  /** Everything it wrote to stderr. */
  log(): string;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts an operator process and waits until it serves health.
 *
 * @example
 * ```ts
 * const operator = await startOperatorProcess("operator-a", { KUBECONFIG: cluster.kubeconfig });
 * await operator.stop("SIGKILL");
 * ```
 */
export async function startOperatorProcess(
  name: string,
  environment: Readonly<Record<string, string>>,
): Promise<OperatorProcess> {
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      FREEHOLD_RUNTIME_IMAGE: "ghcr.io/freehold/runtime:0.1.0",
      FREEHOLD_HEALTH_HOST: "127.0.0.1",
      FREEHOLD_HEALTH_PORT: "0",
      POD_NAMESPACE: "default",
      POD_NAME: name,
      FREEHOLD_LEASE_DURATION_SECONDS: "4",
      ...environment,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let text = "";
  const healthUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`operator ${name} did not serve health within 20 s:\n${text}`));
    }, 20_000);
    child.stderr.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const match = /health at (http:\/\/[^\s]+)/.exec(text);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`operator ${name} exited with ${code}:\n${text}`));
    });
  });
  return {
    name,
    healthUrl,
    child,
    log: () => text,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill(signal);
      await exited;
    },
  };
}
