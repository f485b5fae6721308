/**
 * Tool servers written with `@freehold/sdk` in a cluster: `freehold build --tool-image` writes each as
 * a stdio MCPServer the operator runs, and the command that MCPServer names — run here as the
 * operator's pod runs it, `freehold mcp bridge -- freehold tools serve <entry> --server <name>` in the
 * project's folder — serves the tools to Freehold's MCP broker over HTTP with the bridge's token.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { parseManifests, type McpServer } from "@freehold/api";
import { createMcpPool } from "@freehold/mcp";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { afterEach, describe, expect, it } from "vitest";
import { toolsServeCommand } from "../src/commands/tools.ts";
import { captureOutput } from "../src/output.ts";
import { createProgram } from "../src/program.ts";

const root = join(import.meta.dirname, "..", "..", "..");
const sdk = join(root, "packages", "sdk", "src", "index.ts");
/** The bundled `freehold`, as the runtime image has it (the project's global setup builds it). */
const bin = join(root, "packages", "cli", "bundle", "bin.js");

async function freehold(cwd: string, ...args: string[]) {
  const output = captureOutput();
  await createProgram({ output, cwd, environment: {}, stopped: () => Promise.resolve() }).parseAsync(args, {
    from: "user",
  });
  return { stdout: output.out.join(""), stderr: output.err.join("") };
}

/** A project folder with `src/entry.ts`: tool servers and an agent, defined with the SDK. */
function project(body: string): string {
  const folder = mkdtempSync(join(tmpdir(), "freehold-tool-image-"));
  mkdirSync(join(folder, "src"));
  writeFileSync(
    join(folder, "src", "entry.ts"),
    `import { z } from ${JSON.stringify(import.meta.resolve("zod"))};
import { defineAgent, defineTool, defineToolServer } from ${JSON.stringify(sdk)};
// Printed while loading: it must reach standard error, not the MCP channel on standard output.
console.log("loading the billing tools");
const lookup = defineTool({
  name: "lookup",
  description: "Where an order ships from.",
  input: z.object({ order: z.string().regex(/^A-\\d+$/) }),
  annotations: { readOnlyHint: true },
  run: ({ order }) => { console.info("looked up", order); return order + " ships from " + process.env.BILLING_REGION; },
});
${body}`,
  );
  return folder;
}

const billing = `
export const tools = defineToolServer({ name: "billing-tools", namespace: "acme", tools: [lookup], timeoutSeconds: 20,
  env: [{ name: "BILLING_REGION", value: "eu-west" }, { name: "BILLING_KEY", secretKeyRef: { name: "billing", key: "api-key" } }] });
export const agent = defineAgent({ name: "billing", namespace: "acme", model: { ref: "default" },
  instructions: "Answer about orders.", tools: [{ mcpServer: "billing-tools", allow: ["lookup"] }] });
`;

afterEach(() => {
  process.exitCode = undefined;
});

describe("freehold build --tool-image", () => {
  it("writes a tool server as a stdio MCPServer the operator runs from the image", async () => {
    const folder = project(billing);
    const built = await freehold(
      folder,
      "build",
      "src/entry.ts",
      "--tool-image",
      "registry.example/acme/tools:1",
    );
    const [server, agent] = parseManifests(built.stdout, "built") as [McpServer, unknown];
    expect(server.kind).toBe("MCPServer");
    expect(server.spec).toEqual({
      timeoutSeconds: 20,
      stdio: {
        image: "registry.example/acme/tools:1",
        command: "freehold",
        args: ["tools", "serve", "src/entry.ts", "--server", "acme/billing-tools"],
        workingDir: "/app",
        env: [
          { name: "BILLING_REGION", value: "eu-west" },
          { name: "BILLING_KEY", secretKeyRef: { name: "billing", key: "api-key" } },
        ],
      },
    });
    expect(agent).toMatchObject({ kind: "Agent", metadata: { name: "billing" } });
    // Deterministic, and the working folder is the flag's.
    expect(
      (await freehold(folder, "build", "src/entry.ts", "--tool-image", "registry.example/acme/tools:1"))
        .stdout,
    ).toBe(built.stdout);
    const elsewhere = await freehold(
      folder,
      "build",
      "src/entry.ts",
      "--tool-image",
      "x:1",
      "--tool-workdir",
      "/srv",
    );
    expect(parseManifests(elsewhere.stdout, "built")[0]).toMatchObject({
      spec: { stdio: { workingDir: "/srv" } },
    });

    // Without the flag: the HTTP form, and a word on who serves it.
    const plain = await freehold(folder, "build", "src/entry.ts");
    expect(parseManifests(plain.stdout, "built")[0]).toMatchObject({
      spec: { http: { url: "http://billing-tools:8080/mcp" } },
    });
    expect(plain.stdout).not.toContain("BILLING_REGION");
    expect(plain.stderr).toContain(
      "tool server billing-tools: agents reach it at http://billing-tools:8080/mcp; serve its tools there (serveTools), or build with --tool-image <image>",
    );
  });

  it("refuses what cannot be run from an image, and checks the environment when defined", async () => {
    const folder = project(billing);
    mkdirSync(join(folder, "app"));
    await expect(
      freehold(join(folder, "app"), "build", "../src/entry.ts", "--tool-image", "x:1"),
    ).rejects.toMatchObject({ code: "build.entry-outside-project" });
    const invalid = project(`
export const tools = defineToolServer({ name: "billing-tools", tools: [lookup],
  env: [{ name: "REGION", value: "eu" }, { name: "REGION", value: "us" }] });
`);
    await expect(freehold(invalid, "build", "src/entry.ts")).rejects.toMatchObject({
      code: "manifest.invalid",
      message: expect.stringContaining("environment variable names must be unique") as unknown,
    });
  });
});

