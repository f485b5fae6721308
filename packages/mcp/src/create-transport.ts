/**
 * Builds the SDK transport of one connection: streamable HTTP, legacy SSE, a stdio child in its
 * own process group, or what an in-process server gives.
 *
 * @module
 */
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { McpConnection } from "./mcp-connection.ts";
import { StdioProcessTransport } from "./stdio-process-transport.ts";

/** What the transport needs besides the connection. */
export interface TransportContext {
  /** The variables every stdio child gets before the connection's own `env`. */
  readonly baseEnvironment: Readonly<Record<string, string>>;
  /** The fetch of HTTP and SSE transports; default: the global fetch. */
  readonly fetch?: typeof fetch;
  /** Receives a stdio child's stderr. */
  readonly onStderr?: (text: string) => void;
}

/** A new, unstarted transport for `connection`. */
export function createTransport(
  connection: McpConnection,
  context: TransportContext,
): Transport | Promise<Transport> {
  switch (connection.transport) {
    case "http":
      return new StreamableHTTPClientTransport(new URL(connection.url), {
        requestInit: { headers: { ...connection.headers } },
        ...(context.fetch === undefined ? {} : { fetch: context.fetch }),
        // The pool reconnects whole sessions itself; the SDK only retries the standalone event stream.
        reconnectionOptions: {
          initialReconnectionDelay: 500,
          maxReconnectionDelay: 5_000,
          reconnectionDelayGrowFactor: 2,
          maxRetries: 2,
        },
      });
    case "sse":
      // The legacy transport is deprecated in the SDK, and still what many deployed servers speak.
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      return new SSEClientTransport(new URL(connection.url), {
        requestInit: { headers: { ...connection.headers } },
        ...(context.fetch === undefined ? {} : { fetch: context.fetch }),
      });
    case "in-process":
      return connection.connect();
    case "stdio":
      return new StdioProcessTransport({
        command: connection.command,
        ...(connection.args === undefined ? {} : { args: connection.args }),
        env: { ...context.baseEnvironment, ...connection.env },
        ...(connection.cwd === undefined ? {} : { cwd: connection.cwd }),
        ...(context.onStderr === undefined ? {} : { onStderr: context.onStderr }),
      });
  }
}
