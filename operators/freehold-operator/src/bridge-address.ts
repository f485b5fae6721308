/**
 * Where a stdio MCPServer is reached in the cluster: the Service of its bridge Deployment.
 *
 * @module
 */
import { childName } from "./names.ts";

/** The port the bridge listens on, in the container and on its Service. */
export const bridgePort = 8080;

/** The name of a stdio MCPServer's bridge Deployment and Service. */
export function bridgeName(server: string): string {
  return childName(server, "mcp");
}

/**
 * The streamable HTTP URL of a stdio MCPServer's bridge, as agents in the cluster reach it.
 *
 * @example
 * ```ts
 * bridgeUrl("acme", "knowledge-base"); // "http://knowledge-base-mcp.acme.svc:8080/mcp"
 * ```
 */
export function bridgeUrl(namespace: string, server: string): string {
  return `http://${bridgeName(server)}.${namespace}.svc:${bridgePort}/mcp`;
}
