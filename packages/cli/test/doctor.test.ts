/**
 * `freehold doctor --dev` as a user runs it: the real CLI in a child process, checking a folder's
 * Model (the scripted model server), MCPServer (the counter server over HTTP) and a real Redis;
 * then each of them down, which the output names and the exit code reports.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRedisServer, type RedisServer } from "@freehold/handoff";
import { startScriptedModelServer, type ScriptedModelServer } from "@freehold/models";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startCounterServer, type CounterServer } from "../../../test/fixtures/mcp/counter-server.ts";

const bin = join(import.meta.dirname, "..", "src", "bin.ts");

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface Check {
  readonly check: string;
  readonly status: "ok" | "warn" | "fail";
  readonly message: string;
  readonly fix?: string;
}

function freehold(args: readonly string[], cwd: string): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd, timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === "number" ? error.code : 1,
          stdout,
          stderr,
        });
      },
    );
  });
}

let redis: RedisServer;
let model: ScriptedModelServer;
let counter: CounterServer;
let directory: string;

beforeEach(async () => {
  redis = await startRedisServer({
    dataDirectory: mkdtempSync(join(tmpdir(), "freehold-doctor-redis-")),
    appendOnly: true,
  });
  model = await startScriptedModelServer({ script: [{ text: "hello" }] });
  counter = await startCounterServer({ transport: "http" });
  directory = mkdtempSync(join(tmpdir(), "freehold-doctor-"));
  writeFileSync(
    join(directory, "resources.yaml"),
    `apiVersion: freehold.dev/v1alpha1
kind: Model
metadata: {name: scripted}
spec: {provider: openai-compatible, model: scripted-model, baseUrl: "${model.baseUrl}"}
---
apiVersion: freehold.dev/v1alpha1
kind: MCPServer
metadata: {name: counter}
spec: {http: {url: "${counter.url}"}}
---
apiVersion: freehold.dev/v1alpha1
kind: Agent
metadata: {name: calculator}
spec:
  model: {ref: scripted}
  instructions: Add with the add tool.
  tools: [{mcpServer: counter, allow: [add]}]
`,
  );
});

afterEach(async () => {
  await Promise.all([redis.stop(), model.close(), counter.close()]);
});

async function doctorJson(): Promise<{ code: number; ok: boolean; checks: Check[] }> {
  const result = await freehold(["doctor", "--dev", ".", "--redis-url", redis.url, "--json"], directory);
  const parsed = JSON.parse(result.stdout) as { ok: boolean; checks: Check[] };
  return { code: result.code, ...parsed };
}

function statusOf(checks: readonly Check[], name: string): Check | undefined {
  return checks.find((check) => check.check === name);
}

describe("freehold doctor --dev", () => {
  it("says ok to each check when everything is up", async () => {
    const result = await freehold(["doctor", "--dev", ".", "--redis-url", redis.url], directory);
    expect(result.stdout).toMatch(/^ok {3}redis: Redis \d+\.\d+\.\d+ at redis:\/\/127\.0\.0\.1:\d+$/m);
    expect(result.stdout).toContain("ok   redis persistence: append-only file on");
    expect(result.stdout).toContain("ok   redis eviction: maxmemory-policy noeviction");
    expect(result.stdout).toContain("ok   manifests: 3 resources in .");
    expect(result.stdout).toContain(
      `ok   model default/scripted: openai-compatible scripted-model at ${model.baseUrl}`,
    );
    expect(result.stdout).toMatch(/^ok {3}mcp default\/counter: \d+ tools at \S+\/mcp: .*\badd\b/m);
    expect(result.stdout).toContain("6 ok, 0 warn, 0 fail");
    expect(result.code).toBe(0);

    const json = await doctorJson();
    expect(json.ok).toBe(true);
    expect(json.checks.map((check) => [check.check, check.status])).toEqual([
      ["redis", "ok"],
      ["redis persistence", "ok"],
      ["redis eviction", "ok"],
      ["manifests", "ok"],
      ["model default/scripted", "ok"],
      ["mcp default/counter", "ok"],
    ]);
  });

  it("names Redis when it is down", async () => {
    await redis.stop();
    const json = await doctorJson();
    expect(json.code).toBe(1);
    expect(json.ok).toBe(false);
    expect(statusOf(json.checks, "redis")).toMatchObject({
      status: "fail",
      message: expect.stringContaining(`Redis at ${redis.url} is not reachable`) as unknown,
      fix: expect.stringContaining("--redis-url") as unknown,
    });
    expect(statusOf(json.checks, "model default/scripted")?.status).toBe("ok");
  });

  it("names the model when its server is down", async () => {
    await model.close();
    const result = await freehold(["doctor", "--dev", ".", "--redis-url", redis.url], directory);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `fail model default/scripted: openai-compatible endpoint ${model.baseUrl}/models is not reachable`,
    );
    expect(result.stdout).toContain("fix: start the model server, or correct spec.baseUrl");
    expect(result.stdout).toContain("5 ok, 0 warn, 1 fail");
  });

  it("names the MCP server when it is down", async () => {
    await counter.close();
    const json = await doctorJson();
    expect(json.code).toBe(1);
    expect(statusOf(json.checks, "mcp default/counter")).toMatchObject({
      status: "fail",
      message: expect.stringContaining(`${counter.url} did not list its tools`) as unknown,
    });
    expect(json.checks.filter((check) => check.status === "fail")).toHaveLength(1);
  });

  it("names a model the server does not list, and a missing API key", async () => {
    writeFileSync(
      join(directory, "more.yaml"),
      `apiVersion: freehold.dev/v1alpha1
kind: Model
metadata: {name: misspelt}
spec: {provider: openai-compatible, model: scripted-modle, baseUrl: "${model.baseUrl}"}
---
apiVersion: freehold.dev/v1alpha1
kind: Model
metadata: {name: keyed}
spec: {provider: openai, model: gpt-4o-mini, baseUrl: "${model.baseUrl}", apiKeySecretRef: {name: openai, key: apiKey}}
`,
    );
    const json = await doctorJson();
    expect(statusOf(json.checks, "model default/misspelt")).toMatchObject({
      status: "warn",
      message: expect.stringContaining("does not list scripted-modle (it lists scripted-model)") as unknown,
    });
    expect(statusOf(json.checks, "model default/keyed")).toMatchObject({
      status: "fail",
      message: expect.stringContaining("FREEHOLD_SECRET_OPENAI_APIKEY") as unknown,
    });
  });

  it("starts a stdio MCP server to list its tools, and names one whose command is missing", async () => {
    const counterScript = join(
      import.meta.dirname,
      "..",
      "..",
      "..",
      "test",
      "fixtures",
      "mcp",
      "counter-server.ts",
    );
    writeFileSync(
      join(directory, "stdio.yaml"),
      `apiVersion: freehold.dev/v1alpha1
kind: MCPServer
metadata: {name: local-counter}
spec: {stdio: {command: "${process.execPath}", args: ["${counterScript}", "--stdio"]}}
---
apiVersion: freehold.dev/v1alpha1
kind: MCPServer
metadata: {name: missing}
spec: {stdio: {command: freehold-no-such-server}}
`,
    );
    const json = await doctorJson();
    expect(statusOf(json.checks, "mcp default/local-counter")).toMatchObject({
      status: "ok",
      message: expect.stringMatching(/^\d+ tools at stdio: .*: add, /) as unknown,
    });
    expect(statusOf(json.checks, "mcp default/missing")).toMatchObject({
      status: "fail",
      message: expect.stringContaining("could not start freehold-no-such-server") as unknown,
      fix: "check the command, its arguments and env",
    });
    expect(json.code).toBe(1);
  });
});
