/**
 * Native mode: an agent that is the team's own OpenAI Agents SDK code (`spec.code`), mapped onto
 * Freehold's durable parts. The export is an SDK `Agent`, or a function that gets Freehold's pieces
 * in the SDK's types ({@link OpenAiAgentsSupply}: the run's model as the SDK's `Model`, the
 * manifest's MCP tools as function tools) and returns one. From the code's `Agent`:
 *
 * - its `instructions` (a string, or a function called each time a worker takes up the run) are the
 *   system prompt, in place of the manifest's;
 * - its function tools become durable tool calls (`withCodeTools`), `needsApproval` an approval item;
 * - its `handoffs` become Freehold transfers: each target's name is a Freehold agent that
 *   `spec.handoffs` must list; the model sees the SDK handoff's tool name and description.
 *
 * What would run outside Freehold's durable loop (guardrails, structured output, the Agent's own MCP
 * servers, tools that are not function tools) is refused (`adapter.openai-agents.code-invalid`); what
 * the README lists as not used (model settings, hooks, the SDK's run state) is left aside.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { FreeholdError, type AgentSpec } from "@freehold/api";
import {
  createToolset,
  withCodeTools,
  type CodeTool,
  type ModelTurn,
  type ResolvedAgent,
  type RuntimeTool,
  type SpecialTool,
} from "@freehold/runtime";
import {
  Agent,
  getHandoff,
  RunContext,
  tool,
  type FunctionTool,
  type JsonSchemaDefinition,
  type Model,
  type Tool,
} from "@openai/agents-core";
import { durableModel } from "./durable-model.ts";

/** What Freehold gives an export that is a function, in the SDK's own types. */
export interface OpenAiAgentsSupply {
  /** The agent's name in the manifest. */
  readonly name: string;
  /** The manifest's `instructions` (the code's own instructions win; see the README). */
  readonly instructions: string;
  /** The agent's Model resource as the SDK's `Model`: each call a durable Freehold model call. */
  readonly model: Model;
  /** The manifest's MCP tools (within their allow-lists) as function tools: each call durable. */
  readonly tools: readonly Tool[];
}

/**
 * What `spec.code` may name: an SDK `Agent`, or a function of Freehold's pieces returning one.
 *
 * @example
 * ```ts
 * export default ({ model, tools }: OpenAiAgentsSupply) =>
 *   new Agent({ name: "support", instructions: "Help with invoices.", model, tools: [...tools, refund] });
 * ```
 */
export type OpenAiAgentsCode = SdkAgent | ((supply: OpenAiAgentsSupply) => SdkAgent | Promise<SdkAgent>);

/** An SDK Agent of any context and output type (the code's own). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the code's context and output types are its own
type SdkAgent = Agent<any, any>;

/** The code's agent, checked, and what becomes of it. */
interface LoadedAgent {
  readonly sdkAgent: SdkAgent;
  readonly codeTools: readonly CodeTool[];
  /** The code's handoffs by target agent: the tool name and description the model sees. */
  readonly handoffs: ReadonlyMap<string, { readonly toolName: string; readonly toolDescription: string }>;
}

/** An MCP tool's input schema, as the SDK takes a JSON schema it does not make strict. */
type JsonSchemaParameters = Extract<JsonSchemaDefinition["schema"], { additionalProperties: true }>;

const invalidCode = "adapter.openai-agents.code-invalid";

/** The model turn the current call of the code's model or a supplied tool belongs to. */
const activeTurn = new AsyncLocalStorage<ModelTurn>();

/** Runs `work` as part of `turn`: the supplied model and tools act on that turn. */
export function inTurn<T>(turn: ModelTurn, work: () => Promise<T>): Promise<T> {
  return activeTurn.run(turn, work);
}

function currentTurn(what: string): ModelTurn {
  const turn = activeTurn.getStore();
  if (turn === undefined) {
    throw new FreeholdError(
      invalidCode,
      `${what} was used outside a run's model turn; put it on the Agent the export returns and let Freehold run it`,
    );
  }
  return turn;
}

/** The run's model for the code: each call is the current turn's durable model call. */
const suppliedModel: Model = {
  getResponse: (request) => durableModel(currentTurn("the supplied model")).getResponse(request),
  getStreamedResponse: (request) =>
    durableModel(currentTurn("the supplied model")).getStreamedResponse(request),
};

