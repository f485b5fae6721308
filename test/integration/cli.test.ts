/**
 * `freehold run --dev` as a user runs it: the real CLI in a child process, a folder of manifests, the
 * scripted model server over HTTP and the counter MCP server. Good runs, and bad input: an unknown
 * agent, a malformed manifest, a model server that is down, an MCP server that is down at start.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RunEvent } from "@freehold/api";
import { freePort } from "@freehold/handoff";
import { createMcpPool } from "@freehold/mcp";
import { startScriptedModelServer, type ScriptedModelServer } from "@freehold/models";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCounterServer, type CounterServer } from "../fixtures/mcp/counter-server.ts";

const bin = join(import.meta.dirname, "..", "..", "packages", "cli", "src", "bin.ts");
let model: ScriptedModelServer;
let counter: CounterServer;

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
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

function folder(files: Record<string, string>): string {
  const directory = mkdtempSync(join(tmpdir(), "freehold-dev-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(directory, name), text);
  return directory;
}

function manifests(modelUrl: string, mcpUrl: string): Record<string, string> {
  return {
    "model.yaml": `apiVersion: freehold.dev/v1alpha1\nkind: Model\nmetadata: {name: scripted}\nspec: {provider: openai-compatible, model: scripted-model, baseUrl: "${modelUrl}", maxRetries: 0}\n`,
    "tools.yaml": `apiVersion: freehold.dev/v1alpha1\nkind: MCPServer\nmetadata: {name: counter}\nspec: {http: {url: "${mcpUrl}"}}\n`,
    "agent.yaml": `apiVersion: freehold.dev/v1alpha1\nkind: Agent\nmetadata: {name: calculator}\nspec:\n  model: {ref: scripted}\n  instructions: Add with the add tool.\n  tools: [{mcpServer: counter, allow: [add]}]\n`,
  };
}

beforeAll(async () => {
  model = await startScriptedModelServer({
    script: [
      { toolCalls: [{ name: "add", arguments: { a: 2, b: 3 } }] },
      { text: "2 + 3 = 5", match: { role: "tool" } },
    ],
  });
  counter = await startCounterServer({ transport: "http" });
});

afterAll(async () => {
  await model.close();
  await counter.close();
});

describe("freehold run --dev", () => {
  it("runs a folder's agent and prints each step and the answer", async () => {
    const directory = folder(manifests(model.baseUrl, counter.url));
    const result = await freehold(["run", "--dev", ".", "calculator", "What is 2 + 3?"], directory);
    expect(result.stderr).toContain("redis-server started");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/▶ run \S+ on agent calculator: What is 2 \+ 3\?/);
    expect(result.stdout).toMatch(/step 1: scripted-model calls add \{"a":2,"b":3\}/);
    expect(result.stdout).toContain("← add: 5");
    expect(result.stdout).toMatch(/✔ completed \(2 steps, \d+ tokens\)\n\n2 \+ 3 = 5/);
  });

  it("runs the agents an entry module defines with @freehold/sdk, as it runs a folder", async () => {
    const sdk = join(import.meta.dirname, "..", "..", "packages", "sdk", "src", "index.ts");
    const directory = folder({
      "agents.ts":
        `import { defineAgent, defineMCPServer, defineModel } from ${JSON.stringify(sdk)};\n` +
        `export const model = defineModel({ name: "scripted", provider: "openai-compatible", model: "scripted-model", baseUrl: ${JSON.stringify(model.baseUrl)}, maxRetries: 0 });\n` +
        `export const counter = defineMCPServer({ name: "counter", http: { url: ${JSON.stringify(counter.url)} } });\n` +
        `export const calculator = defineAgent({ name: "calculator", model: { ref: "scripted" }, instructions: "Add with the add tool.", tools: [{ mcpServer: "counter", allow: ["add"] }] });\n`,
    });
    const result = await freehold(["run", "--dev", "agents.ts", "calculator", "What is 2 + 3?"], directory);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/step 1: scripted-model calls add \{"a":2,"b":3\}/);
    expect(result.stdout).toMatch(/✔ completed \(2 steps, \d+ tokens\)\n\n2 \+ 3 = 5/);
    // A definition the manifest parser refuses stops the run before anything starts, naming the field.
    writeFileSync(
      join(directory, "bad.ts"),
      `import { defineModel } from ${JSON.stringify(sdk)};\nexport const model = defineModel({ name: "scripted", provider: "openai-compatible", model: "" });\n`,
    );
    const bad = await freehold(["run", "--dev", "bad.ts", "calculator", "hi"], directory);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/spec\.model/);
    expect(bad.stderr).not.toContain("redis-server started");
  });

  it("runs tools an entry module writes with defineTool in this process", async () => {
    const sdk = join(import.meta.dirname, "..", "..", "packages", "sdk", "src", "index.ts");
    const directory = folder({
      "agents.ts":
        `import { z } from "zod";\n` +
        `import { defineAgent, defineModel, defineTool, defineToolServer } from ${JSON.stringify(sdk)};\n` +
        `export const model = defineModel({ name: "scripted", provider: "openai-compatible", model: "scripted-model", baseUrl: ${JSON.stringify(model.baseUrl)}, maxRetries: 0 });\n` +
        `const add = defineTool({ name: "add", description: "Adds.", input: z.object({ a: z.number(), b: z.number() }), run: ({ a, b }) => String(a + b) });\n` +
        // No server listens at the definition's URL: the tools are reached in this process.
        `export const counter = defineToolServer({ name: "counter", tools: [add] });\n` +
        `export const calculator = defineAgent({ name: "calculator", model: { ref: "scripted" }, instructions: "Add with the add tool.", tools: [{ mcpServer: "counter", allow: ["add"] }] });\n`,
    });
    // The entry imports zod as a user's project would: from its own node_modules.
    symlinkSync(
      join(import.meta.dirname, "..", "..", "packages", "sdk", "node_modules"),
      join(directory, "node_modules"),
    );
    const result = await freehold(["run", "--dev", "agents.ts", "calculator", "What is 2 + 3?"], directory);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("← add: 5");
    expect(result.stdout).toMatch(/✔ completed \(2 steps, \d+ tokens\)\n\n2 \+ 3 = 5/);
  });

  it("prints events as JSON lines with --json", async () => {
    const directory = folder(manifests(model.baseUrl, counter.url));
    const result = await freehold(["run", "--dev", ".", "--json", "calculator", "What is 2 + 3?"], directory);
    expect(result.code).toBe(0);
    const events = result.stdout
      .trim()
      .split("\n")
      .map((line) => RunEvent.parse(JSON.parse(line)));
    expect(events.map((event) => event.type)).toEqual([
      "run-start",
      "model-call-end",
      "tool-call-start",
      "tool-call-end",
      "model-call-end",
      "run-end",
    ]);
  });

  it("refuses an unknown agent, naming the agents there are", async () => {
    const directory = folder(manifests(model.baseUrl, counter.url));
    const result = await freehold(["run", "--dev", ".", "billing", "hi"], directory);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "error: agent billing not found in namespace default; agents: calculator (agent.not-found)",
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses a malformed manifest, naming the file and the field", async () => {
    const files = manifests(model.baseUrl, counter.url);
    const directory = folder({
      ...files,
      "agent.yaml":
        files["agent.yaml"]?.replace("allow: [add]", "allow: [add], requireApproval: [refund]") ?? "",
    });
    const result = await freehold(["run", "--dev", ".", "calculator", "hi"], directory);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('agent.yaml (document 1): Agent "calculator" is invalid:');
    expect(result.stderr).toContain(
      "spec.tools[0].requireApproval: requireApproval may only name tools listed in allow",
    );
  });

  it("refuses a reference to a model that is not defined", async () => {
    const files = manifests(model.baseUrl, counter.url);
    const directory = folder({
      ...files,
      "agent.yaml": files["agent.yaml"]?.replace("ref: scripted", "ref: gpt") ?? "",
    });
    const result = await freehold(["run", "--dev", ".", "calculator", "hi"], directory);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "agent calculator uses Model gpt, which is not defined in namespace default",
    );
  });

  it("ends the run as failed, with the reason, when the model server is down", async () => {
    const directory = folder(manifests(`http://127.0.0.1:${await freePort()}/v1`, counter.url));
    const result = await freehold(["run", "--dev", ".", "calculator", "hi"], directory);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /✘ failed: model openai-compatible\/scripted-model failed: .*\(model\.unreachable\)/,
    );
  });

  it("waits for an MCP server that is down at start, and runs once it is up", async () => {
    const port = await freePort();
    const directory = folder(manifests(model.baseUrl, `http://127.0.0.1:${port}/mcp`));
    const child = spawn(process.execPath, [bin, "run", "--dev", ".", "calculator", "What is 2 + 3?"], {
      cwd: directory,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    await expect.poll(() => stderr, { timeout: 20_000 }).toMatch(/retrying/);
    expect(stderr).toContain("counter");
    const late = await startCounterServer({ transport: "http", port });
    try {
      expect(await exited).toBe(0);
      expect(stdout).toContain("← add: 5");
    } finally {
      await late.close();
    }
  });
});

/** Starts a long-running freehold command and waits for the URL it prints. */
async function serve(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<{ url: string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env } });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  await expect.poll(() => stdout, { timeout: 20_000 }).toMatch(/http:\/\/127\.0\.0\.1:\d+\/\S+/);
  const url = /http:\/\/127\.0\.0\.1:\d+\/\S+/.exec(stdout)?.[0] ?? "";
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

