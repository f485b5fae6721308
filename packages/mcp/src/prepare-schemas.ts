/**
 * Parses one of each message a worker's MCP client reads: the JSON-RPC envelope (every message its
 * transport receives: a result, an error, a server's notification and request), the `initialize`
 * and `tools/list` results it reads before its first model call, and a `tools/call` result. zod
 * prepares a schema (its shape, its checks) the first time it parses with it; the worker's startup
 * snapshot calls this while it is built, so that work is in the snapshot instead of in every
 * worker's start (packages/cli/src/worker-snapshot.ts).
 *
 * @module
 */
import {
  CallToolResultSchema,
  InitializeResultSchema,
  JSONRPCMessageSchema,
  LATEST_PROTOCOL_VERSION,
  ListToolsResultSchema,
} from "@modelcontextprotocol/sdk/types.js";

/**
 * Parses a sample of each message; throws if a sample no longer parses (the SDK's schemas changed).
 *
 * @example
 * ```ts
 * prepareMcpSchemas(); // while a startup snapshot is built
 * ```
 */
export function prepareMcpSchemas(): void {
  const initialize = {
    protocolVersion: LATEST_PROTOCOL_VERSION,
    capabilities: { tools: { listChanged: true } },
    serverInfo: { name: "snapshot", version: "1.0.0" },
  };
  const tools = {
    tools: [
      {
        name: "tool",
        description: "A tool.",
        inputSchema: { type: "object", properties: { a: { type: "number" } }, required: ["a"] },
        annotations: { readOnlyHint: true },
      },
    ],
  };
  const call = { content: [{ type: "text", text: "1" }], structuredContent: { value: 1 }, isError: false };
  const samples = [
    [JSONRPCMessageSchema, { jsonrpc: "2.0", id: 1, result: initialize }],
    [JSONRPCMessageSchema, { jsonrpc: "2.0", method: "notifications/tools/list_changed" }],
    [JSONRPCMessageSchema, { jsonrpc: "2.0", id: 2, method: "ping" }],
    [JSONRPCMessageSchema, { jsonrpc: "2.0", id: 3, error: { code: -32_601, message: "Method not found" } }],
    [InitializeResultSchema, initialize],
    [ListToolsResultSchema, tools],
    [CallToolResultSchema, call],
  ] as const;
  for (const [schema, sample] of samples) {
    const parsed = schema.safeParse(sample);
    if (!parsed.success) {
      throw new Error(`an MCP sample message no longer parses: ${parsed.error.message}`);
    }
  }
}
