/**
 * The MCP client pool: one client per server, shared by every caller, with concurrent calls
 * multiplexed on it. Servers are connected in the background as soon as the pool is created and
 * reconnected with exponential backoff whenever they drop.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import { getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { defaultBackoff, type BackoffOptions } from "./backoff.ts";
import type { CallToolOptions } from "./call-tool-options.ts";
import type { McpConnection } from "./mcp-connection.ts";
import type { McpTool } from "./mcp-tool.ts";
import { ServerConnection, type McpServerStatus } from "./server-connection.ts";

/** Options of {@link createMcpPool}. */
export interface McpPoolOptions {
  /** How the pool introduces itself in `initialize`. Default: `{ name: "freehold", version: "0.1.0" }`. */
  readonly clientInfo?: { readonly name: string; readonly version: string };
  /** The timeout of a tool call when neither the call nor the connection sets one. Default: 60 s. */
  readonly defaultTimeoutMs?: number;
  /** How long connecting (spawn or HTTP, plus `initialize`) may take. Default: 30 s. */
  readonly connectTimeoutMs?: number;
  /** How reconnect attempts are spaced. Default: 500 ms doubling to 30 s, ±20 % jitter. */
  readonly reconnect?: BackoffOptions;
  /** How often an idle connection is pinged to notice a server that went away; 0 turns it off. Default: 30 s. */
  readonly pingIntervalMs?: number;
  /**
   * The variables every stdio server gets before its own `env`. Default: the MCP SDK's
   * `getDefaultEnvironment()`, which copies `HOME`, `LOGNAME`, `PATH`, `SHELL`, `TERM` and `USER`
   * from this process (on Windows: `APPDATA`, `HOMEDRIVE`, `HOMEPATH`, `LOCALAPPDATA`, `PATH`,
   * `PROCESSOR_ARCHITECTURE`, `SYSTEMDRIVE`, `SYSTEMROOT`, `TEMP`, `USERNAME`, `USERPROFILE`,
   * `PROGRAMFILES`), skipping values that start with `()` (exported shell functions). Pass `{}`
   * for a child that gets its `env` and nothing else.
   */
  readonly baseEnvironment?: Readonly<Record<string, string>>;
  /**
   * The fetch HTTP and SSE servers are reached with. Default: the global fetch. Workers pass the
   * models' `httpFetch` (over `node:http`, lighter than the global fetch).
   */
  readonly fetch?: typeof fetch;
  /** Called when a server's state, error or tool count changes. */
  readonly onStatusChange?: (server: string, status: McpServerStatus) => void;
  /** Called when a server's tool list is fetched and differs from the one before. */
  readonly onToolsChanged?: (server: string, tools: readonly McpTool[]) => void;
  /** Receives what stdio servers write to stderr. By default only the end of it is kept, for error messages. */
  readonly onStderr?: (server: string, text: string) => void;
}

/**
 * Pooled clients of the MCP servers an agent may use.
 *
 * Errors are `FreeholdError`s: `mcp.unavailable` (retryable; the server is down or the
 * connection broke), `mcp.timeout` (retryable), `mcp.protocol`, `mcp.cancelled`, `tool.not-found`
 * and `mcp.unknown-server`.
 */
export interface McpPool {
  /**
   * Every tool of a server, across all pages of `tools/list`; cached, and fetched again when the
   * server sends `notifications/tools/list_changed` or after a reconnect. Throws `mcp.unavailable`
   * when the server cannot be reached; the pool keeps trying in the background.
   */
  listTools(server: string): Promise<McpTool[]>;
  /**
   * Calls a tool and returns the server's whole result: `content` (text, images, resources…),
   * `structuredContent` and `isError`. A result with `isError: true` is returned, not thrown: the
   * model should see it. Thrown errors say "failed to call tool <name> on <server>: …".
   */
  callTool(
    server: string,
    name: string,
    args: Record<string, unknown>,
    options: CallToolOptions,
  ): Promise<CallToolResult>;
  /** The server's state now: `connecting`, `ready` or `down` (with the reason). */
  status(server: string): McpServerStatus;
  /** Disconnects every server: ends HTTP sessions and kills stdio process groups. */
  close(): Promise<void>;
}

/**
 * Creates a pool and starts connecting to every server in the background.
 *
 * @example
 * ```ts
 * const pool = createMcpPool({
 *   billing: { transport: "http", url: "http://billing-mcp:8080/mcp" },
 *   files: { transport: "stdio", command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "/data"] },
 * });
 * const tools = await pool.listTools("billing");
 * const result = await pool.callTool("billing", "get_invoice", { id: "INV-7" }, { idempotencyKey: "run-1/call-1" });
 * await pool.close();
 * ```
 */
export function createMcpPool(
  servers: Readonly<Record<string, McpConnection>>,
  options: McpPoolOptions = {},
): McpPool {
  const connections = new Map<string, ServerConnection>();
  for (const [name, connection] of Object.entries(servers)) {
    const settings = {
      clientInfo: options.clientInfo ?? { name: "freehold", version: "0.1.0" },
      defaultTimeoutMs: options.defaultTimeoutMs ?? 60_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
      reconnect: { ...defaultBackoff, ...options.reconnect },
      pingIntervalMs: options.pingIntervalMs ?? 30_000,
      baseEnvironment: options.baseEnvironment ?? getDefaultEnvironment(),
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...(options.onStatusChange === undefined
        ? {}
        : { onStatusChange: (status: McpServerStatus) => options.onStatusChange?.(name, status) }),
      ...(options.onToolsChanged === undefined
        ? {}
        : { onToolsChanged: (tools: readonly McpTool[]) => options.onToolsChanged?.(name, tools) }),
      ...(options.onStderr === undefined
        ? {}
        : { onStderr: (text: string) => options.onStderr?.(name, text) }),
    } satisfies ConstructorParameters<typeof ServerConnection>[2];
    connections.set(name, new ServerConnection(name, connection, settings));
  }
  for (const connection of connections.values()) connection.start();

  const connectionOf = (server: string): ServerConnection => {
    const connection = connections.get(server);
    if (connection === undefined) {
      const known = [...connections.keys()];
      throw new FreeholdError(
        "mcp.unknown-server",
        `the MCP pool has no server named "${server}"; it has ${known.length === 0 ? "none" : known.map((name) => `"${name}"`).join(", ")}`,
        { details: { server } },
      );
    }
    return connection;
  };

  return {
    listTools: async (server) => await connectionOf(server).listTools(),
    callTool: async (server, name, args, callOptions) =>
      await connectionOf(server).callTool(name, args, callOptions),
    status: (server) => connectionOf(server).status(),
    close: async () => {
      await Promise.all([...connections.values()].map((connection) => connection.close()));
    },
  };
}
