/**
 * The stdio → streamable HTTP bridge: serves a stdio MCP server over streamable HTTP, so that a
 * stdio `MCPServer` can run in its own Deployment and agents reach it by URL
 * (`freehold mcp bridge -- <command>`).
 *
 * One child per HTTP session. A stdio server is written for exactly one client: it keeps that
 * client's state (open browser pages, working files, subscriptions, request ids) in its process.
 * Sharing one child between sessions would mix the state of unrelated agents and runs, and would
 * need every request id, progress token and notification rewritten. So each `initialize` spawns a
 * child in its own process group; the session ends, and the group is killed, when the client sends
 * DELETE (the pool does on close), when the child exits (the client then gets 404 and starts a new
 * session, as the MCP spec asks), after `sessionIdleTimeoutMs` without messages and no request in
 * flight, or when the bridge closes. The cost is one process per connected client; agent workers
 * hold one pooled session each.
 *
 * Nothing on the wire is trusted because of where it comes from: every request to the MCP endpoint
 * must carry `Authorization: Bearer <token>` (compared in constant time; 401 with
 * `WWW-Authenticate: Bearer` otherwise), so a pod that reaches the bridge cannot call a tool around
 * an agent's allow-list and approvals; and at most `maxSessions` sessions (children) run at once,
 * a new one past that gets 503 with `Retry-After`. `/healthz` needs no token (probes).
 *
 * @module
 */
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest, type JSONRPCMessage, type RequestId } from "@modelcontextprotocol/sdk/types.js";
import { FreeholdError } from "@freehold/api";
import { describeError } from "./mcp-failure.ts";
import {
  defaultBridgeMaxSessions,
  minimumBridgeTokenLength,
  type StdioBridge,
  type StdioBridgeOptions,
} from "./stdio-bridge-options.ts";
import { StdioProcessTransport } from "./stdio-process-transport.ts";

interface BridgeSession {
  lastActivity: number;
  readonly pending: Set<RequestId>;
  close(): Promise<void>;
  handle(request: IncomingMessage, response: ServerResponse, body?: unknown): Promise<void>;
}

const maxBodyBytes = 4 * 1024 * 1024;

/** How long a client refused for the session cap is asked to wait, in seconds. */
const retryAfterSeconds = 5;

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * Whether an `Authorization` header carries the token. Both sides are hashed first, so the
 * comparison takes the same time whatever the length or content of what was sent.
 */
function authorized(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? "");
  return timingSafeEqual(sha256(match?.[1] ?? ""), expected) && match !== null;
}

function ignore(): void {
  // Deliberately empty: the session is being torn down, or the client went away.
}

/**
 * Serves a stdio MCP server over streamable HTTP, one child per session. The package exports it
 * through stdio-bridge-entry.ts, which loads this module on first use.
 *
 * @example
 * ```ts
 * const bridge = await startStdioBridge({ command: "npx", args: ["-y", "@modelcontextprotocol/server-memory"], token, host: "0.0.0.0", port: 8080 });
 * const pool = createMcpPool({ memory: { transport: "http", url: bridge.url, headers: { Authorization: `Bearer ${token}` } } });
 * // …
 * await bridge.close();
 * ```
 */
