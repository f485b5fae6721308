/**
 * A set of tools as an MCP server (the MCP SDK's `McpServer`), on whatever transport: streamable
 * HTTP in `serveTools`, in memory in `connectInMemory`. The SDK checks each call's arguments against
 * the tool's input schema (an invalid call is an error result naming the field, `run` is not
 * called) and its structured content against the output schema; what `run` throws becomes an error
 * result with its message. Nothing a caller sends can stop the server.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { toolResult, type Tool, type ToolContext } from "./define-tool.ts";

/** The key under a request's `_meta` that carries Freehold's idempotency key (as `@freehold/mcp` sends it). */
const idempotencyKeyMeta = "freehold.dev/idempotency-key";

/** How the server introduces itself and bounds its input. */
export interface ToolServerInfo {
  /** The server's name in `initialize`. Default: `freehold-tools`. */
  readonly name?: string;
  /** The server's version in `initialize`. Default: `0.1.0`. */
  readonly version?: string;
  /** The most array elements and object members one call's arguments may hold. Default: 10,000. */
  readonly maxInputElements?: number;
}

/**
 * Refuses an empty set or two tools of one name.
 *
 * @throws FreeholdError `tool.invalid`.
 */
export function checkTools(tools: readonly Tool[]): void {
  if (tools.length === 0) {
    throw new FreeholdError("tool.invalid", "no tools to serve: pass at least one tool made with defineTool");
  }
  const seen = new Set<string>();
  for (const tool of tools) {
    if (seen.has(tool.name)) {
      throw new FreeholdError(
        "tool.invalid",
        `two tools are named ${tool.name}: a server's tools need distinct names; rename one`,
        { details: { tool: tool.name } },
      );
    }
    seen.add(tool.name);
  }
}

/**
 * An MCP server with the tools registered, not yet connected.
 *
 * @example
 * ```ts
 * const server = createToolMcpServer([getInvoice]);
 * await server.connect(transport);
 * ```
 */
export function createToolMcpServer(tools: readonly Tool[], info: ToolServerInfo = {}): McpServer {
  const server = new McpServer(
    { name: info.name ?? "freehold-tools", version: info.version ?? "0.1.0" },
    { capabilities: { tools: {} }, maxToolInputElements: info.maxInputElements ?? 10_000 },
  );
  for (const tool of tools) {
    server.registerTool(
      tool.name,
      {
        ...(tool.title === undefined ? {} : { title: tool.title }),
        description: tool.description,
        inputSchema: tool.input,
        ...(tool.output === undefined ? {} : { outputSchema: tool.output }),
        ...(tool.annotations === undefined ? {} : { annotations: tool.annotations }),
      },
      async (input: Record<string, unknown>, extra) => {
        const key = extra._meta?.[idempotencyKeyMeta];
        const progressToken = extra._meta?.progressToken;
        const context: ToolContext = {
          signal: extra.signal,
          idempotencyKey: typeof key === "string" ? key : undefined,
          progress: async (progress, total, message) => {
            if (progressToken === undefined) return;
            await extra.sendNotification({
              method: "notifications/progress",
              params: {
                progressToken,
                progress,
                ...(total === undefined ? {} : { total }),
                ...(message === undefined ? {} : { message }),
              },
            });
          },
        };
        return toolResult(tool, await tool.run(input, context));
      },
    );
  }
  return server;
}
