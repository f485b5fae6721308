/**
 * One tool call on its MCP server, shared by every loop driver: through the agent's broker (so the
 * allow-list, the connection pool and the call's idempotency key hold), with the grant's timeout, in
 * an `execute_tool` span. A tool's own error and a refusal the call cannot outlive (a FreeholdError
 * that is not retryable: not allowed, bad arguments) become the call's error result for the model; a
 * retryable failure (the server unreachable) propagates, and the run resumes from its checkpoint.
 * The caller records the call as started before, and its outcome after (`applyToolResult`).
 *
 * @module
 */
import { FreeholdError, type ToolCallRecord } from "@freehold/api";
import type { ToolOutcome } from "@freehold/handoff";
import type { Context, Tracer } from "@opentelemetry/api";
import type { ResolvedAgent } from "./loop-driver.ts";
import { toolResultText, type ToolResultLike } from "./tool-result-text.ts";
import { inSpan, SpanKind } from "./tracing.ts";

/**
 * Runs `record` (a call of an MCP server's tool); `undefined` for a call that is not one (a handoff,
 * a delegation).
 *
 * @example
 * ```ts
 * const outcome = await executeToolCall(agent, record, { tracer, context });
 * if (outcome !== undefined) await commit((current) => applyToolResult(current, record.toolCall.id, outcome, times));
 * ```
 */
export async function executeToolCall(
  agent: Pick<ResolvedAgent, "broker" | "spec">,
  record: ToolCallRecord,
  options: { readonly tracer: Tracer; readonly context: Context },
): Promise<ToolOutcome | undefined> {
  if (record.server === undefined || record.tool === undefined) return undefined;
  const { server, tool, idempotencyKey } = record;
  const grant = agent.spec.tools?.find((candidate) => candidate.mcpServer === server);
  return inSpan(
    options.tracer,
    `execute_tool ${tool}`,
    options.context,
    {
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": tool,
      "gen_ai.tool.call.id": record.toolCall.id,
      "freehold.mcp.server": server,
    },
    async (span): Promise<ToolOutcome> => {
      try {
        const args = JSON.parse(
          record.toolCall.arguments === "" ? "{}" : record.toolCall.arguments,
        ) as Record<string, unknown>;
        const result = (await agent.broker.callTool(server, tool, args, {
          idempotencyKey,
          ...(grant?.timeoutSeconds === undefined ? {} : { timeoutMs: grant.timeoutSeconds * 1000 }),
        })) as ToolResultLike;
        if (result.isError === true) span.setAttribute("error.type", "tool_error");
        return { content: toolResultText(result), isError: result.isError === true, result };
      } catch (error) {
        if (error instanceof FreeholdError && !error.retryable) {
          span.setAttribute("error.type", error.code);
          return { content: error.message, isError: true };
        }
        throw error;
      }
    },
    SpanKind.INTERNAL,
  );
}
