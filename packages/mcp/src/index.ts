/**
 * `@freehold/mcp`: the tool broker of the platform. A pool of MCP clients (streamable HTTP, legacy
 * SSE, stdio) with tool catalogs, timeouts, cancellation and reconnects; per-agent allow-lists; the
 * connection of an `MCPServer` spec; and the stdio → streamable HTTP bridge.
 *
 * @module
 */
export { backoffDelay, defaultBackoff, type BackoffOptions } from "./backoff.ts";
export { idempotencyKeyMeta, type CallToolOptions, type ToolCallProgress } from "./call-tool-options.ts";
export { connectionFromSpec } from "./connection-from-spec.ts";
export {
  describeConnection,
  type HttpMcpConnection,
  type InProcessMcpConnection,
  type McpConnection,
  type SseMcpConnection,
  type StdioMcpConnection,
} from "./mcp-connection.ts";
export { mcpErrorCodes, type McpErrorCode } from "./mcp-failure.ts";
export { createMcpPool, type McpPool, type McpPoolOptions } from "./mcp-pool.ts";
export type { McpTool } from "./mcp-tool.ts";
export { prepareMcpSchemas } from "./prepare-schemas.ts";
export type { McpServerState, McpServerStatus } from "./server-connection.ts";
// The bridge's module loads when a bridge starts (stdio-bridge-entry.ts): workers never load it.
export { startStdioBridge } from "./stdio-bridge-entry.ts";
export {
  defaultBridgeMaxSessions,
  minimumBridgeTokenLength,
  type StdioBridge,
  type StdioBridgeOptions,
} from "./stdio-bridge-options.ts";
export { createToolBroker, type ToolBroker, type ToolGrant } from "./tool-broker.ts";
export type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
