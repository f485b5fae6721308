/**
 * `freehold worker` started as the kubelet would start the operator's rendering of an Agent: the
 * ConfigMap's `config.json` written to a file, the Deployment's command with that file in place of
 * `/etc/freehold/config.json`, and its environment with literal values as they are and
 * `secretKeyRef`s read from the Secrets. Also what it needs: {@link startFreehold} for any
 * `freehold` command and {@link secretValue} for one key of a Secret.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { Kubectl } from "../../../test/cluster/kubectl.ts";
import type { ConfigMap, Deployment, KubernetesObject } from "../src/kubernetes-objects.ts";
import { imageCommand, imageCommandEnvironment } from "../../../packages/cli/scripts/build.ts";
import { eventually, getJson } from "./test-cluster.ts";

// `freehold` as the image runs it: a worker from its startup snapshot, other commands from the
// bundle (both built by test/build-setup.ts).

/** A `freehold` process that printed what it was waited for. */
export interface StartedFreehold {
  readonly child: ChildProcess;
  /** The match of the `ready` pattern. */
  readonly match: RegExpExecArray;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
}

/**
 * Starts a `freehold` command with only PATH, HOME and `environment`; resolves once its stdout or
 * stderr matches `ready`, rejects if it exits first or takes more than 30 s. The child is added to
 * `children`, for the suite to kill after.
 *
 * @example
 * const model = await startFreehold(["model", "serve", "--script", script], {}, /at (http:\/\/\S+\/v1)/, children);
 */
export function startFreehold(
  args: readonly string[],
  environment: Readonly<Record<string, string>>,
  ready: RegExp,
  children: ChildProcess[],
): Promise<StartedFreehold> {
  const child = spawn(imageCommand, args, {
    env: { PATH: imageCommandEnvironment().PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...environment },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let text = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`freehold ${args.join(" ")} did not print ${String(ready)} within 30 s:\n${text}`));
    }, 30_000);
    const read = (chunk: Buffer): void => {
      text += chunk.toString();
      const match = ready.exec(text);
      if (match !== null) {
        clearTimeout(timer);
        resolve({ child, match, output: () => text });
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`freehold ${args.join(" ")} exited with ${code}:\n${text}`));
    });
  });
}

/** One key of a Secret, decoded; throws when the Secret has no such key. */
export async function secretValue(
  kubectl: Kubectl,
  namespace: string,
  name: string,
  key: string,
): Promise<string> {
  const secret = await getJson<KubernetesObject & { data?: Record<string, string> }>(kubectl, [
    "-n",
    namespace,
    "secret",
    name,
  ]);
  const value = secret.data?.[key];
  if (value === undefined) throw new Error(`Secret ${namespace}/${name} has no key ${key}`);
  return Buffer.from(value, "base64").toString("utf8");
}

/** What the kubelet would start for an Agent's worker. */
export interface RenderedWorker {
  /** The `freehold` arguments: `worker --config <the written config.json> ...`. */
  readonly args: string[];
  /** The container's environment, secretKeyRefs resolved. */
  readonly environment: Record<string, string>;
}

/**
 * Waits for the ConfigMap and Deployment `<agent>-agent`, writes the config into `directory` and
 * resolves the environment. Asserts what every worker's rendering has: FREEHOLD_REDIS_URL from the
 * Secret `freehold-redis` (never a literal), only the Secrets in `secrets` referenced, and the
 * command `freehold worker --config /etc/freehold/config.json ...`.
 */
export async function renderedWorker(options: {
  readonly kubectl: Kubectl;
  readonly namespace: string;
  readonly agent: string;
  readonly directory: string;
  /** The Secrets the environment may reference. */
  readonly secrets: readonly string[];
  /** How long to wait for the rendering; default: eventually's. */
  readonly timeoutMs?: number;
}): Promise<RenderedWorker> {
  const { kubectl, namespace, agent } = options;
  const [configMap, deployment] = await eventually(
    () =>
      Promise.all([
        getJson<ConfigMap>(kubectl, ["-n", namespace, "configmap", `${agent}-agent`]),
        getJson<Deployment>(kubectl, ["-n", namespace, "deployment", `${agent}-agent`]),
      ]),
    options.timeoutMs,
  );
  const configFile = join(options.directory, "config.json");
  writeFileSync(configFile, configMap.data["config.json"] ?? "");
  const [container] = deployment.spec.template.spec.containers;
  if (container === undefined) throw new Error("the Deployment has no container");
  // The Redis URL comes from the Secret the operator wrote in the namespace, never as a literal.
  expect(container.env).toContainEqual({
    name: "FREEHOLD_REDIS_URL",
    valueFrom: { secretKeyRef: { name: "freehold-redis", key: "url" } },
  });
  // What the kubelet would do: literal values as they are, secretKeyRefs read from the Secret.
  const environment: Record<string, string> = Object.fromEntries(
    await Promise.all(
      (container.env ?? []).map(async (variable): Promise<[string, string]> => {
        const reference = variable.valueFrom?.secretKeyRef;
        if (reference === undefined) return [variable.name, variable.value ?? ""];
        expect(options.secrets).toContain(reference.name);
        return [variable.name, await secretValue(kubectl, namespace, reference.name, reference.key)];
      }),
    ),
  );
  expect(container.command.slice(0, 4)).toEqual([
    "freehold",
    "worker",
    "--config",
    "/etc/freehold/config.json",
  ]);
  const args = container.command
    .slice(1)
    .map((arg) => (arg === "/etc/freehold/config.json" ? configFile : arg));
  return { args, environment };
}
