/**
 * `serveTools` serving real MCP over streamable HTTP: to the MCP SDK's own client, and to Freehold's
 * pool and broker reaching it the way a worker does (an MCPServer spec with the URL and the token
 * header), allow-list included. Probes, the token, body and Host bounds, and close, over real HTTP.
 */
import { request as httpRequest } from "node:http";
import { connectionFromSpec, createMcpPool, createToolBroker, type McpPool } from "@freehold/mcp";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { defineMCPServer, defineTool, serveTools, type ToolServer } from "../src/index.ts";

const token = "tools-token-0123456789abcdef";

const keys: string[] = [];
const getInvoice = defineTool({
  name: "get_invoice",
  description: "The invoice with the given number.",
  input: z.object({ number: z.string().regex(/^INV-\d+$/, "must look like INV-7") }),
  output: z.object({ number: z.string(), total: z.number() }),
  annotations: { readOnlyHint: true },
  run: ({ number }, context) => {
    if (context.idempotencyKey !== undefined) keys.push(context.idempotencyKey);
    return { number, total: Number(number.slice(4)) * 10 };
  },
});
const refund = defineTool({
  name: "refund",
  description: "Refunds an invoice.",
  input: z.object({ number: z.string() }),
  annotations: { destructiveHint: true },
  run: ({ number }) => `refunded ${number}`,
});
const broken = defineTool({
  name: "broken",
  description: "Breaks its output schema.",
  input: z.object({}),
  output: z.object({ total: z.number() }),
  run: () => ({}) as { total: number },
});

/** A request with any headers (fetch will not send another Host). */
async function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return await new Promise((resolve, reject) => {
    const sent = httpRequest(
      url,
      { method: options.method ?? "GET", headers: options.headers ?? {} },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => {
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
        });
      },
    );
    sent.on("error", reject);
    sent.end(options.body);
  });
}

const initialize = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});
const mcpHeaders = { "content-type": "application/json", accept: "application/json, text/event-stream" };

