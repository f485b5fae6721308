/**
 * The tools served as in a cluster, both ways the README gives: `freehold tools serve` (the command of
 * the MCPServer `freehold build --tool-image` writes, stdio behind the operator's bridge), and
 * src/serve.ts (MCP over streamable HTTP, answering only callers that send its token).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { describe, expect, it } from "vitest";
import { baseEnvironment, freehold, project } from "./freehold-cli.ts";

describe("freehold tools serve src/resources.ts --server billing-tools", () => {
  it("serves the tools over stdin and stdout", async () => {
    const folder = mkdtempSync(join(tmpdir(), "sdk-support-stdio-"));
    const client = new Client({ name: "stdio-test", version: "1.0.0" });
    try {
      await client.connect(
        new StdioClientTransport({
          command: freehold,
          args: ["tools", "serve", "src/resources.ts", "--server", "billing-tools"],
          cwd: project,
          env: {
            ...(baseEnvironment() as Record<string, string>),
            REFUNDS_FILE: join(folder, "refunds.jsonl"),
          },
          stderr: "inherit",
        }),
      );
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(["lookup_order", "get_invoice", "issue_refund"]);
      const invoice = await client.callTool({ name: "get_invoice", arguments: { invoice: "INV-1002" } });
      expect(invoice.structuredContent).toMatchObject({ invoice: "INV-1002", refunded: 0 });
    } finally {
      await client.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe("src/serve.ts", () => {
  it("serves the tools over HTTP to callers with the token", async () => {
    const folder = mkdtempSync(join(tmpdir(), "sdk-support-serve-"));
    const token = "a-token-of-thirty-two-characters";
    const child = spawn(process.execPath, ["src/serve.ts"], {
      cwd: project,
      env: {
        ...baseEnvironment(),
        TOOLS_TOKEN: token,
        PORT: "0",
        REFUNDS_FILE: join(folder, "refunds.jsonl"),
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<number | null>((resolve) => {
      child.once("exit", resolve);
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let printed = "";
        child.stdout.on("data", (chunk: Buffer) => {
          printed += chunk.toString();
          const found = /at (http:\/\/\S+)/.exec(printed);
          if (found?.[1] !== undefined) resolve(found[1]);
        });
        child.once("exit", (code) => {
          reject(new Error(`src/serve.ts exited with ${code}: ${printed}`));
        });
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);

      const refused = await fetch(url, { method: "POST", body: "{}" });
      expect(refused.status).toBe(401);

      const client = new Client({ name: "serve-test", version: "1.0.0" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(url), {
          requestInit: { headers: { Authorization: `Bearer ${token}` } },
        }),
      );
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(["lookup_order", "get_invoice", "issue_refund"]);
      const order = await client.callTool({ name: "lookup_order", arguments: { order: "A-1002" } });
      expect(order.structuredContent).toMatchObject({ order: "A-1002", invoice: "INV-1002" });
      await client.close();
    } finally {
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
