/**
 * A native graph's tools as Freehold's durable tool calls. The tool of a call the model made is run
 * by the runtime (`ModelTurn.callTool`: recorded as started before it runs, its result checkpointed,
 * never run again once done) and the graph gets the recorded result; a call that already has one (a
 * node run again after a worker stopped, a handoff's answer, a child run's) gets it without running.
 *
 * - {@link freeholdTools}: the agent's tools as LangChain tools for a graph factory: the manifest's
 *   MCP tools (allow-lists), its handoffs (`transfer_to_<agent>`, `transfer_to_human_<queue>`) and
 *   agents as tools (`ask_<agent>`); the runtime runs the handoffs, the graph only gets their results.
 * - {@link durableToolNodes}: the tools of the graph's own `ToolNode`s become the agent's code tools
 *   (`withCodeTools`, server `@code`), run through the same durable path.
 *
 * @module
 */
import type { ToolCallRecord } from "@freehold/api";
import type { CodeTool, ModelTurn, Toolset } from "@freehold/runtime";
import { ToolMessage } from "@langchain/core/messages";
import { tool, type StructuredToolInterface } from "@langchain/core/tools";
import type { ToolRunnableConfig } from "@langchain/core/tools";
import { toJsonSchema } from "@langchain/core/utils/json_schema";
import type { ToolNode } from "@langchain/langgraph/prebuilt";
import { toToolMessage } from "./messages.ts";
import { sessionOf, turnOver, type NativeSession } from "./native-session.ts";

/** The recorded result of a call, once it has one. */
function recorded(turn: ModelTurn, id: string): ToolMessage | undefined {
  const record: ToolCallRecord | undefined = turn.state.pendingToolCalls.find(
    (call) => call.toolCall.id === id,
  );
  if (record?.status === "done") {
    return new ToolMessage({
      content: record.content ?? "",
      tool_call_id: id,
      name: record.toolCall.name,
      status: record.isError === true ? "error" : "success",
    });
  }
  const message = turn.state.messages.findLast((entry) => entry.role === "tool" && entry.toolCallId === id);
  return message?.role === "tool" ? toToolMessage(message) : undefined;
}

/** Whether the run knows call `id`: made by a model answer of the run (pending, or with a result). */
function isRunCall(turn: ModelTurn, id: string | undefined): boolean {
  return (
    id !== undefined &&
    (turn.state.pendingToolCalls.some((call) => call.toolCall.id === id) ||
      turn.state.messages.some((message) => message.role === "tool" && message.toolCallId === id))
  );
}

/** Runs call `id` of the run's last answer durably (unless it has a result) and gives its result. */
async function durableResult(turn: ModelTurn, config: ToolRunnableConfig): Promise<ToolMessage> {
  const id = config.toolCall?.id;
  if (id === undefined) throw turnOver();
  const done = recorded(turn, id);
  if (done !== undefined) return done;
  await turn.callTool(id);
  const result = recorded(turn, id);
  // No result: the call is not one to run now (the turn is over: a shutdown, the run moved on).
  if (result === undefined) throw turnOver();
  return result;
}

/**
 * The agent's tools (MCP tools, handoffs, agents as tools) as LangChain tools of one run's graph.
 *
 * @example
 * ```ts
 * const graph = createReactAgent({ llm: model, tools: freeholdTools(session, toolset) });
 * ```
 */
export function freeholdTools(session: NativeSession, toolset: Toolset): StructuredToolInterface[] {
  return toolset.definitions.map((definition) =>
    tool(
      async (_args: unknown, config: ToolRunnableConfig) => {
        const turn = session.turn;
        if (turn === undefined) throw turnOver();
        return durableResult(turn, config);
      },
      {
        name: definition.name,
        description: definition.description ?? definition.name,
        schema: definition.inputSchema,
      },
    ),
  );
}

/** Tools already made durable (Freehold's own, or a ToolNode's already wrapped). */
const durable = new WeakSet<object>();
/** The code tools of each tool node (a graph exported once serves every run, each through a copy). */
const codeToolsOf = new WeakMap<object, CodeTool[]>();

/** Marks Freehold's tools, which a graph's ToolNode then holds as they are. */
export function markDurable(tools: readonly StructuredToolInterface[]): void {
  for (const entry of tools) durable.add(entry);
}

function schemaOf(entry: StructuredToolInterface): Record<string, unknown> {
  try {
    const schema = toJsonSchema(entry.schema as Parameters<typeof toJsonSchema>[0]) as Record<
      string,
      unknown
    >;
    return schema.type === "object" ? schema : { type: "object", properties: {} };
  } catch {
    return { type: "object", properties: {} };
  }
}

/** A LangGraph ToolNode, by shape (the code's @langchain/langgraph may be another copy than the worker's). */
function isToolNode(value: unknown): value is Pick<ToolNode, "tools"> {
  const shape = value as { tools?: unknown; runTool?: unknown } | undefined;
  return Array.isArray(shape?.tools) && typeof shape.runTool === "function";
}

/**
 * Makes the tools of `graph`'s `ToolNode`s (its top-level nodes) durable: each becomes a code tool
 * the runtime runs (returned, for `withCodeTools`), and the node gets a tool of the same name that
 * asks the runtime for the call's result. Done once per tool node.
 */
export function durableToolNodes(graph: { readonly nodes: Record<string, { bound?: unknown }> }): CodeTool[] {
  return Object.values(graph.nodes).flatMap((node) => {
    const bound = node.bound;
    if (!isToolNode(bound)) return [];
    const known = codeToolsOf.get(bound);
    if (known !== undefined) return known;
    const found: CodeTool[] = [];
    bound.tools = bound.tools.map((entry) => {
      if (durable.has(entry) || !("schema" in entry)) return entry;
      const original = entry as StructuredToolInterface;
      found.push({
        name: original.name,
        description: original.description,
        inputSchema: schemaOf(original),
        execute: async (args) => {
          const output: unknown = await original.invoke(args);
          return ToolMessage.isInstance(output) ? output.text : output;
        },
      });
      const wrapped = tool(
        async (args: unknown, config: ToolRunnableConfig) => {
          const turn = sessionOf(config).turn;
          // A call the run's model did not make (the code's own model, the code itself): plain code.
          if (!isRunCall(turn, config.toolCall?.id)) {
            const output: unknown = await original.invoke(args as Record<string, unknown>);
            return output;
          }
          return durableResult(turn, config);
        },
        { name: original.name, description: original.description, schema: original.schema },
      );
      durable.add(wrapped);
      return wrapped;
    });
    codeToolsOf.set(bound, found);
    return found;
  });
}
