/**
 * An MCP server made of tools written in TypeScript: one definition that agents name like any
 * MCPServer (`tools: [{ mcpServer: "billing-tools", allow: [...] }]`). Under `freehold dev` its tools
 * run in the same process, over an in-memory MCP transport; in a cluster they are served by
 * `serveTools` (behind a Service) at the definition's `http.url`, which `freehold build` writes.
 *
 * @module
 */
import type { McpServerSpec } from "@freehold/api";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { z } from "zod";
import { connectInMemory } from "./connect-in-memory.ts";
import type { Tool } from "./define-tool.ts";
import { defineMCPServer, type DefinitionMetadata, type McpServerDefinition } from "./definitions.ts";
import { checkTools } from "./tool-mcp-server.ts";

/** The port {@link defineToolServer}'s default URL names: serve the tools on it (`serveTools`). */
export const defaultToolServerPort = 8080;

/** What {@link defineToolServer} takes. */
export type ToolServerDefinitionInput = DefinitionMetadata &
  Omit<z.input<typeof McpServerSpec>, "http" | "sse" | "stdio"> & {
    /** The tools the server serves (at least one; names unique). */
    readonly tools: readonly Tool[];
    /**
     * How agents reach the served tools in a cluster (`serveTools` behind a Service), with any
     * headers (the token, from a Secret). Default: `http://<name>:8080/mcp`, the Service of that name
     * in the agents' namespace.
     */
    readonly http?: NonNullable<z.input<typeof McpServerSpec>["http"]>;
  };

/** An MCPServer definition that carries its tools. */
export interface ToolServerDefinition extends McpServerDefinition {
  readonly tools: readonly Tool[];
  /**
   * A new client transport to the tools, served in this process (one MCP server per session): what
   * `freehold dev` reaches the server through instead of its URL.
   */
  connectInProcess(): Promise<Transport>;
}

/**
 * Defines an MCP server of tools written with `defineTool`. Checked as an MCPServer manifest is;
 * its manifest is an MCPServer reached over HTTP at `http.url`.
 *
 * @throws FreeholdError `tool.invalid` (no tools, two of one name), `manifest.invalid`.
 * @example
 * ```ts
 * export const billingTools = defineToolServer({
 *   name: "billing-tools",
 *   tools: [getInvoice, refund],
 *   http: { url: "http://billing-tools:8080/mcp", headers: [{ name: "Authorization", secretKeyRef: { name: "billing-tools", key: "authorization" } }] },
 * });
 * // in the tool server's container: await serveTools(billingTools.tools, { host: "0.0.0.0", port: 8080, token });
 * ```
 */
export function defineToolServer(definition: ToolServerDefinitionInput): ToolServerDefinition {
  const { tools, http, ...rest } = definition;
  checkTools(tools);
  const server = defineMCPServer({
    ...rest,
    http: http ?? { url: `http://${definition.name}:${defaultToolServerPort}/mcp` },
  });
  const withTools = Object.create(
    Object.getPrototypeOf(server) as object,
    Object.getOwnPropertyDescriptors(server),
  ) as Record<PropertyKey, unknown>;
  Object.defineProperties(withTools, {
    tools: { value: Object.freeze([...tools]), enumerable: true },
    connectInProcess: {
      value: () => connectInMemory(tools, { name: definition.name }),
      enumerable: false,
    },
  });
  return Object.freeze(withTools) as unknown as ToolServerDefinition;
}
