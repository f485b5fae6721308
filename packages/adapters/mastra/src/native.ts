/**
 * Native mode: the agent is the team's own Mastra `Agent` (`spec.code`). At the start of each stretch
 * of a run a worker works on (the run's start, and every resumption), the code's agent is read with
 * Mastra's own API (`getInstructions`, `listTools`, `listAgents`, `listWorkflows`, on an empty
 * `RequestContext`) and mapped onto Freehold's durable concepts:
 *
 * - its instructions are the system prompt (the code's, not the manifest's);
 * - its own tools (`createTool`, AI SDK tools) become the agent's code tools (`withCodeTools`):
 *   durable tool calls, `requireApproval` an approval item;
 * - its sub-agents (`agents`) are the manifest's agents used as tools (child runs), refused when the
 *   manifest does not list them; workflows are refused.
 *
 * The model turns are then the declarative driver's: Mastra's loop on the run's durable model.
 *
 * @module
 */
import { durableModel, type TurnGuard } from "@freehold/adapter-vercel-ai";
import { FreeholdError } from "@freehold/api";
import {
  createToolset,
  TurnOver,
  withCodeTools,
  type CodeTool,
  type ModelTurn,
  type ResolvedAgent,
  type RuntimeTool,
} from "@freehold/runtime";
import { Agent } from "@mastra/core/agent";
import type { MastraModelConfig } from "@mastra/core/llm";
import { RequestContext } from "@mastra/core/request-context";
import { isStandardSchemaWithJSON, standardSchemaToJSONSchema } from "@mastra/core/schema";
import { createTool, isVercelTool, type ToolExecutionContext } from "@mastra/core/tools";

/** Mastra's tools: what `new Agent({ tools })` takes. */
export type MastraTools = Record<string, ReturnType<typeof createTool>>;

/** What Freehold gives a factory export, in Mastra's own types. */
export interface MastraSupplied {
  /** The agent's Model resource as an AI SDK language model: every call a durable Freehold model call. */
  readonly model: MastraModelConfig;
  /** The manifest's MCP tools (within its allow-lists) as Mastra tools; each call a durable tool call. */
  readonly tools: MastraTools;
}

/** A factory export: Freehold's model and tools in, the team's Mastra `Agent` out. */
export type MastraAgentFactory = (supplied: MastraSupplied) => Agent | Promise<Agent>;

/**
 * The run's current model turn, for the pieces given to the code once per stretch (the supplied
 * model and tools): a call outside a turn is refused.
 */
export class TurnSession {
  #guard: TurnGuard | undefined;

  enter(guard: TurnGuard): void {
    this.#guard = guard;
  }

  leave(): void {
    this.#guard = undefined;
  }

  get guard(): TurnGuard {
    if (this.#guard === undefined) {
      throw new FreeholdError(
        "adapter.mastra.outside-turn",
        "Freehold's model and tools were called outside a run's model turn; call them only from the Agent the run drives",
      );
    }
    return this.#guard;
  }
}

/** A ModelTurn that is the session's current one. */
function sessionTurn(session: TurnSession): ModelTurn {
  return {
    get state() {
      return session.guard.turn.state;
    },
    toolset: () => session.guard.turn.toolset(),
    callModel: () => session.guard.turn.callModel(),
    callTool: (toolCallId) => session.guard.turn.callTool(toolCallId),
    get signal() {
      return session.guard.turn.signal;
    },
  };
}

/** The MCP tools of `tools` as Mastra tools whose calls are the session's durable tool calls. */
function suppliedTools(session: TurnSession, tools: readonly RuntimeTool[]): MastraTools {
  const set: MastraTools = {};
  for (const runtimeTool of tools) {
    if (runtimeTool.special !== undefined) continue;
    const { definition } = runtimeTool;
    set[definition.name] = createTool({
      id: definition.name,
      description: definition.description ?? "",
      inputSchema: definition.inputSchema as NonNullable<Parameters<typeof createTool>[0]["inputSchema"]>,
      execute: async (_input: unknown, context: ToolExecutionContext) => {
        const toolCallId = context.agent?.toolCallId;
        if (toolCallId === undefined || toolCallId === "") throw new TurnOver();
        const outcome = await session.guard.callTool(toolCallId);
        if (outcome === undefined) throw new TurnOver();
        return outcome.content;
      },
    });
  }
  return set;
}

