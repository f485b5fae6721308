/**
 * Tools served as an MCP server over streamable HTTP, for agents in a cluster (an `MCPServer` with
 * `spec.http.url`) and any other MCP client.
 *
 * Stateless: every POST gets a fresh MCP server and transport (the MCP SDK's stateless mode), so
 * replicas need no sticky sessions and nothing is kept between calls; GET and DELETE (server
 * streams and session ends) answer 405, as the MCP specification allows. `/healthz` answers while
 * the process runs and `/readyz` while the server takes calls (and the `ready` check passes); both
 * need no token, for probes.
 *
 * Secure by default: it listens on 127.0.0.1 unless told otherwise, and then serves only a loopback
 * `Host` (a page whose name was rebound to 127.0.0.1 gets 421). With `token`, every request to the
 * MCP endpoint must carry `Authorization: Bearer <token>` (compared in constant time; 401 with
 * `WWW-Authenticate: Bearer` otherwise), the convention of Freehold's MCP bridge; a server on any
 * other address must have one. Request bodies are bounded (`maxBodyBytes`, 413 past it), and so is
 * the size of one call's arguments (`maxInputElements`).
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { FreeholdError } from "@freehold/api";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { Tool } from "./define-tool.ts";
import { checkTools, createToolMcpServer, type ToolServerInfo } from "./tool-mcp-server.ts";

/** Options of {@link serveTools}. */
export interface ServeToolsOptions extends ToolServerInfo {
  /** The port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** The address to listen on. Default: 127.0.0.1. Any other address needs `token` (use 0.0.0.0 in a container). */
  readonly host?: string;
  /** The path of the MCP endpoint. Default: `/mcp`. */
  readonly path?: string;
  /**
   * The bearer token every request to the MCP endpoint must carry (`Authorization: Bearer <token>`),
   * at least 16 characters. Agents send it from a Secret: the MCPServer's `spec.http.headers`.
   */
  readonly token?: string;
  /** The largest request body, in bytes. Default: 4 MiB. */
  readonly maxBodyBytes?: number;
  /** Whether the tools' own dependencies are reachable (a database, an API); `/readyz` answers 503 while not. */
  readonly ready?: () => boolean | Promise<boolean>;
}

/** A running tool server. */
export interface ToolServer {
  /** The MCP endpoint, e.g. `http://127.0.0.1:41234/mcp`. */
  readonly url: string;
  /** Stops taking requests (`/readyz` answers 503 from now), ends open calls and stops listening. */
  close(): Promise<void>;
}

/** The shortest token {@link serveTools} accepts. */
export const minimumToolServerTokenLength = 16;

const defaultMaxBodyBytes = 4 * 1024 * 1024;

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** Whether an `Authorization` header carries the token; hashed first, so it takes the same time whatever was sent. */
function authorized(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? "");
  return timingSafeEqual(sha256(match?.[1] ?? ""), expected) && match !== null;
}

/** True for 127.0.0.0/8, ::1 and localhost. */
function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "localhost" || bare === "::1" || /^127(\.\d{1,3}){3}$/.test(bare);
}

function ignore(): void {
  // Deliberately empty: the call is over, or the client went away.
}

/**
 * Serves tools as an MCP server over streamable HTTP.
 *
 * @throws FreeholdError `tool.invalid` for no tools or two of one name; `tool-server.options-invalid`
 *   for a short token, or a non-loopback `host` without one.
 * @example
 * ```ts
 * const server = await serveTools([getInvoice, refund], {
 *   host: "0.0.0.0", port: 8080, token: process.env.TOOLS_TOKEN,
 * });
 * // an MCPServer with spec.http.url http://billing-tools:8080/mcp reaches it
 * process.on("SIGTERM", () => void server.close());
 * ```
 */
