/**
 * The loop driver of agents with `spec.framework: mastra` (declarative mode): each model turn of the
 * run is Mastra's own agent loop (`Agent.generate` with `maxSteps`), on the run's model as an AI SDK
 * language model (`durableModel` of the Vercel AI SDK adapter: Mastra takes specification v4 models)
 * and the agent's tools as Mastra tools. An MCP tool's `execute` is the runtime's durable tool call
 * (through the broker's allow-list, recorded as started before it leaves the worker, or while that
 * is being written for a read-only tool, its result checkpointed); handoff, delegation and approval tools have no `execute`, so Mastra's loop stops at
 * them (it leaves the call without a result and ends the loop) and the runtime's shared transitions
 * take over (transfer, human queue, child runs, approval items), as they do after limits and when the
 * run resumes after a crash.
 *
 * Checkpoints: every model call and every tool call, as in the built-in loop.
 *
 * Native mode (`spec.code`, see native.ts): the same turns, on the agent as the team's code makes it.
 *
 * @module
 */
import { durableModel, toModelMessages, TurnGuard } from "@freehold/adapter-vercel-ai";
import {
  isTurnOver,
  runLoop,
  TurnOver,
  type LoopDriver,
  type ModelTurn,
  type ResolvedAgent,
  type RuntimeTool,
} from "@freehold/runtime";
import { Agent } from "@mastra/core/agent";
import type { MastraModelConfig } from "@mastra/core/llm";
import { ConsoleLogger } from "@mastra/core/logger";
import { toStandardSchema } from "@mastra/core/schema";
import { createTool, type ToolExecutionContext } from "@mastra/core/tools";
import { nativeAgent, TurnSession, type MastraTools } from "./native.ts";

/** The schemas `createTool` takes: zod, Standard Schema, or JSON Schema (an MCP tool's). */
type InputSchema = NonNullable<Parameters<typeof createTool>[0]["inputSchema"]>;

/** True for a log record's argument that carries a {@link TurnOver} (Mastra logs `{ error, runId }`). */
function carriesTurnOver(argument: unknown): boolean {
  return (
    isTurnOver(argument) ||
    (typeof argument === "object" && argument !== null && "error" in argument && isTurnOver(argument.error))
  );
}

/**
 * Mastra's console logger, without the end of a turn: Mastra logs an error when the model throws,
 * and {@link TurnOver} is how a turn ends, not a failure (what fails is recorded by the runtime).
 */
const logger = new ConsoleLogger({
  name: "mastra",
  level: "warn",
  filter: ({ args }) => !args.some(carriesTurnOver),
});

/**
 * The run's model for Mastra: {@link durableModel}, a specification v4 language model, which Mastra
 * takes as it is. Only the types need a word: Mastra 1.71 carries its own copy of the AI SDK's provider
 * types (`@ai-sdk/provider` 4.0.17), older than the workspace's (4.0.38), which added the finish reason
 * `interrupted`; `durableModel` never returns it (it maps Freehold's five finish reasons), so the
 * model is the same object under Mastra's type.
 */
export function mastraModel(
  turn: ModelTurn,
  model: { readonly provider: string; readonly modelId: string },
): MastraModelConfig {
  return durableModel(turn, model) as unknown as MastraModelConfig;
}

/**
 * A tool's JSON Schema as the Standard Schema Mastra validates with, made once per schema (the
 * tools' schemas are the same objects from turn to turn): Mastra compiles a validator for each
 * wrapper it is given, which would otherwise happen at every turn.
 */
const standardSchemas = new WeakMap<object, InputSchema>();
function inputSchemaOf(schema: Record<string, unknown>): InputSchema {
  let standard = standardSchemas.get(schema);
  if (standard === undefined) {
    standard = toStandardSchema(schema as InputSchema) as InputSchema;
    standardSchemas.set(schema, standard);
  }
  return standard;
}

/** The agent's tools for Mastra: MCP tools run durably; the others stop Mastra's loop. */
export function toolsOf(guard: TurnGuard, tools: readonly RuntimeTool[]): MastraTools {
  const set: MastraTools = {};
  for (const runtimeTool of tools) {
    const { definition } = runtimeTool;
    const common = {
      id: definition.name,
      description: definition.description ?? "",
      inputSchema: inputSchemaOf(definition.inputSchema),
    };
    set[definition.name] =
      runtimeTool.special !== undefined || runtimeTool.requireApproval
        ? createTool(common)
        : createTool({
            ...common,
            execute: async (_input: unknown, context: ToolExecutionContext) => {
              // Mastra gives a tool run by an agent the model's call id. Without one, the call is left
              // to the runtime: the turn ends at the next model call and the runtime runs it.
              const toolCallId = context.agent?.toolCallId;
              if (toolCallId === undefined || toolCallId === "") throw new TurnOver();
              // A failure of the run's own is kept by the guard: Mastra would give it to the model.
              const outcome = await guard.callTool(toolCallId);
              if (outcome === undefined) throw new TurnOver();
              return outcome.content;
            },
          });
  }
  return set;
}

/**
 * One model turn: Mastra's agent loop, until it answers, stops at a special call, or the turn is over.
 * `session` (native mode) is the turn the pieces given to the code's factory work on meanwhile.
 */
export async function mastraTurn(
  agent: ResolvedAgent,
  turn: ModelTurn,
  session?: TurnSession,
): Promise<void> {
  const toolset = await turn.toolset();
  const guard = new TurnGuard(turn);
  session?.enter(guard);
  const mastraAgent = new Agent({
    id: agent.name,
    name: agent.name,
    instructions: agent.spec.instructions,
    model: mastraModel(guard.turn, agent.model),
    tools: toolsOf(guard, toolset.tools),
    // Retries and fallbacks are the Model resource's.
    maxRetries: 0,
  });
  // An agent outside a `Mastra` instance takes its logger from here (`new Mastra({ logger })` is the
  // other way, and it is not used: no storage, memory or server of Mastra's is needed).
  mastraAgent.__setLogger(logger);
  try {
    const result = await mastraAgent.generate(toModelMessages(turn.state.messages), {
      // Limits are the runtime's (checked before every model call); this only bounds one turn.
      maxSteps: agent.spec.limits.maxSteps + 1,
      modelSettings: { maxRetries: 0 },
      ...(turn.signal === undefined ? {} : { abortSignal: turn.signal }),
    });
    guard.rethrow();
    if (result.error !== undefined && !isTurnOver(result.error) && turn.signal?.aborted !== true) {
      throw result.error;
    }
  } catch (error) {
    guard.rethrow();
    if (isTurnOver(error) || turn.signal?.aborted === true) return;
    throw error;
  } finally {
    session?.leave();
  }
}

/**
 * The driver for `spec.framework: mastra`. Give it to the worker:
 *
 * @example
 * ```ts
 * const worker = createRuntimeWorker({ connection, store, agents: runtime.agents, drivers: [mastraDriver] });
 * ```
 */
export const mastraDriver: LoopDriver = {
  framework: "mastra",
  runsCode: true,
  async run(state, options) {
    if (options.agent.code === undefined) {
      return runLoop(state, { ...options, modelTurn: (turn) => mastraTurn(options.agent, turn) });
    }
    const session = new TurnSession();
    const agent = await nativeAgent(options.agent, await options.agent.code(), session);
    return runLoop(state, { ...options, agent, modelTurn: (turn) => mastraTurn(agent, turn, session) });
  },
};