describe("freehold model serve", () => {
  it("serves a script as an OpenAI-compatible endpoint until stopped", async () => {
    const script = folder({ "script.yaml": "model: demo\nturns:\n  - text: hello from the script\n" });
    const server = await serve(["model", "serve", "--script", join(script, "script.yaml")]);
    const response = await fetch(`${server.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "demo", messages: [{ role: "user", content: "hi" }] }),
    });
    const body = (await response.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe("hello from the script");
    expect(await server.stop()).toBe(0);
  });

  it("refuses a bad script, naming the turn", async () => {
    const script = folder({ "script.yaml": "turns:\n  - delayMs: 5\n" });
    const result = await freehold(["model", "serve", "--script", "script.yaml"], script);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("turn 1: a turn needs one of text, toolCalls or error");
  });
});

describe("freehold mcp bridge", () => {
  it("serves a stdio MCP server over streamable HTTP", async () => {
    const fixture = join(import.meta.dirname, "..", "fixtures", "mcp", "counter-server.ts");
    const token = "a-token-of-the-bridge-under-test";
    const bridge = await serve(["mcp", "bridge", "--", process.execPath, fixture, "--stdio"], {
      FREEHOLD_MCP_BRIDGE_TOKEN: token,
    });
    const refused = await fetch(bridge.url, { method: "POST", body: "{}" });
    expect(refused.status).toBe(401);
    const pool = createMcpPool({
      counter: { transport: "http", url: bridge.url, headers: { Authorization: `Bearer ${token}` } },
    });
    try {
      expect((await pool.listTools("counter")).map((tool) => tool.name)).toContain("add");
      const result = await pool.callTool("counter", "add", { a: 40, b: 2 }, { idempotencyKey: "bridge-1" });
      expect(result.structuredContent).toEqual({ sum: 42 });
      // The token stays with the bridge: the stdio server does not get it.
      const info = await pool.callTool("counter", "info", {}, { idempotencyKey: "bridge-2" });
      expect((info.structuredContent as { environment: string[] }).environment).not.toContain(
        "FREEHOLD_MCP_BRIDGE_TOKEN",
      );
    } finally {
      await pool.close();
    }
    expect(await bridge.stop()).toBe(0);
  });

  it("refuses to start without a token", async () => {
    const fixture = join(import.meta.dirname, "..", "fixtures", "mcp", "counter-server.ts");
    const result = await freehold(
      ["mcp", "bridge", "--", process.execPath, fixture, "--stdio"],
      import.meta.dirname,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("FREEHOLD_MCP_BRIDGE_TOKEN");
  });
});
