/**
 * The tool broker of one agent: the pool seen through the agent's grants. Allow-lists are enforced
 * here, in code, whatever the model asks for: a tool that is not granted is neither listed nor
 * callable.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { CallToolOptions } from "./call-tool-options.ts";
import type { McpPool } from "./mcp-pool.ts";
import type { McpTool } from "./mcp-tool.ts";

/**
 * The tools an agent may use on one server: `allow` lists them by name; without `allow`, every tool
 * of the server is granted. An empty `allow` grants none.
 */
export interface ToolGrant {
  readonly server: string;
  readonly allow?: readonly string[];
}

/** An agent's view of its tools. */
export interface ToolBroker {
  /** The granted tools of every granted server. Throws `mcp.unavailable` naming the first server that is down. */
  listTools(): Promise<McpTool[]>;
  /** Calls a granted tool; anything else is refused with `tool.not-allowed` before the server is asked. */
  callTool(
    server: string,
    name: string,
    args: Record<string, unknown>,
    options: CallToolOptions,
  ): Promise<CallToolResult>;
}

/**
 * Creates the broker of an agent's grants over a shared pool.
 *
 * @example
 * ```ts
 * const broker = createToolBroker(pool, [{ server: "billing-api", allow: ["get_invoice", "list_invoices"] }]);
 * await broker.callTool("billing-api", "refund", { invoice: "INV-7" }, { idempotencyKey: "k" }); // throws tool.not-allowed
 * ```
 */
export function createToolBroker(pool: McpPool, grants: readonly ToolGrant[]): ToolBroker {
  const allowed = new Map<string, ReadonlySet<string> | "all">();
  for (const grant of grants) {
    const before = allowed.get(grant.server);
    if (before === "all" || grant.allow === undefined) {
      allowed.set(grant.server, "all");
    } else {
      allowed.set(grant.server, new Set([...(before ?? []), ...grant.allow]));
    }
  }
  const isAllowed = (server: string, name: string): boolean => {
    const tools = allowed.get(server);
    return tools === "all" || (tools?.has(name) ?? false);
  };

  return {
    async listTools() {
      const lists = await Promise.all(
        [...allowed.entries()].map(async ([server, tools]) => {
          if (tools !== "all" && tools.size === 0) return [];
          const listed = await pool.listTools(server);
          return listed.filter((tool) => isAllowed(server, tool.name));
        }),
      );
      return lists.flat();
    },

    async callTool(server, name, args, options) {
      if (!isAllowed(server, name)) {
        const tools = allowed.get(server);
        const granted =
          tools === undefined
            ? `no tool of ${server} is granted`
            : `the tools granted on ${server} are ${[...(tools === "all" ? [] : tools)].join(", ") || "none"}`;
        throw new FreeholdError(
          "tool.not-allowed",
          `failed to call tool ${name} on ${server}: the agent is not allowed to use it (${granted}); ` +
            "add it to the agent's spec.tools allow-list to grant it",
          { details: { server, tool: name } },
        );
      }
      return await pool.callTool(server, name, args, options);
    },
  };
}
