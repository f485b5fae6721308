/**
 * `freehold doctor`'s MCP check: connects to an MCPServer through Freehold's own MCP pool (as agents
 * do; Secrets resolved the same way) and lists its tools.
 *
 * @module
 */
import type { McpServerSpec, SecretKeySelector } from "@freehold/api";
import { connectionFromSpec, createMcpPool } from "@freehold/mcp";
import { errorMessage, result, type CheckResult } from "./check.ts";

/**
 * Lists one MCPServer's tools. In a cluster a stdio server is reached at its bridge (`statusUrl`).
 *
 * @example
 * ```ts
 * const line = await checkMcpServer("default/counter", { http: { url }, timeoutSeconds: 60 }, resolveSecret);
 * ```
 */
export async function checkMcpServer(
  name: string,
  spec: McpServerSpec,
  resolveSecret: (reference: SecretKeySelector) => Promise<string>,
  options: {
    readonly statusUrl?: string;
    readonly timeoutMs?: number;
    /** What a stdio server starts with (default: the MCP SDK's minimal environment). */
    readonly baseEnvironment?: Readonly<Record<string, string>>;
  } = {},
): Promise<CheckResult> {
  const check = `mcp ${name}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const reached =
    spec.stdio !== undefined && options.statusUrl !== undefined
      ? { ...spec, stdio: undefined, http: { url: options.statusUrl } }
      : spec;
  const where = reached.http?.url ?? reached.sse?.url ?? `stdio: ${reached.stdio?.command ?? ""}`;
  let pool: ReturnType<typeof createMcpPool> | undefined;
  try {
    const connection = await connectionFromSpec(reached, resolveSecret);
    pool = createMcpPool(
      { [name]: connection },
      {
        connectTimeoutMs: timeoutMs,
        pingIntervalMs: 0,
        ...(options.baseEnvironment === undefined ? {} : { baseEnvironment: options.baseEnvironment }),
      },
    );
    const tools = await pool.listTools(name);
    const names = tools.map((tool) => tool.name);
    const shown = names.slice(0, 8).join(", ") + (names.length > 8 ? `, … (${names.length})` : "");
    return result(check, "ok", `${names.length} tools at ${where}: ${shown}`);
  } catch (error) {
    return result(
      check,
      "fail",
      `${where} did not list its tools: ${errorMessage(error)}`,
      spec.stdio === undefined
        ? "start the MCP server, or correct its url"
        : "check the command, its arguments and env",
    );
  } finally {
    await pool?.close();
  }
}
