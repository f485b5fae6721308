/**
 * `freehold tools serve <entry> [--server <name>]`: serves the tools of a tool server an entry module
 * defines (`defineToolServer` of `@freehold/sdk`) over standard input and output, as a stdio MCP
 * server. It is the command of the MCPServer that `freehold build --tool-image` writes: the
 * operator runs it in that image behind `freehold mcp bridge`, one process per MCP session.
 *
 * Standard output carries only MCP messages: what the entry module or its tools print with
 * `console.log`, `console.info` or `console.debug` goes to standard error, where the bridge logs it.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { loadDefinitions, toolServersOf, type Found, type FoundToolServer } from "./build.ts";

/** Options of {@link toolsServeCommand}. */
export interface ToolsServeOptions {
  /** The entry module, relative to `cwd`. */
  readonly entry: string;
  readonly cwd: string;
  /** The tool server: `name` or `namespace/name`; may be left out when the entry defines one. */
  readonly server?: string;
  /** Where MCP messages are read and written. Default: this process's standard input and output. */
  readonly transport?: Transport;
}

/** `namespace/name`, or the name alone when the definition names no namespace. */
export function toolServerName(server: Found): string {
  const { name, namespace } = server.resource.metadata;
  return namespace === undefined ? name : `${namespace}/${name}`;
}

/**
 * The one tool server `wanted` names (`name` or `namespace/name`), or the only one.
 *
 * @throws FreeholdError `tools.no-server`, `tools.unknown-server` or `tools.ambiguous-server`, each
 *   naming the servers the entry defines.
 */
export function pickToolServer(
  servers: readonly FoundToolServer[],
  wanted: string | undefined,
  entry: string,
): FoundToolServer {
  const names = servers.map(toolServerName);
  const defined = names.length === 0 ? "" : ` (it defines ${names.join(", ")})`;
  if (servers.length === 0) {
    throw new FreeholdError(
      "tools.no-server",
      `${entry} defines no tool server: export what defineToolServer of @freehold/sdk returns`,
      { details: { entry } },
    );
  }
  const matches =
    wanted === undefined
      ? servers
      : servers.filter((server) =>
          wanted.includes("/") ? toolServerName(server) === wanted : server.resource.metadata.name === wanted,
        );
  const [match] = matches;
  if (match === undefined) {
    throw new FreeholdError(
      "tools.unknown-server",
      `${entry} defines no tool server ${wanted ?? ""}${defined}`,
      {
        details: { entry, server: wanted, servers: names },
      },
    );
  }
  if (matches.length > 1) {
    throw new FreeholdError(
      "tools.ambiguous-server",
      wanted === undefined
        ? `${entry} defines ${matches.length} tool servers${defined}: name one with --server`
        : `${entry} defines ${matches.length} tool servers named ${wanted}${defined}: name one as namespace/name`,
      { details: { entry, servers: names } },
    );
  }
  return match;
}

/** Standard output is the MCP channel: what code prints goes to standard error instead. */
function keepStdoutForMessages(): void {
  const toStderr = (...values: unknown[]): void => {
    console.error(...values);
  };
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
}

/**
 * Serves a tool server's tools over `options.transport` (standard input and output by default) until
 * the other side closes it. Each message is passed to the tools' MCP server, which runs in this
 * process, and each answer back: one session, one MCP server.
 *
 * @returns when the session ends.
 * @throws FreeholdError as `loadDefinitions` and {@link pickToolServer} do.
 * @example
 * ```ts
 * await toolsServeCommand({ entry: "src/resources.ts", cwd: "/app", server: "billing-tools" });
 * ```
 */
export async function toolsServeCommand(options: ToolsServeOptions): Promise<void> {
  if (options.transport === undefined) keepStdoutForMessages();
  const found = await loadDefinitions(options.entry, options.cwd);
  const server = pickToolServer(toolServersOf(found), options.server, options.entry);
  const inner = await server.connectInProcess();
  if (options.transport !== undefined) {
    await relay(options.transport, inner);
    return;
  }
  // The bridge ends a session by closing the process's standard input.
  const stdio = new StdioServerTransport();
  process.stdin.once("end", () => void stdio.close());
  await relay(stdio, inner);
}

/** Passes messages both ways between two transports until either closes; then closes the other. */
async function relay(outer: Transport, inner: Transport): Promise<void> {
  let closing = false;
  let resolveEnded = (): void => undefined;
  const ended = new Promise<undefined>((resolve) => {
    resolveEnded = () => {
      resolve(undefined);
    };
  });
  const close = (): void => {
    if (closing) return;
    closing = true;
    void Promise.allSettled([outer.close(), inner.close()]).then(resolveEnded);
  };
  const forward = (to: Transport) => (message: JSONRPCMessage) => {
    to.send(message).catch((error: unknown) => {
      console.error(`freehold tools serve: ${error instanceof Error ? error.message : String(error)}`);
      close();
    });
  };
  outer.onmessage = forward(inner);
  inner.onmessage = forward(outer);
  outer.onclose = close;
  inner.onclose = close;
  outer.onerror = (error) => {
    console.error(`freehold tools serve: ${error.message}`);
  };
  await inner.start();
  await outer.start();
  await ended;
}