function invalid(agent: ResolvedAgent, found: string): FreeholdError {
  return new FreeholdError(
    "adapter.mastra.code-invalid",
    `agent ${agent.name}'s spec.code export is ${found}; export a Mastra Agent (new Agent({...}) from @mastra/core/agent) or a function ({ model, tools }) => Agent`,
    { details: { agent: agent.name } },
  );
}

/** What a value is, for the error that refuses it. */
function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return `a ${typeof value}`;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name !== "Object" ? `an object of class ${name}` : "an object";
}

/**
 * A Mastra agent: an `Agent` of this adapter's Mastra, or of another copy of `@mastra/core` (a code
 * root with its own node_modules), known by the methods this adapter reads.
 */
function isMastraAgent(value: unknown): value is Agent {
  if (value instanceof Agent) return true;
  if (typeof value !== "object" || value === null) return false;
  const agent = value as Record<string, unknown>;
  return ["generate", "getInstructions", "listTools", "listAgents", "listWorkflows"].every(
    (method) => typeof agent[method] === "function",
  );
}

/** The code's agent: the export itself, or what the factory export returns for `supplied`. */
async function codeAgent(agent: ResolvedAgent, exported: unknown, supplied: MastraSupplied): Promise<Agent> {
  if (isMastraAgent(exported)) return exported;
  if (typeof exported !== "function") throw invalid(agent, kindOf(exported));
  const made: unknown = await (exported as (supplied: MastraSupplied) => unknown)(supplied);
  if (!isMastraAgent(made)) throw invalid(agent, `a function that returned ${kindOf(made)}`);
  return made;
}

/** Mastra's instructions (a string, a system message, or a list of them) as one system prompt. */
function instructionsText(instructions: unknown): string {
  if (typeof instructions === "string") return instructions;
  if (Array.isArray(instructions)) return instructions.map(instructionsText).filter(Boolean).join("\n\n");
  if (typeof instructions === "object" && instructions !== null && "content" in instructions) {
    const { content } = instructions;
    if (typeof content === "string") return content;
    if (Array.isArray(content)) {
      return content
        .map((part: unknown) =>
          typeof part === "object" && part !== null && "text" in part && typeof part.text === "string"
            ? part.text
            : "",
        )
        .join("");
    }
  }
  return "";
}

/** The JSON Schema of a tool's input (Mastra's Standard Schema, an AI SDK `jsonSchema`, or none). */
function inputSchemaOf(tool: Record<string, unknown>): Record<string, unknown> {
  const schema = tool["inputSchema"] ?? tool["parameters"];
  if (isStandardSchemaWithJSON(schema)) {
    const { $schema: _draft, ...json } = standardSchemaToJSONSchema(schema, { io: "input" }) as Record<
      string,
      unknown
    >;
    return json;
  }
  if (typeof schema === "object" && schema !== null && "jsonSchema" in schema) {
    const json = schema.jsonSchema;
    if (typeof json === "object" && json !== null) return json as Record<string, unknown>;
  }
  return { type: "object" };
}

/** Mastra's answer for arguments its tool refused: `{ error: true, message }`. */
function isValidationFailure(value: unknown): value is { error: true; message: string } {
  return (
    typeof value === "object" &&
    value !== null &&
    "error" in value &&
    value.error === true &&
    "message" in value &&
    typeof value.message === "string"
  );
}

