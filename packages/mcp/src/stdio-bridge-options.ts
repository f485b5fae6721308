/**
 * What the stdio bridge's two modules share: its options, what a running bridge offers, and the
 * default and the limit they are checked against. stdio-bridge-entry.ts (loaded with the package)
 * and stdio-bridge.ts (loaded when a bridge starts) both import them from here, so neither imports
 * the other but through the entry's `import()` of the bridge.
 *
 * @module
 */

/** The default of {@link StdioBridgeOptions.maxSessions}. */
export const defaultBridgeMaxSessions = 32;

/** The shortest token `startStdioBridge` accepts ({@link StdioBridgeOptions.token}). */
export const minimumBridgeTokenLength = 16;

/** Options of `startStdioBridge` (stdio-bridge-entry.ts). */
export interface StdioBridgeOptions {
  /** The stdio server's program. */
  readonly command: string;
  readonly args?: readonly string[];
  /** The child's variables besides `baseEnvironment`; nothing else is inherited. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /**
   * The bearer token every request must carry (`Authorization: Bearer <token>`): at least 16
   * characters. In a cluster the operator makes one per MCPServer (a Secret) and gives it to the
   * bridge and to the workers of the agents that use it.
   */
  readonly token: string;
  /** How many sessions (children) may run at once; a new session past it gets 503. Default: 32. */
  readonly maxSessions?: number;
  /** The address to listen on. Default: 127.0.0.1; use 0.0.0.0 in a container. */
  readonly host?: string;
  /** The port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** The path of the MCP endpoint. Default: `/mcp`. `/healthz` answers 200 for probes. */
  readonly path?: string;
  /** How long a session may go without a message before its child is stopped. Default: 10 minutes. */
  readonly sessionIdleTimeoutMs?: number;
  /** Variables every child gets before `env`. Default: the MCP SDK's `getDefaultEnvironment()` (see `McpPoolOptions`). */
  readonly baseEnvironment?: Readonly<Record<string, string>>;
  /** Receives what children write to stderr, with their session id. Default: dropped. */
  readonly onStderr?: (sessionId: string, text: string) => void;
}

/** A running bridge. */
export interface StdioBridge {
  /** The streamable HTTP endpoint, e.g. `http://127.0.0.1:41234/mcp`. */
  readonly url: string;
  /** How many sessions (and children) are open. */
  sessions(): number;
  /** Stops listening and kills every child's process group. */
  close(): Promise<void>;
}