export async function startStdioBridge(options: StdioBridgeOptions): Promise<StdioBridge> {
  if (options.token.length < minimumBridgeTokenLength) {
    throw new FreeholdError(
      "mcp.bridge-token-invalid",
      `the bridge's token must have at least ${minimumBridgeTokenLength} characters; generate one, e.g. with openssl rand -base64 32`,
    );
  }
  const maxSessions = options.maxSessions ?? defaultBridgeMaxSessions;
  if (!Number.isInteger(maxSessions) || maxSessions < 1) {
    throw new FreeholdError(
      "mcp.bridge-options-invalid",
      `maxSessions must be a whole number of at least 1, not ${maxSessions}`,
    );
  }
  const expectedToken = sha256(options.token);
  const path = options.path ?? "/mcp";
  const idleTimeoutMs = options.sessionIdleTimeoutMs ?? 600_000;
  const environment = { ...(options.baseEnvironment ?? getDefaultEnvironment()), ...options.env };
  const sessions = new Map<string, BridgeSession>();
  const starting = new Set<BridgeSession>();

  const openSession = async (): Promise<BridgeSession> => {
    let sessionId = "";
    let closed = false;
    const progressRoutes = new Map<string | number, RequestId>();
    const child = new StdioProcessTransport({
      command: options.command,
      ...(options.args === undefined ? {} : { args: options.args }),
      env: environment,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      onStderr: (text) => options.onStderr?.(sessionId, text),
    });
    const http = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessionId = id;
        starting.delete(session);
        sessions.set(id, session);
      },
      onsessionclosed: () => {
        void session.close();
      },
    });
    const session: BridgeSession = {
      lastActivity: Date.now(),
      pending: new Set(),
      async close() {
        if (closed) return;
        closed = true;
        starting.delete(session);
        sessions.delete(sessionId);
        await http.close().catch(ignore);
        await child.close();
      },
      handle: async (request, response, body) => {
        session.lastActivity = Date.now();
        await http.handleRequest(request, response, body);
      },
    };

    http.onmessage = (message: JSONRPCMessage) => {
      session.lastActivity = Date.now();
      if ("method" in message && "id" in message) {
        session.pending.add(message.id);
        const token = message.params?._meta?.progressToken;
        if (token !== undefined) progressRoutes.set(token, message.id);
      }
      child.send(message).catch((error: unknown) => {
        if (!("method" in message && "id" in message)) return;
        session.pending.delete(message.id);
        const reply: JSONRPCMessage = {
          jsonrpc: "2.0",
          id: message.id,
          error: { code: -32603, message: `the stdio server is not running: ${describeError(error)}` },
        };
        http.send(reply).catch(ignore);
      });
    };
    child.onmessage = (message: JSONRPCMessage) => {
      session.lastActivity = Date.now();
      let relatedRequestId: RequestId | undefined;
      if ("method" in message && !("id" in message) && message.method === "notifications/progress") {
        const token = message.params?.progressToken;
        if (typeof token === "string" || typeof token === "number")
          relatedRequestId = progressRoutes.get(token);
      } else if (!("method" in message) && "id" in message && message.id !== undefined) {
        session.pending.delete(message.id);
        for (const [token, id] of progressRoutes) if (id === message.id) progressRoutes.delete(token);
      }
      // Responses find their HTTP stream by id; progress follows its request; the rest goes to the GET stream.
      http.send(message, relatedRequestId === undefined ? undefined : { relatedRequestId }).catch(ignore);
    };
    child.onclose = () => {
      void session.close();
    };
    http.onclose = () => {
      void session.close();
    };
    starting.add(session);
    try {
      await child.start();
      await http.start();
    } catch (error) {
      await session.close();
      throw error;
    }
    return session;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? "/", "http://bridge");
    if (url.pathname === "/healthz") {
      response.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    if (!authorized(request.headers.authorization, expectedToken)) {
      const sent = request.headers.authorization !== undefined;
      response.setHeader(
        "www-authenticate",
        sent
          ? 'Bearer realm="freehold-mcp-bridge", error="invalid_token"'
          : 'Bearer realm="freehold-mcp-bridge"',
      );
      sendError(response, 401, -32001, "Unauthorized: send Authorization: Bearer <the bridge's token>");
      request.resume();
      return;
    }
    if (url.pathname !== path) {
      sendError(response, 404, -32000, `Not Found: the MCP endpoint is ${path}`);
      return;
    }
    const header = request.headers["mcp-session-id"];
    const sessionId = Array.isArray(header) ? header[0] : header;
    if (sessionId !== undefined) {
      const session = sessions.get(sessionId);
      if (session === undefined) {
        sendError(response, 404, -32001, "Session not found");
        return;
      }
      await session.handle(request, response);
      return;
    }
    if (request.method !== "POST") {
      sendError(response, 400, -32000, "Bad Request: no Mcp-Session-Id; POST an initialize request first");
      return;
    }
    let body: unknown;
    try {
      body = await readJson(request);
    } catch (error) {
      sendError(response, 400, -32700, `Parse error: ${describeError(error)}`);
      return;
    }
    if (!isInitializeRequest(body)) {
      sendError(response, 400, -32000, "Bad Request: no Mcp-Session-Id; POST an initialize request first");
      return;
    }
    // Checked and taken with no await in between: openSession counts the session before it yields.
    if (sessions.size + starting.size >= maxSessions) {
      response.setHeader("retry-after", String(retryAfterSeconds));
      sendError(
        response,
        503,
        -32000,
        `Service Unavailable: the bridge already runs ${maxSessions} sessions; retry after ${retryAfterSeconds} s`,
      );
      return;
    }
    let session: BridgeSession;
    try {
      session = await openSession();
    } catch (error) {
      sendError(response, 502, -32603, `Bad Gateway: ${describeError(error)}`);
      return;
    }
    await session.handle(request, response, body);
  };

  // Not imported as a module: that loads undici (see models' http-response.ts).
  const server = process.getBuiltinModule("node:http").createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendError(response, 500, -32603, `Internal error: ${describeError(error)}`);
      else response.end();
    });
  });
  const reaper = setInterval(
    () => {
      const now = Date.now();
      for (const session of sessions.values()) {
        if (session.pending.size === 0 && now - session.lastActivity > idleTimeoutMs) void session.close();
      }
    },
    Math.max(10, Math.min(60_000, idleTimeoutMs / 2)),
  ).unref();

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const wildcard = address.address === "0.0.0.0" || address.address === "::";
  const host = wildcard ? "127.0.0.1" : address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}${path}`,
    sessions: () => sessions.size,
    async close() {
      clearInterval(reaper);
      const closing = [...sessions.values(), ...starting].map((session) => session.close());
      server.closeAllConnections();
      await Promise.all([
        ...closing,
        new Promise<void>((resolve) => {
          server.close(() => {
            resolve();
          });
        }),
      ]);
    },
  };
}

function sendError(response: ServerResponse, status: number, code: number, message: string): void {
  response
    .writeHead(status, { "content-type": "application/json" })
    .end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }));
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new Error(`the body is larger than ${maxBodyBytes} bytes`);
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
}
