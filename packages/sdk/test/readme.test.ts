/**
 * The README's snippets, run as they are: each ```ts block that starts with `// <file>.ts` is written
 * to a project folder of its own, whose node_modules link `@freehold/sdk` (this package), `zod` and
 * `@modelcontextprotocol/sdk`, and run with Node.
 */
import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { parseManifests } from "@freehold/api";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const packageRoot = join(import.meta.dirname, "..");
const workspaceRoot = join(packageRoot, "..", "..");
const run = promisify(execFile);
let folder: string;

beforeAll(() => {
  const readme = readFileSync(join(packageRoot, "README.md"), "utf8");
  folder = mkdtempSync(join(tmpdir(), "freehold-sdk-readme-"));
  const links = {
    "@freehold/sdk": packageRoot,
    zod: join(packageRoot, "node_modules", "zod"),
    "@modelcontextprotocol/sdk": join(packageRoot, "node_modules", "@modelcontextprotocol", "sdk"),
    "@types/node": join(workspaceRoot, "node_modules", "@types", "node"),
  };
  writeFileSync(join(folder, "package.json"), JSON.stringify({ type: "module", private: true }));
  for (const [name, target] of Object.entries(links)) {
    const link = join(folder, "node_modules", name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(target, link);
  }
  const files = [...readme.matchAll(/```ts\n\/\/ ([\w-]+\.ts)\n([\s\S]*?)```/g)];
  expect(files.map(([, name]) => name)).toEqual([
    "agents.ts",
    "tools.ts",
    "serve.ts",
    "tool-server.ts",
    "check.ts",
    "client.ts",
  ]);
  for (const [, name, text] of files) writeFileSync(join(folder, name ?? ""), text ?? "");
});

afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

describe("the README", () => {
  // Two runs of the TypeScript compiler over the snippets and the SDK's sources: seconds each.
  it("type-checks as a project of its own, and a misspelt field in a definition is a type error", async () => {
    const options = {
      target: "es2024",
      module: "nodenext",
      moduleResolution: "nodenext",
      strict: true,
      noEmit: true,
      allowImportingTsExtensions: true,
      skipLibCheck: true,
      types: ["node"],
    };
    writeFileSync(
      join(folder, "tsconfig.json"),
      JSON.stringify({ compilerOptions: options, include: ["*.ts"] }),
    );
    const tsc = join(workspaceRoot, "node_modules", "typescript", "bin", "tsc");
    await run(process.execPath, [tsc, "-p", folder]);
    const agents = readFileSync(join(folder, "agents.ts"), "utf8");
    writeFileSync(
      join(folder, "agents.ts"),
      agents.replace('instructions: "Send each', 'instructionz: "Send each'),
    );
    try {
      const failed = await run(process.execPath, [tsc, "-p", folder]).then(
        () => "",
        (error: unknown) => String((error as { stdout?: unknown }).stdout),
      );
      expect(failed).toContain("'instructionz' does not exist in type 'AgentDefinitionInput'");
    } finally {
      writeFileSync(join(folder, "agents.ts"), agents);
    }
  }, 120_000);

  it("Define agents: prints manifests the manifest parser reads, and the error of a bad definition", async () => {
    const { stdout, stderr } = await run(process.execPath, [join(folder, "agents.ts")]);
    expect(stderr).toContain(
      'defineAgent: Agent "broken" is invalid:\n  spec.instructions: Too small: expected string to have >=1 characters',
    );
    const resources = parseManifests(stdout, "agents.ts output");
    expect(resources.map((resource) => `${resource.kind}/${resource.metadata.name}`)).toEqual([
      "Model/default",
      "MCPServer/billing-tools",
      "HumanQueue/billing-team",
      "Agent/billing",
      "Agent/triage",
    ]);
  });

  it("Tools in TypeScript: the tool server is the MCPServer agents.ts names, with the tools in this process", async () => {
    const script = join(folder, "tool-server-check.ts");
    writeFileSync(
      script,
      [
        'import { Client } from "@modelcontextprotocol/sdk/client/index.js";',
        'import { billingTools } from "./agents.ts";',
        'import { billingToolServer } from "./tool-server.ts";',
        "console.log(JSON.stringify(billingToolServer.manifest.spec.http) === JSON.stringify(billingTools.manifest.spec.http));",
        'const client = new Client({ name: "check", version: "1.0.0" });',
        "await client.connect(await billingToolServer.connectInProcess());",
        'console.log((await client.listTools()).tools.map((tool) => tool.name).join(","));',
        "await client.close();",
      ].join("\n"),
    );
    const { stdout } = await run(process.execPath, [script]);
    // agents.ts prints its manifests when imported; the check's two lines come last.
    expect(stdout.split("\n").slice(-3)).toEqual(["true", "get_invoice,refund", ""]);
  });

  it("Tools in TypeScript: the in-memory check prints what its comments say", async () => {
    const { stdout } = await run(process.execPath, [join(folder, "check.ts")]);
    const lines = stdout.trim().split("\n");
    expect(lines.slice(0, 3)).toEqual([
      'get_invoice {"readOnlyHint":true}',
      'refund {"destructiveHint":true,"idempotentHint":true}',
      '{"number":"INV-7","total":120,"paid":false}',
    ]);
    expect(lines[3]).toMatch(/^true \[\{"type":"text","text":".*must look like INV-7 at number"\}\]$/);
  });

  it("Tools in TypeScript: serve.ts serves the tools behind its token until SIGTERM", async () => {
    const token = "readme-token-0123456789abcdef";
    const child = spawn(process.execPath, [join(folder, "serve.ts")], {
      env: { ...process.env, PORT: "0", TOOLS_TOKEN: token },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let output = "";
        child.stdout.setEncoding("utf8");
        child.stdout.on("data", (chunk: string) => {
          output += chunk;
          const match = /serving (\S+)/.exec(output);
          if (match?.[1] !== undefined) resolve(match[1]);
        });
        child.once("exit", (code) => {
          reject(new Error(`serve.ts exited with ${code}: ${output}`));
        });
      });
      const client = new Client({ name: "readme", version: "1.0.0" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(url), {
          requestInit: { headers: { Authorization: `Bearer ${token}` } },
        }),
      );
      const refund = await client.callTool({
        name: "refund",
        arguments: { number: "INV-7", amount: 20 },
        _meta: { "freehold.dev/idempotency-key": "run-1/call-1" },
      });
      expect(refund.content).toEqual([{ type: "text", text: "refunded 20 EUR on INV-7" }]);
      await client.close();
      const anonymous = await fetch(url, { method: "POST", body: "{}" });
      expect(anonymous.status).toBe(401);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  });
});
