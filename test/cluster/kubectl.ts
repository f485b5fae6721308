/**
 * Runs the test cluster's kubectl, never throwing: tests look at the exit code and the output.
 */
import { execFile } from "node:child_process";

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A kubectl bound to one kubeconfig. */
export type Kubectl = (args: readonly string[], input?: string) => Promise<KubectlResult>;

export function createKubectl(binary: string, kubeconfig: string): Kubectl {
  return (args, input) =>
    new Promise((resolve) => {
      const child = execFile(
        binary,
        ["--kubeconfig", kubeconfig, ...args],
        { timeout: 30_000 },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
          resolve({ code, stdout, stderr });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
}
