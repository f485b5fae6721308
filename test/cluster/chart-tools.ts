/**
 * Tools of the chart suite (chart.test.ts): running helm and other commands without throwing, the
 * rendered objects' shapes, and a real `redis-server` started with the arguments the chart's
 * StatefulSet gives Redis, as the kubelet would run them.
 *
 * @module
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { freePort } from "@freehold/handoff";

/** What a command did. */
export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command, never throwing: tests look at the exit code and the output. */
export function run(
  binary: string,
  args: readonly string[],
  options: { cwd?: string; environment?: Record<string, string> } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      binary,
      args,
      {
        timeout: 120_000,
        maxBuffer: 16 * 1024 * 1024,
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        env: { ...process.env, ...options.environment },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** An environment variable of a container. */
export interface EnvironmentVariable {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}

/** A container of a rendered pod template. */
export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvironmentVariable[];
  securityContext?: Record<string, unknown>;
  readinessProbe?: { exec?: { command: string[] } };
  livenessProbe?: { exec?: { command: string[] } };
}

/** A rendered pod template's spec. */
export interface PodSpec {
  securityContext?: Record<string, unknown>;
  containers: Container[];
}

/** An RBAC rule. */
export interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** An object `helm template` rendered. */
export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  rules?: Rule[];
  data?: Record<string, string>;
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

/** The objects of a multi-document YAML stream. */
export function parseObjects(yaml: string): RenderedObject[] {
  return parseAllDocuments(yaml)
    .map((document) => document.toJS() as RenderedObject | null)
    .filter((object) => object !== null);
}

/** The pod spec of a Deployment or StatefulSet. */
export function podSpec(object: RenderedObject): PodSpec {
  return (object.spec?.template as { spec: PodSpec }).spec;
}

/** The pod template's annotations of a Deployment or StatefulSet. */
export function podAnnotations(object: RenderedObject): Record<string, string> {
  return (
    (object.spec?.template as { metadata: { annotations?: Record<string, string> } }).metadata.annotations ??
    {}
  );
}

/** One object by kind and name; throws naming it when the chart rendered none. */
export function find(objects: readonly RenderedObject[], kind: string, name: string): RenderedObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (found === undefined) throw new Error(`the chart rendered no ${kind} ${name}`);
  return found;
}

/** A container's variable, or undefined. */
export function environment(container: Container | undefined, name: string): EnvironmentVariable | undefined {
  return container?.env?.find((variable) => variable.name === name);
}

/** Every container of every Deployment and StatefulSet, named `<workload>/<container>`. */
export function containers(objects: readonly RenderedObject[]): [string, Container][] {
  return objects
    .filter((object) => ["Deployment", "StatefulSet"].includes(object.kind))
    .flatMap((object) =>
      podSpec(object).containers.map((container): [string, Container] => [
        `${object.metadata.name}/${container.name}`,
        container,
      ]),
    );
}

/** A Secret's value by key, decoded. */
export function secretValue(secret: RenderedObject, key: string): string {
  const encoded = secret.data?.[key];
  if (encoded === undefined) throw new Error(`Secret ${secret.metadata.name} has no key ${key}`);
  return Buffer.from(encoded, "base64").toString("utf8");
}

/** A redis-server started as the chart's StatefulSet starts it. */
export interface ChartRedis extends AsyncDisposable {
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** The arguments it got, with `$(VARIABLE)` expanded. */
  readonly args: readonly string[];
  stop(): Promise<void>;
}

/**
 * Starts the local `redis-server` with the container's arguments, its `$(VARIABLE)` references
 * expanded from `variables` as the kubelet expands them, `--dir` pointed at a temporary folder (the
 * pod's /data), and `--port`/`--bind` added for a free loopback port. Fails with Redis' output
 * when Redis refuses the arguments.
 */
export async function startChartRedis(
  container: Container,
  variables: Readonly<Record<string, string>>,
): Promise<ChartRedis> {
  const [binary, ...rest] = container.args ?? [];
  if (binary !== "redis-server") throw new Error(`the Redis container runs ${binary ?? "nothing"}`);
  const directory = mkdtempSync(join(tmpdir(), "freehold-chart-redis-"));
  const port = await freePort();
  const expanded = rest.map((arg) =>
    arg.replace(/\$\(([A-Z_][A-Z0-9_]*)\)/g, (reference, name: string) => variables[name] ?? reference),
  );
  const dir = expanded.indexOf("--dir");
  if (dir === -1) throw new Error("the Redis container sets no --dir");
  expanded[dir + 1] = directory;
  const args = [...expanded, "--port", String(port), "--bind", "127.0.0.1"];
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) resolve();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("error", reject);
    child.once("exit", (code) => {
      reject(new Error(`redis-server exited with ${code} on the chart's arguments:\n${output}`));
    });
  });
  child.removeAllListeners("exit");
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) =>
        child.once("exit", () => {
          resolve();
        }),
      );
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(directory, { recursive: true, force: true });
  };
  return { port, args, stop, [Symbol.asyncDispose]: stop };
}
