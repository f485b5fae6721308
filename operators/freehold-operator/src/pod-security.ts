/**
 * The security settings of every pod the operator makes: a non-root user, no privilege
 * escalation, no capabilities, the runtime's default seccomp profile, a read-only root file
 * system with a writable `/tmp`.
 *
 * @module
 */
import type { Container, Volume } from "./kubernetes-objects.ts";

/** The user and group the containers run as (the runtime image's `freehold` user). */
export const runAsUser = 65532;

/** The pod-level security context. */
export function podSecurityContext(): Readonly<Record<string, unknown>> {
  return {
    runAsNonRoot: true,
    runAsUser,
    runAsGroup: runAsUser,
    fsGroup: runAsUser,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** The container-level security context. */
export function containerSecurityContext(): Readonly<Record<string, unknown>> {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
  };
}

/** The writable scratch volume mounted at `/tmp`. */
export const scratchVolume: Volume = { name: "tmp", emptyDir: {} };

/** Where the scratch volume is mounted. */
export const scratchMount: NonNullable<Container["volumeMounts"]>[number] = {
  name: "tmp",
  mountPath: "/tmp",
};
