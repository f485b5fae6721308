/**
 * Connecting to an MCP server to list its tools, for `MCPServer.status.tools`. A stdio server is
 * reached through its bridge's Service, with the bridge's token; Secret headers are read from the
 * operator's cache and used only for the connection. Never throws: a failure is a result with the
 * error.
 *
 * The URL is the manifest writer's choice, so the host is resolved first and the connection refused
 * when any address it resolves to is loopback, link-local, a cloud metadata endpoint or unspecified
 * ({@link isInternalAddress}), unless `allowInternalAddresses` (`FREEHOLD_DISCOVERY_ALLOW_INTERNAL`).
 * What reaches status is generic ("could not discover tools at <url>"): whether a port was closed,
 * filtered or slow is written only to the operator's log, so status is no port scanner. (The
 * connection resolves the name again; a name that changes its answer in between is not caught:
 * the NetworkPolicy of the operator's namespace is the other wall.)
 *
 * @module
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { FreeholdError, type McpServer, type SecretKeySelector } from "@freehold/api";
import { connectionFromSpec, createMcpPool } from "@freehold/mcp";
import { bridgeAuthorizationReference } from "./bridge-address.ts";
import { isInternalAddress, isMetadataHostName } from "./internal-address.ts";
import type { ToolDiscovery } from "./translate-mcp-server.ts";

/** Options of {@link discoverTools}. */
export interface ToolDiscoveryOptions {
  /** The URL to reach the server at (the bridge's, for a stdio server). */
  readonly url: string;
  readonly resolveSecret: (reference: SecretKeySelector) => Promise<string>;
  /** How long connecting and listing may take. Default: 10 s. */
  readonly timeoutMs?: number;
  /** Connect to loopback, link-local, metadata and unspecified addresses too (development, tests). Default: false. */
  readonly allowInternalAddresses?: boolean;
  /** Where the detail of a failure goes (never into status). Default: dropped. */
  readonly log?: (line: string) => void;
}

/** The status message of every failed discovery: no detail an attacker could scan ports with. */
export function discoveryFailure(url: string): string {
  return `could not discover tools at ${url}`;
}

/** Why a URL's host may not be connected to, or undefined when it may. */
async function refusal(url: string): Promise<string | undefined> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  if (isMetadataHostName(host)) return `${host} is a cloud metadata service`;
  const addresses =
    isIP(host) === 0
      ? (await lookup(host, { all: true, order: "verbatim" })).map((entry) => entry.address)
      : [host];
  const internal = addresses.filter(isInternalAddress);
  return internal.length === 0
    ? undefined
    : `${host} is (or resolves to) ${internal.join(", ")}: a loopback, link-local, metadata or unspecified address`;
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
  const url =
    server.spec.stdio === undefined
      ? ((server.spec.http ?? server.spec.sse)?.url ?? options.url)
      : options.url;
  const where = `MCPServer ${server.metadata.namespace ?? "default"}/${server.metadata.name}`;
  if (options.allowInternalAddresses !== true) {
    let refused: string | undefined;
    try {
      refused = await refusal(url);
    } catch (error) {
      options.log?.(
        `${where}: could not resolve ${url}: ${error instanceof Error ? error.message : String(error)}`,
      );
      return { ok: false, error: discoveryFailure(url) };
    }
    if (refused !== undefined) {
      options.log?.(
        `${where}: refused to discover tools at ${url}: ${refused} (FREEHOLD_DISCOVERY_ALLOW_INTERNAL=true allows it)`,
      );
      return {
        ok: false,
        error: `${discoveryFailure(url)}: the operator does not connect to loopback, link-local, cloud metadata or unspecified addresses`,
      };
    }
  }
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
    options.log?.(
      `${where}: could not discover tools at ${url}: ${error instanceof Error ? error.message : String(error)}`,
    );
    return { ok: false, error: discoveryFailure(url) };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    await pool?.close().catch(() => undefined);
  }
}
