/**
 * Native mode: the agent is the team's own AI SDK code (`spec.code`): a `ToolLoopAgent`, a function
 * `({ model, tools }) => ToolLoopAgent` that gets Freehold's model and MCP tools, or the agent's
 * settings as a plain object. Each model turn of the run is the code's agent, rebuilt on Freehold's
 * pieces, running its own loop (`ToolLoopAgent.generate`): the model is the run's durable model, the
 * code's own tools run through `withCodeTools` (durable tool calls of server `@code`), approvals
 * (`needsApproval`, `toolApproval`) are Freehold approval items, and the code's `instructions` are the
 * system prompt. Checkpoints: every model call and every tool call, as in the built-in loop.
 *
 * @module
 */
import type { LanguageModelV4 } from "@ai-sdk/provider";
import { FreeholdError, type AgentTool } from "@freehold/api";
import {
  createToolset,
  runLoop,
  withCodeTools,
  type CodeTool,
  type LoopOptions,
  type LoopOutcome,
  type ModelTurn,
  type ResolvedAgent,
} from "@freehold/runtime";
import type { RunState } from "@freehold/api";
import {
  asSchema,
  jsonSchema,
  stepCountIs,
  tool,
  ToolLoopAgent,
  type Instructions,
  type PrepareStepFunction,
  type Tool,
  type ToolLoopAgentSettings,
  type ToolSet,
} from "ai";
import { sdkTurn, toModelMessages } from "./sdk-turn.ts";
import type { TurnGuard } from "./durable-model.ts";
import { durableModel } from "./durable-model.ts";

/** What the code's factory gets: Freehold's pieces in the AI SDK's own types. */
export interface SuppliedPieces {
  /** The agent's Model resource as an AI SDK language model; every call is a durable model call. */
  readonly model: LanguageModelV4;
  /** The manifest's MCP tools (within their allow-lists), keyed by the names the model sees. */
  readonly tools: ToolSet;
}

/** The settings of a `ToolLoopAgent`, as the code gave them. */
export type AgentSettings = ToolLoopAgentSettings<never, ToolSet>;

/** Marks the tools Freehold supplied: their MCP server and name there. */
const suppliedMark = Symbol.for("freehold.vercel-ai.mcp-tool");

interface SuppliedMark {
  readonly server: string;
  readonly name: string;
}

type McpTool = Awaited<ReturnType<ResolvedAgent["broker"]["listTools"]>>[number];