export async function serveTools(
  tools: readonly Tool[],
  options: ServeToolsOptions = {},
): Promise<ToolServer> {
  checkTools(tools);
  const host = options.host ?? "127.0.0.1";
  const path = options.path ?? "/mcp";
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes;
  if (options.token !== undefined && options.token.length < minimumToolServerTokenLength) {
    throw new FreeholdError(
      "tool-server.options-invalid",
      `the tool server's token must have at least ${minimumToolServerTokenLength} characters; generate one, e.g. with openssl rand -base64 32`,
    );
  }
  const loopback = isLoopbackHost(host);
  if (!loopback && options.token === undefined) {
    throw new FreeholdError(
      "tool-server.options-invalid",
      `serveTools would listen on ${host}, reachable from other machines, without a token: pass token ` +
        "(at least 16 characters) and give agents the header Authorization: Bearer <token> from a Secret " +
        "(the MCPServer's spec.http.headers), or listen on 127.0.0.1",
      { details: { host } },
    );
  }
  const expectedToken = options.token === undefined ? undefined : sha256(options.token);
  const open = new Set<{ close(): Promise<void> }>();
  let closing = false;
  let port = 0;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (loopback) {
      const allowed = [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`];
      if (!allowed.includes((request.headers.host ?? "").toLowerCase())) {
        sendError(response, 421, -32000, `Misdirected: this server serves only Host ${allowed.join(", ")}`);
        request.resume();
        return;
      }
    }
    const url = new URL(request.url ?? "/", "http://tools");
    if (url.pathname === "/healthz") {
      response.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    if (url.pathname === "/readyz") {
      const ready = !closing && (await isReady(options.ready));
      response
        .writeHead(ready ? 200 : 503, { "content-type": "text/plain" })
        .end(ready ? "ok\n" : "not ready\n");
      return;
    }
    if (expectedToken !== undefined && !authorized(request.headers.authorization, expectedToken)) {
      const sent = request.headers.authorization !== undefined;
      response.setHeader(
        "www-authenticate",
        sent ? 'Bearer realm="freehold-tools", error="invalid_token"' : 'Bearer realm="freehold-tools"',
      );
      sendError(response, 401, -32001, "Unauthorized: send Authorization: Bearer <the tool server's token>");
      request.resume();
      return;
    }
    if (url.pathname !== path) {
      sendError(response, 404, -32000, `Not Found: the MCP endpoint is ${path}`);
      request.resume();
      return;
    }
    if (request.method !== "POST") {
      response.setHeader("allow", "POST");
      sendError(response, 405, -32000, "Method Not Allowed: this stateless server takes POST only");
      request.resume();
      return;
    }
    if (closing) {
      sendError(response, 503, -32000, "Service Unavailable: the server is shutting down");
      request.resume();
      return;
    }
    let body: unknown;
    try {
      body = await readJson(request, maxBodyBytes);
    } catch (error) {
      if (error instanceof FreeholdError) {
        response.setHeader("connection", "close");
        sendError(response, 413, -32000, `Payload Too Large: ${error.message}`);
        request.resume();
      } else {
        sendError(
          response,
          400,
          -32700,
          `Parse error: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      return;
    }
    const server = createToolMcpServer(tools, options);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    const call = {
      close: async () => {
        open.delete(call);
        await transport.close().catch(ignore);
        await server.close().catch(ignore);
      },
    };
    open.add(call);
    response.on("close", () => {
      void call.close();
    });
    await server.connect(transport);
    await transport.handleRequest(request, response, body);
  };

  const http = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        sendError(
          response,
          500,
          -32603,
          `Internal error: ${error instanceof Error ? error.message : String(error)}`,
        );
      } else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port ?? 0, host, () => {
      http.off("error", reject);
      resolve();
    });
  });
  const address = http.address() as AddressInfo;
  port = address.port;
  const wildcard = address.address === "0.0.0.0" || address.address === "::";
  const urlHost = wildcard
    ? "127.0.0.1"
    : address.family === "IPv6"
      ? `[${address.address}]`
      : address.address;

  return {
    url: `http://${urlHost}:${port}${path}`,
    async close() {
      closing = true;
      const calls = [...open].map((call) => call.close());
      const stopped = new Promise<void>((resolve) => {
        http.close(() => {
          resolve();
        });
      });
      http.closeAllConnections();
      await Promise.all([...calls, stopped]);
    },
  };
}

/** Whether the `ready` check passes; one that throws or rejects does not. */
async function isReady(check: (() => boolean | Promise<boolean>) | undefined): Promise<boolean> {
  try {
    return (await check?.()) ?? true;
  } catch {
    return false;
  }
}

function sendError(response: ServerResponse, status: number, code: number, message: string): void {
  response
    .writeHead(status, { "content-type": "application/json" })
    .end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }));
}

/** The body as JSON; past `maxBytes` it rejects at once and lets the rest drain. */
async function readJson(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  const tooLarge = () =>
    new FreeholdError("tool-server.body-too-large", `the request body is larger than ${maxBytes} bytes`);
  if (Number(request.headers["content-length"] ?? 0) > maxBytes) throw tooLarge();
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      if (size > maxBytes) return;
      size += chunk.length;
      if (size > maxBytes) {
        chunks.length = 0;
        reject(tooLarge());
      } else chunks.push(chunk);
    });
    request.once("end", () => {
      resolve(Buffer.concat(chunks));
    });
    request.once("error", reject);
  });
  return JSON.parse(body.toString("utf8")) as unknown;
}