describe("freehold tools serve", () => {
  it("is what the built MCPServer runs: behind the bridge, the tools answer Freehold's broker", async () => {
    const folder = project(billing);
    const built = await freehold(folder, "build", "src/entry.ts", "--tool-image", "x:1");
    const [server] = parseManifests(built.stdout, "built") as [McpServer];
    const stdio = server.spec.stdio;
    if (stdio === undefined) throw new Error("no stdio transport");

    // The image's `freehold` on PATH, the project as the working folder, the container's environment.
    const binFolder = mkdtempSync(join(tmpdir(), "freehold-bin-"));
    writeFileSync(
      join(binFolder, "freehold"),
      `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} "$@"\n`,
    );
    chmodSync(join(binFolder, "freehold"), 0o755);
    const token = "a-token-of-the-tool-server-test";
    const bridge = spawn(
      process.execPath,
      [bin, "mcp", "bridge", "--port", "0", "--", stdio.command, ...(stdio.args ?? [])],
      {
        cwd: folder,
        env: {
          ...process.env,
          PATH: `${binFolder}${delimiter}${process.env.PATH ?? ""}`,
          FREEHOLD_MCP_BRIDGE_TOKEN: token,
          BILLING_REGION: "eu-west",
        },
      },
    );
    let stdout = "";
    let stderr = "";
    bridge.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    bridge.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => bridge.once("exit", resolve));
    const pool = await (async () => {
      await expect.poll(() => stdout, { timeout: 20_000 }).toMatch(/http:\/\/127\.0\.0\.1:\d+\/\S+/);
      const url = /http:\/\/127\.0\.0\.1:\d+\/\S+/.exec(stdout)?.[0] ?? "";
      return createMcpPool({
        "billing-tools": { transport: "http", url, headers: { Authorization: `Bearer ${token}` } },
      });
    })();
    try {
      const tools = await pool.listTools("billing-tools");
      expect(tools.map((tool) => [tool.name, tool.annotations?.readOnlyHint])).toEqual([["lookup", true]]);
      const result = await pool.callTool(
        "billing-tools",
        "lookup",
        { order: "A-7" },
        { idempotencyKey: "t-1" },
      );
      expect(result.content).toEqual([{ type: "text", text: "A-7 ships from eu-west" }]);
      const refused = await pool.callTool(
        "billing-tools",
        "lookup",
        { order: "7" },
        { idempotencyKey: "t-2" },
      );
      expect(refused.isError).toBe(true);
      expect(JSON.stringify(refused.content)).toContain("order");
      // What the code printed went to standard error, which the bridge logs.
      await expect.poll(() => stderr).toContain("loading the billing tools");
      expect(stderr).toContain("looked up A-7");
    } finally {
      await pool.close();
      bridge.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  });

  it("serves one session in this process over any transport, and names the servers when it cannot choose", async () => {
    const folder = project(`${billing}
export const more = defineToolServer({ name: "billing-tools", namespace: "retail", tools: [lookup] });
export const other = defineToolServer({ name: "orders", namespace: "acme", tools: [lookup] });
`);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const serving = toolsServeCommand({
      entry: "src/entry.ts",
      cwd: folder,
      server: "acme/orders",
      transport: serverSide,
    });
    const client = new Client({ name: "test", version: "1.0.0" });
    await client.connect(clientSide);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(["lookup"]);
    await client.close();
    await serving;

    const serve = (server?: string) =>
      toolsServeCommand({
        entry: "src/entry.ts",
        cwd: folder,
        ...(server === undefined ? {} : { server }),
        transport: InMemoryTransport.createLinkedPair()[1],
      });
    await expect(serve()).rejects.toMatchObject({
      code: "tools.ambiguous-server",
      message:
        "src/entry.ts defines 3 tool servers (it defines acme/billing-tools, retail/billing-tools, acme/orders): name one with --server",
    });
    await expect(serve("billing-tools")).rejects.toMatchObject({ code: "tools.ambiguous-server" });
    await expect(serve("refunds")).rejects.toMatchObject({
      code: "tools.unknown-server",
      message: expect.stringContaining("src/entry.ts defines no tool server refunds (it defines") as unknown,
    });
    const none = project(
      `export const agent = defineAgent({ name: "a", model: { ref: "m" }, instructions: "Hi." });\n`,
    );
    await expect(
      toolsServeCommand({
        entry: "src/entry.ts",
        cwd: none,
        transport: InMemoryTransport.createLinkedPair()[1],
      }),
    ).rejects.toMatchObject({ code: "tools.no-server" });
  });
});
