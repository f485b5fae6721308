/**
 * Tools of the agent's own code (native mode: a function tool of an OpenAI Agents `Agent`, a tool of
 * a Mastra agent, a LangGraph tool node's tool) made durable the way MCP tools are: an adapter hands
 * them to {@link withCodeTools}, which puts them behind the agent's broker as one more server
 * (`@code`, a name no MCPServer can have). From there they are tool calls like any other: listed to
 * the model, recorded as started before they run, their results checkpointed, never run again once
 * done, an interrupted one following its `onInterrupt` policy, one in `requireApproval` waiting for
 * a person's approval item. They run in the worker's process, under the call's timeout.
 *
 * @module
 */
import { FreeholdError, startDeadline, type AgentTool, type InterruptPolicy } from "@freehold/api";
import type { CallToolResult, McpTool, ToolBroker } from "@freehold/mcp";
import type { ResolvedAgent } from "./loop-driver.ts";

/** The broker's server name of the code's tools. */
export const codeToolServer = "@code";

/** A tool of the agent's own code. */
export interface CodeTool {
  /** The name the model calls it by; unique among the code's tools. */
  readonly name: string;
  readonly description?: string;
  /** The JSON Schema of its arguments (an object schema). */
  readonly inputSchema: Record<string, unknown>;
  /** Its calls wait for a person's approval (an approval item), as a tool in `requireApproval`. */
  readonly requireApproval?: boolean;
  /** What a resumed run does with a call that was running when its worker stopped; default `fail`. */
  readonly onInterrupt?: InterruptPolicy;
  /** How long a call may run; default 60 s. */
  readonly timeoutSeconds?: number;
  /**
   * Runs the call. A string is the result's text; another value is sent as JSON (and as the
   * result's structured content when it is an object). A thrown error is the call's error result,
   * unless it is a retryable FreeholdError: then the run resumes from its checkpoint.
   */
  execute(
    args: Record<string, unknown>,
    context: { readonly signal: AbortSignal; readonly idempotencyKey: string },
  ): Promise<unknown>;
}

const defaultTimeoutMs = 60_000;

/**
 * `agent` with `tools` as tools it may call, behind its broker (allow-lists of its MCP servers
 * unchanged). Throws `agent.code-tools-invalid` for two tools of one name.
 *
 * @example
 * ```ts
 * const withCode = withCodeTools(agent, [
 *   { name: "add", inputSchema: { type: "object" }, execute: async ({ a, b }) => Number(a) + Number(b) },
 * ]);
 * return runLoop(state, { ...options, agent: withCode });
 * ```
 */
export function withCodeTools(agent: ResolvedAgent, tools: readonly CodeTool[]): ResolvedAgent {
  if (tools.length === 0) return agent;
  const byName = new Map<string, CodeTool>();
  for (const tool of tools) {
    if (byName.has(tool.name)) {
      throw new FreeholdError(
        "agent.code-tools-invalid",
        `agent ${agent.name}'s code has two tools named ${tool.name}; give each tool its own name`,
        { details: { agent: agent.name, tool: tool.name } },
      );
    }
    byName.set(tool.name, tool);
  }
  const listed: McpTool[] = tools.map((tool) => ({
    server: codeToolServer,
    name: tool.name,
    ...(tool.description === undefined ? {} : { description: tool.description }),
    inputSchema: tool.inputSchema,
  }));
  const inner = agent.broker;
  const broker: ToolBroker = {
    listTools: async () => [...(await inner.listTools()), ...listed],
    callTool: (server, name, args, options) => {
      if (server !== codeToolServer) return inner.callTool(server, name, args, options);
      const tool = byName.get(name);
      if (tool === undefined) {
        return Promise.reject(
          new FreeholdError("tool.not-allowed", `the agent's code has no tool ${name}`, {
            details: { tool: name },
          }),
        );
      }
      return runCodeTool(tool, args, options.idempotencyKey, options.timeoutMs, options.signal);
    },
  };
  const approvals = tools.filter((tool) => tool.requireApproval === true).map((tool) => tool.name);
  const policies = Object.fromEntries(
    tools.flatMap((tool) => (tool.onInterrupt === undefined ? [] : [[tool.name, tool.onInterrupt] as const])),
  );
  const grant: AgentTool = {
    mcpServer: codeToolServer,
    allow: tools.map((tool) => tool.name),
    ...(approvals.length === 0 ? {} : { requireApproval: approvals }),
    ...(Object.keys(policies).length === 0 ? {} : { onInterrupt: { tools: policies } }),
  };
  return { ...agent, broker, spec: { ...agent.spec, tools: [...(agent.spec.tools ?? []), grant] } };
}

async function runCodeTool(
  tool: CodeTool,
  args: Record<string, unknown>,
  idempotencyKey: string,
  timeoutMs: number | undefined,
  signal: AbortSignal | undefined,
): Promise<CallToolResult> {
  const limit =
    timeoutMs ?? (tool.timeoutSeconds === undefined ? defaultTimeoutMs : tool.timeoutSeconds * 1000);
  const deadline = startDeadline(limit, signal);
  let value: unknown;
  try {
    value = await Promise.race([
      tool.execute(args, { signal: deadline.signal, idempotencyKey }),
      new Promise<never>((_, reject) => {
        deadline.signal.addEventListener(
          "abort",
          () => {
            reject(
              deadline.timedOut()
                ? new Error(`tool ${tool.name} did not finish within ${limit} ms`)
                : new FreeholdError("mcp.cancelled", `the call of ${tool.name} was cancelled`, {
                    retryable: true,
                  }),
            );
          },
          { once: true },
        );
      }),
    ]);
  } catch (error) {
    if (error instanceof FreeholdError && error.retryable) throw error;
    return {
      isError: true,
      content: [{ type: "text", text: error instanceof Error ? error.message : String(error) }],
    };
  } finally {
    deadline.clear();
  }
  if (typeof value === "string") return { content: [{ type: "text", text: value }] };
  const text = JSON.stringify(value ?? null);
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? { content: [{ type: "text", text }], structuredContent: value as Record<string, unknown> }
    : { content: [{ type: "text", text }] };
}