function invalid(agent: ResolvedAgent, found: string): FreeholdError {
  const code = agent.spec.code;
  return new FreeholdError(
    "adapter.vercel-ai.code-invalid",
    `${code?.module ?? "the code"} export ${code?.export ?? "default"} of agent ${agent.name} is ${found}; export a ToolLoopAgent, a function ({ model, tools }) => ToolLoopAgent, or its settings ({ instructions, tools })`,
    { details: { agent: agent.name, module: code?.module, export: code?.export } },
  );
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value !== "object") return `a ${typeof value}`;
  if (Array.isArray(value)) return "an array";
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor
    ?.name;
  return `an object${name === undefined || name === "Object" ? "" : ` (${name})`}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * The settings of the code's agent: a `ToolLoopAgent`'s own (the instance keeps them; the SDK has no
 * other way to read an agent's model and tools), or the plain object given, with `supplied.model`.
 */
export async function settingsOf(
  agent: ResolvedAgent,
  exported: unknown,
  supplied: SuppliedPieces,
): Promise<AgentSettings> {
  const value: unknown =
    typeof exported === "function"
      ? await (exported as (pieces: SuppliedPieces) => unknown)(supplied)
      : exported;
  if (
    typeof value === "object" &&
    value !== null &&
    (value as { version?: unknown }).version === "agent-v1"
  ) {
    const settings: unknown = Reflect.get(value, "settings");
    if (
      value instanceof ToolLoopAgent ||
      (isPlainObject(settings) && typeof Reflect.get(value, "generate") === "function")
    ) {
      return settings as AgentSettings;
    }
    throw invalid(agent, "an AI SDK Agent that is not a ToolLoopAgent (its model and tools cannot be read)");
  }
  if (isPlainObject(value) && typeof value["generate"] !== "function") {
    return { ...(value as Partial<AgentSettings>), model: supplied.model };
  }
  if (typeof exported === "function") throw invalid(agent, `a function that returned ${describe(value)}`);
  throw invalid(agent, describe(value));
}

/** The instructions as the system prompt's text. */
function instructionsText(instructions: Instructions | undefined): string | undefined {
  if (instructions === undefined) return undefined;
  if (typeof instructions === "string") return instructions;
  const parts = Array.isArray(instructions) ? instructions : [instructions];
  return parts.map((part) => part.content).join("\n\n");
}

type Approval = "required" | "none" | "denied";

/**
 * A tool's approval: the agent's `toolApproval` first (as the SDK does), then the tool's
 * `needsApproval`. A function cannot be asked per call before the call is made durable, so a tool
 * whose approval is a function has every call approved by a person.
 */
function approvalOf(name: string, tool: Tool, settings: AgentSettings): Approval {
  const configured = settings.toolApproval;
  if (typeof configured === "function") return "required";
  const status: unknown = configured?.[name];
  if (typeof status === "function") return "required";
  const kind = typeof status === "object" && status !== null ? (status as { type: string }).type : status;
  if (kind === "user-approval") return "required";
  if (kind === "denied") return "denied";
  if (kind === "approved" || kind === "not-applicable") return "none";
  const needs: unknown = (tool as { needsApproval?: unknown }).needsApproval;
  return needs === true || typeof needs === "function" ? "required" : "none";
}

/** The last value of a streaming tool (`async function*`), or the value. */
async function outputOf(value: unknown): Promise<unknown> {
  if (typeof value === "object" && value !== null && Symbol.asyncIterator in value) {
    let last: unknown;
    for await (const part of value as AsyncIterable<unknown>) last = part;
    return last;
  }
  return value;
}

/** One of the code's own tools as a durable code tool. */
async function codeToolOf(
  name: string,
  own: Tool,
  settings: AgentSettings,
  requireApproval: boolean,
): Promise<CodeTool> {
  const schema = asSchema(own.inputSchema);
  const execute = own.execute as NonNullable<Tool["execute"]>;
  const context: unknown = (settings as { toolsContext?: Record<string, unknown> }).toolsContext?.[name];
  // A description that depends on the tool's context is written once, for the context the code gave.
  const description = typeof own.description === "function" ? own.description({ context }) : own.description;
  return {
    name,
    ...(typeof description === "string" ? { description } : {}),
    inputSchema: (await schema.jsonSchema) as Record<string, unknown>,
    requireApproval,
    async execute(args, { signal, idempotencyKey }) {
      // The SDK's own validation: defaults and transforms of the tool's schema apply.
      const validated =
        schema.validate === undefined ? { success: true as const, value: args } : await schema.validate(args);
      if (!validated.success) throw validated.error;
      return outputOf(
        await execute(validated.value, {
          toolCallId: idempotencyKey,
          messages: [],
          abortSignal: signal,
          context,
        }),
      );
    },
  };
}

/** What Freehold runs for the code's agent: its tools made durable, the manifest narrowed to its choice. */
export interface NativeAgent {
  readonly settings: AgentSettings;
  /** The resolved agent with the code's tools, instructions and approvals. */
  readonly agent: ResolvedAgent;
}

/**
 * Reads the code's agent and makes it Freehold's: its own tools as code tools (refusing tools
 * without `execute` and provider tools), its MCP tools the manifest's (a factory that left some out
 * narrows the allow-lists; approvals it asks for are added), its instructions the system prompt.
 */
export async function nativeAgentOf(
  agent: ResolvedAgent,
  exported: unknown,
  supplied: SuppliedPieces,
): Promise<NativeAgent> {
  const settings = await settingsOf(agent, exported, supplied);
  const codeTools: CodeTool[] = [];
  const kept = new Map<string, Set<string>>();
  const approvals = new Map<string, Set<string>>();
  const add = (map: Map<string, Set<string>>, server: string, name: string) =>
    map.set(server, (map.get(server) ?? new Set()).add(name));
  const own = settings.tools ?? {};
  const entries = Object.entries(own);
  // An instance or a settings object could not be given the MCP tools: they are added, under the
  // names the model sees (a tool of the code's own of the same name wins). A factory chose among them.
  if (typeof exported !== "function") {
    entries.push(...Object.entries(supplied.tools).filter(([name]) => !(name in own)));
  }
  for (const [name, candidate] of entries) {
    const mark = (candidate as { [suppliedMark]?: SuppliedMark })[suppliedMark];
    const approval = approvalOf(name, candidate, settings);
    if (mark !== undefined) {
      if (approval !== "denied") add(kept, mark.server, mark.name);
      if (approval === "required") add(approvals, mark.server, mark.name);
      continue;
    }
    if (candidate.type === "provider") {
      throw invalid(
        agent,
        `an agent with the provider tool ${name}, which runs at the model's provider, not in the worker; remove it`,
      );
    }
    if (typeof candidate.execute !== "function") {
      throw invalid(
        agent,
        `an agent with the tool ${name} without execute (a client-side tool); give it an execute, or hand the decision to people with a humanQueue in spec.handoffs`,
      );
    }
    if (approval !== "denied")
      codeTools.push(await codeToolOf(name, candidate, settings, approval === "required"));
  }
  const broker = narrowBroker(agent.broker, kept);
  const grants = (agent.spec.tools ?? []).map((grant): AgentTool => {
    const asked = grant.mcpServer === undefined ? undefined : approvals.get(grant.mcpServer);
    if (asked === undefined) return grant;
    return { ...grant, requireApproval: [...new Set([...(grant.requireApproval ?? []), ...asked])] };
  });
  const instructions = instructionsText(settings.instructions);
  const withCode = withCodeTools(
    {
      ...agent,
      broker,
      spec: { ...agent.spec, tools: grants, ...(instructions === undefined ? {} : { instructions }) },
    },
    codeTools,
  );
  return { settings, agent: withCode };
}