function suppliedTool(runtimeTool: RuntimeTool): Tool {
  const { definition } = runtimeTool;
  return tool({
    name: definition.name,
    description: definition.description ?? "",
    parameters: definition.inputSchema as JsonSchemaParameters,
    strict: false,
    errorFunction: null,
    execute: async (_input, _context, details) => {
      const callId = details?.toolCall?.callId;
      const turn = currentTurn(`the supplied tool ${definition.name}`);
      if (callId === undefined) return "";
      return (await turn.callTool(callId))?.content ?? "";
    },
  });
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "function") return "a function";
  if (typeof value !== "object") return `a ${typeof value}`;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name !== "Object" ? `an object of class ${name}` : "a plain object";
}

function refuse(agent: ResolvedAgent, found: string, expected: string): FreeholdError {
  return new FreeholdError(invalidCode, `agent ${agent.name}'s code (spec.code) is ${found}; ${expected}`, {
    details: { agent: agent.name, ...(agent.spec.code === undefined ? {} : { code: agent.spec.code }) },
  });
}

const expectedExport =
  "export an Agent of @openai/agents-core (or @openai/agents), or a function ({ model, tools }) => Agent";

/**
 * Whether `value` is an SDK Agent: of this adapter's copy of the SDK, or of the code's own copy (a
 * worker started from the bundle has its own; the code imports the one beside it). Only the Agent's
 * data and its own methods are used, never a check of identity, so both work.
 */
function isSdkAgent(value: unknown): value is SdkAgent {
  if (value instanceof Agent) return true;
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<Record<keyof SdkAgent, unknown>>;
  return (
    typeof candidate.name === "string" &&
    Array.isArray(candidate.tools) &&
    Array.isArray(candidate.handoffs) &&
    typeof candidate.getSystemPrompt === "function"
  );
}

/** The target and tool of an entry of `handoffs`: a `handoff()` (of any copy of the SDK) or an Agent. */
function handoffOf(entry: unknown): { agentName: string; toolName: string; toolDescription: string } {
  const candidate = entry as { agentName?: unknown; toolName?: unknown; toolDescription?: unknown };
  if (typeof candidate.agentName === "string" && typeof candidate.toolName === "string") {
    return {
      agentName: candidate.agentName,
      toolName: candidate.toolName,
      toolDescription: typeof candidate.toolDescription === "string" ? candidate.toolDescription : "",
    };
  }
  return getHandoff(entry as SdkAgent);
}

/** The code's function tool as a durable tool of the agent. */
async function codeToolOf(functionTool: FunctionTool<unknown, never>): Promise<CodeTool> {
  // needsApproval: a boolean (or a function of no arguments) is a fixed policy, asked once here; a
  // function of the call cannot be asked per call before the call is recorded, so every call of
  // such a tool waits for a person (the function is not called).
  const policy = functionTool.needsApproval;
  const requireApproval = policy.length > 0 || (await policy(new RunContext({}), {} as never, ""));
  return {
    name: functionTool.name,
    description: functionTool.description,
    inputSchema: functionTool.parameters as Record<string, unknown>,
    requireApproval,
    ...(functionTool.timeoutMs === undefined ? {} : { timeoutSeconds: functionTool.timeoutMs / 1000 }),
    execute: (args, { signal, idempotencyKey }) => {
      const input = JSON.stringify(args);
      return functionTool.invoke(new RunContext({}), input, {
        toolCall: {
          type: "function_call",
          callId: idempotencyKey,
          name: functionTool.name,
          arguments: input,
          status: "completed",
        },
        signal,
      });
    },
  };
}

