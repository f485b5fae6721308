/**
 * A tool as the pool lists it: the server's definition with the server's name attached. Schemas are
 * passed on exactly as the server sent them.
 *
 * @module
 */
import type { Tool } from "@modelcontextprotocol/sdk/types.js";

/**
 * One tool of one MCP server.
 *
 * @example
 * ```ts
 * const tools: McpTool[] = await pool.listTools("billing-api");
 * tools[0]; // { server: "billing-api", name: "get_invoice", description: "…", inputSchema: { type: "object", … } }
 * ```
 */
export interface McpTool {
  /** The pool's name of the server that has the tool. */
  readonly server: string;
  /** The tool's name as the server lists it. */
  readonly name: string;
  readonly description?: string;
  /** The JSON Schema of the arguments, unchanged. */
  readonly inputSchema: Record<string, unknown>;
  /** The JSON Schema of `structuredContent`, unchanged, when the server declares one. */
  readonly outputSchema?: Record<string, unknown>;
  /** Hints such as `readOnlyHint` or `destructiveHint`, unchanged. */
  readonly annotations?: Record<string, unknown>;
}

/** Attaches the server's name to a tool definition from `tools/list`. */
export function toMcpTool(server: string, tool: Tool): McpTool {
  return {
    server,
    name: tool.name,
    ...(tool.description === undefined ? {} : { description: tool.description }),
    inputSchema: tool.inputSchema,
    ...(tool.outputSchema === undefined ? {} : { outputSchema: tool.outputSchema }),
    ...(tool.annotations === undefined ? {} : { annotations: tool.annotations }),
  };
}
