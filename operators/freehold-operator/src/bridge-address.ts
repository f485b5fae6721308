/**
 * Where a stdio MCPServer is reached in the cluster: the Service of its bridge Deployment, with the
 * bearer token (a Secret the operator makes) that the bridge requires.
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

/**
 * The Secret holding a stdio MCPServer's bridge token, which the operator makes (random, owned by
 * the MCPServer): key `token` (the bridge's `FREEHOLD_MCP_BRIDGE_TOKEN`) and key `authorization`
 * (`Bearer <token>`, the header the workers of the agents that use the server send).
 *
 * @example
 * ```ts
 * bridgeTokenSecretName("knowledge-base"); // "knowledge-base-mcp-token"
 * ```
 */
export function bridgeTokenSecretName(server: string): string {
  return childName(server, "mcp-token");
}

/** The keys of a bridge token Secret. */
export const bridgeTokenKeys = { token: "token", authorization: "authorization" } as const;

/** The variable the bridge reads its token from (`freehold mcp bridge`). */
export const bridgeTokenVariable = "FREEHOLD_MCP_BRIDGE_TOKEN";

/** The Secret key the bridge reads its token from. */
export function bridgeTokenReference(server: string): { name: string; key: string } {
  return { name: bridgeTokenSecretName(server), key: bridgeTokenKeys.token };
}

/** The Secret key holding `Bearer <token>`, the `Authorization` header agents send to the bridge. */
export function bridgeAuthorizationReference(server: string): { name: string; key: string } {
  return { name: bridgeTokenSecretName(server), key: bridgeTokenKeys.authorization };
}

/**
 * The streamable HTTP spec agents (and the operator's tool discovery) use for a stdio MCPServer:
 * the bridge's URL with the `Authorization` header from the token Secret.
 *
 * @example
 * ```ts
 * bridgeHttpSpec("acme", "knowledge-base");
 * // { url: "http://knowledge-base-mcp.acme.svc:8080/mcp", headers: [{ name: "Authorization", secretKeyRef: { name: "knowledge-base-mcp-token", key: "authorization" } }] }
 * ```
 */
export function bridgeHttpSpec(
  namespace: string,
  server: string,
): { url: string; headers: { name: string; secretKeyRef: { name: string; key: string } }[] } {
  return {
    url: bridgeUrl(namespace, server),
    headers: [{ name: "Authorization", secretKeyRef: bridgeAuthorizationReference(server) }],
  };
}
