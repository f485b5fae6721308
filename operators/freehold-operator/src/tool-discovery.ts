/**
 * Connecting to an MCP server to list its tools, for `MCPServer.status.tools`. A stdio server is
 * reached through its bridge's Service, with the bridge's token; Secret headers are read from the operator's cache and
 * used only for the connection. Never throws: a failure is a result with the error.
 *
 * @module
 */
import { FreeholdError, type McpServer, type SecretKeySelector } from "@freehold/api";
import { connectionFromSpec, createMcpPool } from "@freehold/mcp";
import { bridgeAuthorizationReference } from "./bridge-address.ts";
import type { ToolDiscovery } from "./translate-mcp-server.ts";

/** Options of {@link discoverTools}. */
export interface ToolDiscoveryOptions {
  /** The URL to reach the server at (the bridge's, for a stdio server). */
  readonly url: string;
  readonly resolveSecret: (reference: SecretKeySelector) => Promise<string>;
  /** How long connecting and listing may take. Default: 10 s. */
  readonly timeoutMs?: number;
}

/**
 * Lists a server's tools.
 *
 * @example
 * ```ts
 * const discovery = await discoverTools(server, { url: "http://billing-mcp.acme.svc:8080/mcp", resolveSecret });
 * if (discovery.ok) discovery.tools; // [{ name: "get_invoice", description: "…" }]
 * ```
 */
export async function discoverTools(
  server: McpServer,
  options: ToolDiscoveryOptions,
): Promise<ToolDiscovery> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const { stdio: _stdio, ...rest } = server.spec;
  // A stdio server's bridge requires its token, like the agents send it.
  const spec =
    server.spec.stdio === undefined
      ? server.spec
      : {
          ...rest,
          http: {
            url: options.url,
            headers: [
              { name: "Authorization", secretKeyRef: bridgeAuthorizationReference(server.metadata.name) },
            ],
          },
        };
  let pool: ReturnType<typeof createMcpPool> | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const connection = await connectionFromSpec(spec, options.resolveSecret);
    pool = createMcpPool(
      { [server.metadata.name]: connection },
      {
        connectTimeoutMs: timeoutMs,
        pingIntervalMs: 0,
        clientInfo: { name: "freehold-operator", version: "0.1.0" },
      },
    );
    const listing = pool.listTools(server.metadata.name);
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(new FreeholdError("mcp.timeout", `no tool list within ${timeoutMs} ms`, { retryable: true }));
      }, timeoutMs);
    });
    const tools = await Promise.race([listing, timeout]);
    return {
      ok: true,
      tools: tools.map((tool) =>
        tool.description === undefined
          ? { name: tool.name }
          : { name: tool.name, description: tool.description },
      ),
    };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    await pool?.close().catch(() => undefined);
  }
}