/** The broker without the MCP tools the code left out of its agent (or denied). */
function narrowBroker(
  broker: ResolvedAgent["broker"],
  kept: ReadonlyMap<string, ReadonlySet<string>>,
): ResolvedAgent["broker"] {
  const allowed = (server: string, name: string) => kept.get(server)?.has(name) === true;
  return {
    listTools: async () => (await broker.listTools()).filter((listed) => allowed(listed.server, listed.name)),
    callTool: (server, name, args, options) =>
      allowed(server, name)
        ? broker.callTool(server, name, args, options)
        : Promise.reject(
            new FreeholdError(
              "tool.not-allowed",
              `the agent's code does not use the tool ${name} of ${server}`,
              {
                details: { server, tool: name },
              },
            ),
          ),
  };
}

/**
 * The pieces a factory gets: a model whose calls go to the run's current turn, and the manifest's
 * MCP tools (within the allow-lists), each calling Freehold's durable tool call.
 */
function suppliedPieces(
  agent: ResolvedAgent,
  mcpTools: readonly McpTool[],
  current: { turn?: TurnGuard },
): SuppliedPieces {
  const turn: ModelTurn = {
    get state(): RunState {
      return turnOf().state;
    },
    toolset: () => turnOf().toolset(),
    callModel: () => turnOf().callModel(),
    callTool: (id) => turnOf().callTool(id),
  };
  function turnOf(): ModelTurn {
    if (current.turn === undefined) {
      throw new FreeholdError(
        "adapter.vercel-ai.no-turn",
        "the supplied model and tools work only inside the agent's run; use them as the agent's model and tools",
      );
    }
    return current.turn.turn;
  }
  const toolset = createToolset(mcpTools, agent.spec.tools ?? []);
  const tools: ToolSet = {};
  for (const runtimeTool of toolset.tools) {
    const mark: SuppliedMark = { server: runtimeTool.server, name: runtimeTool.toolName };
    tools[runtimeTool.name] = Object.assign(
      tool({
        description: runtimeTool.definition.description ?? "",
        inputSchema: jsonSchema(runtimeTool.definition.inputSchema),
        execute: async (_input: unknown, { toolCallId }: { toolCallId: string }) => {
          turnOf();
          return (await current.turn?.callTool(toolCallId))?.content;
        },
      }),
      { [suppliedMark]: mark },
    );
  }
  return { model: durableModel(turn, agent.model), tools };
}

/** One model turn: the code's agent, on the turn's durable model and tools, runs its own loop. */
function nativeTurn(native: NativeAgent, turn: ModelTurn, current: { turn?: TurnGuard }): Promise<void> {
  const { agent, settings } = native;
  const { stopWhen: _stopWhen, toolApproval: _toolApproval, prepareCall, prepareStep, ...rest } = settings;
  return sdkTurn(agent, turn, async ({ model, tools, guard }) => {
    // Freehold's pieces, whatever the code's hooks return: its model (durable), its tools (durable,
    // approvals Freehold's), one turn's bound (the run's limits are the runtime's).
    const forced = { model, tools, maxRetries: 0, stopWhen: stepCountIs(agent.spec.limits.maxSteps + 1) };
    const loop = new ToolLoopAgent<never, ToolSet>({
      ...rest,
      ...forced,
      instructions: agent.spec.instructions,
      ...(prepareCall === undefined
        ? {}
        : {
            prepareCall: async (options) => ({ ...(await prepareCall(options)), ...forced }),
          }),
      ...(prepareStep === undefined ? {} : { prepareStep: withoutModel(prepareStep) }),
    });
    current.turn = guard;
    try {
      await loop.generate({
        messages: toModelMessages(turn.state.messages),
        ...(turn.signal === undefined ? {} : { abortSignal: turn.signal }),
      });
    } finally {
      current.turn = undefined;
    }
  });
}

/** The code's `prepareStep`, without the model it may choose: every model call is Freehold's. */
function withoutModel(prepareStep: PrepareStepFunction<ToolSet>): PrepareStepFunction<ToolSet> {
  return async (options) => {
    const result = await prepareStep(options);
    if (result === undefined) return result;
    const { model: _model, ...rest } = result;
    return rest;
  };
}

/**
 * Runs a run of an agent that is AI SDK code (`spec.code`): the export is read once per run (a
 * factory is called with Freehold's model and tools), then every model turn is the code's agent.
 * A wrong export fails the run with `adapter.vercel-ai.code-invalid`.
 */
export async function runNative(state: RunState, options: LoopOptions): Promise<LoopOutcome> {
  const { agent } = options;
  if (agent.code === undefined)
    throw new FreeholdError("adapter.vercel-ai.code-invalid", `agent ${agent.name} has no spec.code`);
  const exported = await agent.code();
  const current: { turn?: TurnGuard } = {};
  const supplied = suppliedPieces(agent, await agent.broker.listTools(), current);
  const native = await nativeAgentOf(agent, exported, supplied);
  return runLoop(state, {
    ...options,
    agent: native.agent,
    modelTurn: (turn) => nativeTurn(native, turn, current),
  });
}
