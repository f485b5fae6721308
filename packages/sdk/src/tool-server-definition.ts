/**
 * An MCP server made of tools written in TypeScript: one definition that agents name like any
 * MCPServer (`tools: [{ mcpServer: "billing-tools", allow: [...] }]`). Under `freehold dev` its tools
 * run in the same process, over an in-memory MCP transport. In a cluster, either the operator runs
 * them (`freehold build --tool-image <image>` writes the server as a stdio MCPServer whose command,
 * `freehold tools serve <entry> --server <name>`, serves the tools of this definition from that
 * image; see {@link ToolServerDefinition.deployable}), or you serve them yourself with `serveTools`
 * behind a Service at the definition's `http.url`, which plain `freehold build` writes.
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
    /**
     * The tools' environment when the operator runs them (`freehold build --tool-image`): literal
     * values or Secret keys (a database URL, an API key). Only these are passed. Under `freehold dev`
     * the tools see the dev process's own environment.
     */
    readonly env?: NonNullable<NonNullable<z.input<typeof McpServerSpec>["stdio"]>["env"]>;
  };

/** Where the operator runs a tool server: see {@link ToolServerDefinition.deployable}. */
export interface DeployableOptions {
  /** The container image with the project in it: built `FROM` Freehold's runtime image, which has `freehold` and Node 24. */
  readonly image: string;
  /** The entry module that exports the definition, relative to `workingDir` (e.g. `src/resources.ts`). */
  readonly entry: string;
  /** The project's folder in the image. Default: `/app`. */
  readonly workingDir?: string;
}

/** An MCPServer definition that carries its tools. */
export interface ToolServerDefinition extends McpServerDefinition {
  readonly tools: readonly Tool[];
  /**
   * A new client transport to the tools, served in this process (one MCP server per session): what
   * `freehold dev` reaches the server through instead of its URL.
   */
  connectInProcess(): Promise<Transport>;
  /**
   * The same server as a stdio MCPServer the operator deploys: its bridge Deployment runs
   * `freehold tools serve <entry> --server <name>` in `image`, which serves this definition's tools,
   * and the operator adds the Service, the bearer token, and the NetworkPolicy that lets only the
   * agents using the server reach it. What `freehold build --tool-image` writes.
   *
   * @throws FreeholdError `manifest.invalid` (an image or entry the MCPServer schema refuses).
   */
  deployable(options: DeployableOptions): McpServerDefinition;
}

/** The default project folder of {@link ToolServerDefinition.deployable}. */
export const defaultToolWorkingDir = "/app";

/** The arguments of `freehold` that serve a tool server's tools over stdio. */
function toolServeArgs(entry: string, server: { name: string; namespace?: string | undefined }): string[] {
  const name = server.namespace === undefined ? server.name : `${server.namespace}/${server.name}`;
  return ["tools", "serve", entry, "--server", name];
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
  const { tools, http, env, ...rest } = definition;
  checkTools(tools);
  const server = defineMCPServer({
    ...rest,
    http: http ?? { url: `http://${definition.name}:${defaultToolServerPort}/mcp` },
  });
  const deployable = (options: DeployableOptions): McpServerDefinition =>
    defineMCPServer({
      ...rest,
      stdio: {
        image: options.image,
        command: "freehold",
        args: toolServeArgs(options.entry, definition),
        workingDir: options.workingDir ?? defaultToolWorkingDir,
        ...(env === undefined ? {} : { env: [...env] }),
      },
    });
  // The environment is checked now, as the rest is: a mistake there should not wait for a build.
  if (env !== undefined) deployable({ image: "check", entry: "check.ts" });
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
    deployable: { value: deployable, enumerable: false },
  });
  return Object.freeze(withTools) as unknown as ToolServerDefinition;
}
