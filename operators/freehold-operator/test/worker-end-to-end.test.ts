/**
 * End to end: the runtime worker started as a process with exactly what the operator rendered (the
 * ConfigMap's config.json, the Deployment's command and environment, Secret keys filled in as the
 * kubelet would) serves a run through a scripted model and an MCP server that needs a header from a
 * Secret.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRedisServer, type RedisServer } from "@freehold/handoff";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCounterServer, type CounterServer } from "../../../test/fixtures/mcp/counter-server.ts";
import { createOperator, type Operator } from "../src/operator.ts";
import { startOperatorTestCluster, type OperatorTestCluster } from "./test-cluster.ts";
import { renderedWorker, startFreehold } from "./worker-from-deployment.ts";

const root = join(import.meta.dirname, "..", "..", "..");
const cli = join(root, "packages", "cli", "src", "bin.ts");
const namespace = "e2e";

let test: OperatorTestCluster;
let redis: RedisServer;
let counter: CounterServer;
let operator: Operator;
let directory: string;
const children: ChildProcess[] = [];

/** Starts a `freehold` command; resolves with the first stdout/stderr text matching `ready`. */
const freehold = (args: readonly string[], environment: Readonly<Record<string, string>>, ready: RegExp) =>
  startFreehold(args, environment, ready, children);

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "freehold-operator-e2e-"));
  [test, redis, counter] = await Promise.all([
    startOperatorTestCluster(),
    startRedisServer(),
    startCounterServer({ transport: "http", requireAuthorization: "Bearer e2e-token" }),
  ]);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(test.cluster.kubeconfig);
  operator = createOperator({
    kubeConfig,
    translate: { runtimeImage: "ghcr.io/freehold/runtime:0.1.0", workerRedisUrl: redis.url },
    namespace,
    servedNamespaces: [namespace],
    // The counter MCP server runs on 127.0.0.1.
    mcpServer: { allowInternalAddresses: true },
    log: () => undefined,
  });
  await operator.start();
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await operator.stop();
  await Promise.all([test.stop(), redis.stop(), counter.close()]);
  rmSync(directory, { recursive: true, force: true });
});

describe("a worker with the operator's rendered config", () => {
  it("serves a run through the scripted model and the MCP server", async () => {
    const script = join(directory, "model-script.json");
    writeFileSync(
      script,
      JSON.stringify({
        model: "scripted-adder",
        turns: [
          { match: { contains: "add 2 and 3" }, toolCalls: [{ name: "add", arguments: { a: 2, b: 3 } }] },
          { match: { toolName: "add" }, text: "The sum is 5." },
        ],
      }),
    );
    const model = await freehold(["model", "serve", "--script", script], {}, /at (http:\/\/\S+\/v1)/);
    const baseUrl = model.match[1] ?? "";

    const secret = await test.kubectl(["create", "namespace", namespace]);
    expect(secret.code, secret.stderr).toBe(0);
    const manifests = [
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "counter", namespace },
        stringData: { token: "Bearer e2e-token" },
      },
      {
        apiVersion: "freehold.dev/v1alpha1",
        kind: "Model",
        metadata: { name: "scripted", namespace },
        spec: { provider: "openai-compatible", model: "scripted-adder", baseUrl },
      },
      {
        apiVersion: "freehold.dev/v1alpha1",
        kind: "MCPServer",
        metadata: { name: "counter", namespace },
        spec: {
          http: {
            url: counter.url,
            headers: [{ name: "Authorization", secretKeyRef: { name: "counter", key: "token" } }],
          },
        },
      },
      {
        apiVersion: "freehold.dev/v1alpha1",
        kind: "Agent",
        metadata: { name: "adder", namespace },
        spec: {
          model: { ref: "scripted" },
          instructions: "Add numbers with the add tool.",
          tools: [{ mcpServer: "counter", allow: ["add"] }],
          limits: { maxSteps: 4 },
        },
      },
    ];
    const applied = await test.kubectl(
      ["apply", "-f", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "List", items: manifests }),
    );
    expect(applied.code, applied.stderr).toBe(0);

    const { args, environment } = await renderedWorker({
      kubectl: test.kubectl,
      namespace,
      agent: "adder",
      directory,
      secrets: ["counter", "freehold-redis"],
    });
    expect(environment.FREEHOLD_REDIS_URL).toBe(redis.url);
    await freehold(args, environment, /worker ready/);

    const run = spawn(
      process.execPath,
      [cli, "run", "adder", "Please add 2 and 3.", "-n", namespace, "--redis-url", redis.url],
      {
        env: { PATH: process.env.PATH ?? "" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    children.push(run);
    let output = "";
    run.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    run.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise((resolve) => run.once("exit", resolve));
    expect(output).toContain("The sum is 5.");
    expect(code, output).toBe(0);
    expect(counter.calls().map((call) => [call.tool, call.arguments])).toEqual([["add", { a: 2, b: 3 }]]);
  }, 90_000);
});
