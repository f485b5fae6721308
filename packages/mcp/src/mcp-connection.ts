/**
 * How the pool reaches one MCP server: streamable HTTP, legacy HTTP+SSE, a stdio command it
 * spawns itself, or a server in the same process. Built by hand or from an `MCPServer` spec with
 * `connectionFromSpec`.
 *
 * @module
 */
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";

/**
 * A server reached over streamable HTTP (MCP 2025-03-26 and later).
 *
 * @example
 * ```ts
 * const billing: McpConnection = { transport: "http", url: "http://billing-mcp:8080/mcp", headers: { Authorization: "Bearer …" } };
 * ```
 */
export interface HttpMcpConnection {
  readonly transport: "http";
  readonly url: string;
  /** Sent with every request; never written to messages or logs. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The default timeout of one tool call on this server, in milliseconds. */
  readonly timeoutMs?: number;
}

/** A server reached over the legacy HTTP+SSE transport (MCP 2024-11-05). */
export interface SseMcpConnection {
  readonly transport: "sse";
  readonly url: string;
  /** Sent with the event stream request and every message; never written to messages or logs. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The default timeout of one tool call on this server, in milliseconds. */
  readonly timeoutMs?: number;
}

/**
 * A server the pool spawns and speaks to over stdin and stdout. The child gets only `env` plus the
 * pool's base environment (see `McpPoolOptions.baseEnvironment`), and runs in its own process group
 * so that closing the pool kills it with everything it spawned.
 *
 * @example
 * ```ts
 * const files: McpConnection = { transport: "stdio", command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "/data"] };
 * ```
 */
export interface StdioMcpConnection {
  readonly transport: "stdio";
  readonly command: string;
  readonly args?: readonly string[];
  /** The only variables the child gets besides the base environment; never written to messages or logs. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** The default timeout of one tool call on this server, in milliseconds. */
  readonly timeoutMs?: number;
}

/**
 * A server in this very process (tools written in TypeScript, under `freehold dev` and in tests):
 * `connect` gives a new client transport to it for each session, e.g. one end of the MCP SDK's
 * in-memory pair.
 *
 * @example
 * ```ts
 * const tools: McpConnection = { transport: "in-process", name: "billing-tools", connect: () => connectInMemory([getInvoice]) };
 * ```
 */
export interface InProcessMcpConnection {
  readonly transport: "in-process";
  /** Names the server in messages. */
  readonly name: string;
  readonly connect: () => Transport | Promise<Transport>;
  /** The default timeout of one tool call on this server, in milliseconds. */
  readonly timeoutMs?: number;
}

/** How to reach one MCP server. */
export type McpConnection =
  HttpMcpConnection | SseMcpConnection | StdioMcpConnection | InProcessMcpConnection;

/**
 * Names a connection for people: the URL, or the command line. Headers and environment values are
 * left out because they may hold credentials.
 *
 * @example
 * ```ts
 * describeConnection({ transport: "stdio", command: "node", args: ["server.js", "--stdio"] }); // "node server.js --stdio"
 * ```
 */
export function describeConnection(connection: McpConnection): string {
  if (connection.transport === "in-process") return `${connection.name} (in this process)`;
  if (connection.transport !== "stdio") return connection.url;
  return [connection.command, ...(connection.args ?? [])]
    .map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : JSON.stringify(part)))
    .join(" ");
}