async function check(
  agent: ResolvedAgent,
  sdkAgent: SdkAgent,
  supplied: ReadonlySet<Tool>,
): Promise<LoadedAgent> {
  const unsupported = [
    sdkAgent.outputType !== "text" && "outputType (structured output)",
    sdkAgent.inputGuardrails.length > 0 && "inputGuardrails",
    sdkAgent.outputGuardrails.length > 0 && "outputGuardrails",
    sdkAgent.mcpServers.length > 0 && "mcpServers (declare them as MCPServer resources in spec.tools)",
  ].filter((field) => field !== false);
  if (unsupported.length > 0) {
    throw refuse(
      agent,
      `an Agent with ${unsupported.join(", ")}`,
      "native mode does not run these durably; remove them from the Agent",
    );
  }
  const codeTools: CodeTool[] = [];
  for (const candidate of sdkAgent.tools) {
    if (supplied.has(candidate)) continue;
    if (candidate.type !== "function") {
      throw refuse(
        agent,
        `an Agent with the ${candidate.type} tool ${candidate.name}`,
        "native mode runs function tools (tool()) only; make it a function tool or an MCPServer",
      );
    }
    codeTools.push(await codeToolOf(candidate as FunctionTool<unknown, never>));
  }
  const listed = new Set((agent.spec.handoffs ?? []).flatMap((entry) => entry.agent ?? []));
  const handoffs = new Map<string, { toolName: string; toolDescription: string }>();
  for (const entry of sdkAgent.handoffs) {
    const sdkHandoff = handoffOf(entry);
    if (!listed.has(sdkHandoff.agentName)) {
      throw new FreeholdError(
        "adapter.openai-agents.handoff-not-listed",
        `agent ${agent.name}'s code hands off to ${sdkHandoff.agentName}, which its spec.handoffs does not list; add { agent: ${sdkHandoff.agentName} } to spec.handoffs (the Freehold Agent of that name takes the run), or remove the handoff from the code`,
        { details: { agent: agent.name, target: sdkHandoff.agentName } },
      );
    }
    handoffs.set(sdkHandoff.agentName, {
      toolName: sdkHandoff.toolName,
      toolDescription: sdkHandoff.toolDescription,
    });
  }
  return { sdkAgent, codeTools, handoffs };
}

async function load(agent: ResolvedAgent, code: () => Promise<unknown>): Promise<LoadedAgent> {
  const exported = await code();
  if (isSdkAgent(exported)) return check(agent, exported, new Set());
  if (typeof exported !== "function") throw refuse(agent, describe(exported), expectedExport);
  const mcpTools = createToolset(await agent.broker.listTools(), agent.spec.tools ?? []).tools;
  const tools = mcpTools.map(suppliedTool);
  const made: unknown = await (exported as (supply: OpenAiAgentsSupply) => unknown)({
    name: agent.name,
    instructions: agent.spec.instructions,
    model: suppliedModel,
    tools,
  });
  if (!isSdkAgent(made)) throw refuse(agent, `a function that returned ${describe(made)}`, expectedExport);
  return check(agent, made, new Set<Tool>(tools));
}

const loaded = new WeakMap<ResolvedAgent, Promise<LoadedAgent>>();

/** `special` as the code's SDK handoff names it, for a transfer the code declares. */
function renamed(special: SpecialTool, handoffs: LoadedAgent["handoffs"]): SpecialTool {
  const sdkHandoff = special.kind === "transfer" ? handoffs.get(special.target) : undefined;
  if (sdkHandoff === undefined) return special;
  return {
    ...special,
    definition: {
      ...special.definition,
      name: sdkHandoff.toolName,
      description: sdkHandoff.toolDescription,
    },
  };
}

/**
 * The agent as its code makes it: the code's instructions, its function tools behind the broker
 * (durable, approvals), its handoffs as the transfers of `spec.handoffs`. The export is loaded and
 * checked once per worker; the instructions are resolved on every call.
 *
 * Errors: `adapter.openai-agents.code-invalid` (not an Agent, or one with what native mode does not
 * run), `adapter.openai-agents.handoff-not-listed`, and those of loading the code (`agent.code-*`).
 *
 * @example
 * ```ts
 * const agent = await nativeAgent(options.agent);
 * return runLoop(state, { ...options, agent, modelTurn });
 * ```
 */
export async function nativeAgent(agent: ResolvedAgent): Promise<ResolvedAgent> {
  const { code } = agent;
  if (code === undefined) return agent;
  let loading = loaded.get(agent);
  if (loading === undefined) {
    loading = load(agent, code);
    loaded.set(agent, loading);
    loading.catch(() => loaded.delete(agent));
  }
  const { sdkAgent, codeTools, handoffs } = await loading;
  const prompt = await sdkAgent.getSystemPrompt(new RunContext({}));
  const spec: AgentSpec = {
    ...agent.spec,
    instructions: prompt === undefined || prompt === "" ? agent.spec.instructions : prompt,
  };
  return withCodeTools(
    { ...agent, spec, specials: agent.specials.map((special) => renamed(special, handoffs)) },
    codeTools,
  );
}
