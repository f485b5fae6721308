/**
 * The stdio bridge as the package exports it: {@link startStdioBridge} loads the bridge's module
 * (with the MCP SDK's server side and the HTTP adapter under it) when a bridge starts, so a process
 * that only connects to MCP servers, an agent worker, never loads it.
 *
 * @module
 */
import type { StdioBridge, StdioBridgeOptions } from "./stdio-bridge-options.ts";

/**
 * Serves a stdio MCP server over streamable HTTP, one child per session (see stdio-bridge.ts).
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
  const bridge = await import("./stdio-bridge.ts");
  return bridge.startStdioBridge(options);
}