describe("serveTools", () => {
  let server: ToolServer;
  let ready: boolean | (() => boolean) = true;

  beforeAll(async () => {
    server = await serveTools([getInvoice, refund, broken], {
      token,
      ready: () => (typeof ready === "function" ? ready() : ready),
    });
  });
  afterAll(async () => {
    await server.close();
  });

  async function connectClient(): Promise<Client> {
    const client = new Client({ name: "test", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(server.url), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      }),
    );
    return client;
  }

  it("serves MCP to the MCP SDK's client: tools with their schemas and annotations, calls, errors", async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const client = await connectClient();
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(["get_invoice", "refund", "broken"]);
      expect(tools[0]).toMatchObject({
        inputSchema: { type: "object", properties: { number: { type: "string" } }, required: ["number"] },
        outputSchema: {
          type: "object",
          properties: { number: { type: "string" }, total: { type: "number" } },
        },
        annotations: { readOnlyHint: true },
      });
      expect(tools[1]?.annotations).toEqual({ destructiveHint: true });

      const invoice = await client.callTool({ name: "get_invoice", arguments: { number: "INV-7" } });
      expect(invoice.structuredContent).toEqual({ number: "INV-7", total: 70 });

      const bad = await client.callTool({ name: "get_invoice", arguments: { number: 7 } });
      expect(bad.isError).toBe(true);
      expect(bad.content).toEqual([
        {
          type: "text",
          text: "MCP error -32602: Input validation error: Invalid arguments for tool get_invoice: Invalid input: expected string, received number at number",
        },
      ]);

      const wrongOutput = await client.callTool({ name: "broken", arguments: {} });
      expect(wrongOutput).toMatchObject({
        isError: true,
        content: [
          {
            type: "text",
            text: "tool broken returned output that does not match its output schema: total: Invalid input: expected number, received undefined",
          },
        ],
      });
      // Still serving after the errors.
      expect((await client.callTool({ name: "refund", arguments: { number: "INV-7" } })).content).toEqual([
        { type: "text", text: "refunded INV-7" },
      ]);
    } finally {
      await client.close();
    }
  });

  it("serves Freehold's pool and broker from an MCPServer spec, enforcing the allow-list", async () => {
    const mcpServer = defineMCPServer({
      name: "billing-tools",
      http: { url: server.url, headers: [{ name: "Authorization", value: `Bearer ${token}` }] },
    });
    const pool: McpPool = createMcpPool({
      "billing-tools": await connectionFromSpec(mcpServer.spec, () =>
        Promise.reject(new Error("no secrets")),
      ),
    });
    try {
      const broker = createToolBroker(pool, [{ server: "billing-tools", allow: ["get_invoice"] }]);
      expect(await broker.listTools()).toEqual([
        expect.objectContaining({
          server: "billing-tools",
          name: "get_invoice",
          annotations: { readOnlyHint: true },
        }),
      ]);
      const result = await broker.callTool(
        "billing-tools",
        "get_invoice",
        { number: "INV-12" },
        { idempotencyKey: "run-1/call-1" },
      );
      expect(result.structuredContent).toEqual({ number: "INV-12", total: 120 });
      expect(keys).toContain("run-1/call-1");
      await expect(
        broker.callTool("billing-tools", "refund", { number: "INV-12" }, { idempotencyKey: "run-1/call-2" }),
      ).rejects.toMatchObject({
        code: "tool.not-allowed",
        details: { server: "billing-tools", tool: "refund" },
      });
    } finally {
      await pool.close();
    }
  });

  it("answers probes without the token, and refuses MCP without it", async () => {
    const base = server.url.replace(/\/mcp$/, "");
    expect(await raw(`${base}/healthz`)).toMatchObject({ status: 200, body: "ok\n" });
    expect(await raw(`${base}/readyz`)).toMatchObject({ status: 200, body: "ok\n" });
    ready = false;
    expect(await raw(`${base}/readyz`)).toMatchObject({ status: 503 });
    ready = () => {
      throw new Error("the database is down");
    };
    expect(await raw(`${base}/readyz`)).toMatchObject({ status: 503, body: "not ready\n" });
    ready = true;

    const anonymous = await raw(server.url, { method: "POST", headers: mcpHeaders, body: initialize });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers["www-authenticate"]).toBe('Bearer realm="freehold-tools"');
    const wrong = await raw(server.url, {
      method: "POST",
      headers: { ...mcpHeaders, authorization: "Bearer not-the-token-at-all" },
      body: initialize,
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers["www-authenticate"]).toContain('error="invalid_token"');
    const right = await raw(server.url, {
      method: "POST",
      headers: { ...mcpHeaders, authorization: `Bearer ${token}` },
      body: initialize,
    });
    expect(right.status).toBe(200);
  });

  it("bounds what it takes: POST only, body size, a loopback Host", async () => {
    const authorization = `Bearer ${token}`;
    const get = await raw(server.url, { headers: { authorization, accept: "text/event-stream" } });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe("POST");
    const big = await raw(server.url, {
      method: "POST",
      headers: { ...mcpHeaders, authorization },
      body: JSON.stringify({ padding: "x".repeat(5 * 1024 * 1024) }),
    });
    expect(big.status).toBe(413);
    const notJson = await raw(server.url, {
      method: "POST",
      headers: { ...mcpHeaders, authorization },
      body: "{",
    });
    expect(notJson.status).toBe(400);
    const rebound = await raw(server.url, {
      method: "POST",
      headers: { ...mcpHeaders, authorization, host: `evil.example:${new URL(server.url).port}` },
      body: initialize,
    });
    expect(rebound.status).toBe(421);
    const other = await raw(server.url.replace(/\/mcp$/, "/other"), { headers: { authorization } });
    expect(other.status).toBe(404);
  });

  it("needs a token to listen beyond loopback, and a long one", async () => {
    const refused = serveTools([refund], { host: "0.0.0.0" });
    await expect(refused).rejects.toThrow(
      "serveTools would listen on 0.0.0.0, reachable from other machines, without a token",
    );
    await expect(refused).rejects.toMatchObject({ code: "tool-server.options-invalid" });
    await expect(serveTools([refund], { token: "short" })).rejects.toMatchObject({
      code: "tool-server.options-invalid",
    });
    const open = await serveTools([refund], { host: "0.0.0.0", token });
    try {
      const client = new Client({ name: "test", version: "1.0.0" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(open.url), {
          requestInit: { headers: { Authorization: `Bearer ${token}` } },
        }),
      );
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(["refund"]);
      await client.close();
    } finally {
      await open.close();
    }
  });

  it("close ends a call in flight and stops listening", async () => {
    let started: () => void = () => undefined;
    let aborted = false;
    const running = new Promise<void>((resolve) => (started = resolve));
    const slow = defineTool({
      name: "slow",
      description: "Waits until cancelled.",
      input: z.object({}),
      run: async (_input, context) => {
        started();
        await new Promise((resolve) => {
          context.signal.addEventListener("abort", resolve);
        });
        aborted = true;
        return "cancelled";
      },
    });
    const own = await serveTools([slow]);
    const client = new Client({ name: "test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(own.url)));
    const call = client.callTool({ name: "slow", arguments: {} });
    await running;
    await own.close();
    await expect(call).rejects.toThrow();
    // The tool's signal is aborted: its work does not outlive the server.
    await vi.waitFor(() => {
      expect(aborted).toBe(true);
    });
    await expect(raw(own.url.replace(/\/mcp$/, "/healthz"))).rejects.toThrow(/ECONNREFUSED/);
    await client.close();
  });
});