/** One tool of the code's agent as a code tool: its `execute` runs durably, behind the broker. */
function codeTool(
  agent: ResolvedAgent,
  name: string,
  tool: Record<string, unknown>,
  approveAll: boolean,
  requestContext: RequestContext,
): CodeTool {
  const execute = tool["execute"];
  if (typeof execute !== "function") {
    throw new FreeholdError(
      "adapter.mastra.code-invalid",
      `agent ${agent.name}'s Mastra tool ${name} has no execute function (a provider-defined tool?); give it an execute, or remove it from the Agent's tools`,
      { details: { agent: agent.name, tool: name } },
    );
  }
  const vercel = isVercelTool(tool as Parameters<typeof isVercelTool>[0]);
  const requireApproval = tool["requireApproval"];
  const description = tool["description"];
  return {
    name,
    ...(typeof description === "string" ? { description } : {}),
    inputSchema: inputSchemaOf(tool),
    // A conditional approval (a function) is decided per call in Mastra; Freehold's is per tool: always.
    requireApproval:
      approveAll ||
      requireApproval === true ||
      typeof requireApproval === "function" ||
      tool["needsApprovalFn"] !== undefined,
    async execute(args, { signal, idempotencyKey }) {
      const value: unknown = vercel
        ? await (execute as (input: unknown, options: unknown) => unknown)(args, {
            toolCallId: idempotencyKey,
            messages: [],
            abortSignal: signal,
          })
        : await (execute as (input: unknown, context: Partial<ToolExecutionContext>) => unknown)(args, {
            requestContext,
            abortSignal: signal,
          });
      if (isValidationFailure(value)) throw new Error(value.message);
      return value;
    },
  };
}

/**
 * `agent` as its code says: the code's instructions as the system prompt, its tools as code tools,
 * after checking its sub-agents against the manifest. `exported` is the loaded `spec.code` export.
 * Throws `adapter.mastra.code-invalid`, `adapter.mastra.sub-agent-not-listed` or
 * `adapter.mastra.workflows-unsupported` (the run fails with it).
 *
 * @example
 * ```ts
 * const session = new TurnSession();
 * const native = await nativeAgent(options.agent, await options.agent.code(), session);
 * return runLoop(state, { ...options, agent: native, modelTurn: (turn) => mastraTurn(native, turn, session) });
 * ```
 */
export async function nativeAgent(
  agent: ResolvedAgent,
  exported: unknown,
  session: TurnSession,
): Promise<ResolvedAgent> {
  const mcp = createToolset(await agent.broker.listTools(), agent.spec.tools ?? [], agent.specials);
  const supplied: MastraSupplied = {
    model: durableModel(sessionTurn(session), agent.model) as unknown as MastraModelConfig,
    tools: suppliedTools(session, mcp.tools),
  };
  const mastraAgent = await codeAgent(agent, exported, supplied);
  const requestContext = new RequestContext();

  const delegates = new Set(
    agent.specials.filter((tool) => tool.kind === "delegate").map((tool) => tool.target),
  );
  for (const name of Object.keys(await mastraAgent.listAgents({ requestContext }))) {
    if (!delegates.has(name)) {
      throw new FreeholdError(
        "adapter.mastra.sub-agent-not-listed",
        `agent ${agent.name}'s Mastra agent has the sub-agent ${name}, which its manifest does not list as a tool; add { agent: ${name} } to spec.tools (the sub-agent's calls become child runs of the Freehold agent ${name}), or remove it from the Agent's agents`,
        { details: { agent: agent.name, subAgent: name } },
      );
    }
  }
  const workflows = Object.keys(await mastraAgent.listWorkflows({ requestContext }));
  if (workflows.length > 0) {
    throw new FreeholdError(
      "adapter.mastra.workflows-unsupported",
      `agent ${agent.name}'s Mastra agent has workflows (${workflows.join(", ")}), which Freehold cannot run durably; remove them from the Agent's workflows, or call them from a tool`,
      { details: { agent: agent.name, workflows } },
    );
  }

  const defaults = (await mastraAgent.getDefaultOptions({ requestContext })) as {
    requireToolApproval?: unknown;
  };
  // A function decides per call in Mastra; Freehold asks per tool: every call waits.
  const approveAll =
    defaults.requireToolApproval === true || typeof defaults.requireToolApproval === "function";
  const given = new Set<unknown>(Object.values(supplied.tools));
  const tools: CodeTool[] = [];
  for (const [name, tool] of Object.entries(await mastraAgent.listTools({ requestContext }))) {
    if (given.has(tool)) continue;
    tools.push(codeTool(agent, name, tool as unknown as Record<string, unknown>, approveAll, requestContext));
  }
  const withCode = withCodeTools(agent, tools);
  const instructions = instructionsText(await mastraAgent.getInstructions({ requestContext }));
  return instructions === "" ? withCode : { ...withCode, spec: { ...withCode.spec, instructions } };
}
