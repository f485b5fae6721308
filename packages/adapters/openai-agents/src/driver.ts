/**
 * The loop driver of agents with `spec.framework: openai-agents` (declarative mode, and native mode
 * once native-agent.ts has made the agent from its code): each model turn
 * of the run is the OpenAI Agents SDK's own runner loop (`Runner.run`), on the run's model (see
 * durable-model.ts) and the agent's tools as the SDK's function tools. An MCP tool's `execute` is the
 * runtime's durable tool call (through the broker's allow-list, recorded as started before it leaves
 * the worker, its result checkpointed). Handoff and delegation tools run nothing: the agent's
 * `toolUseBehavior` ends the SDK's run at them. Tools in `requireApproval` need the SDK's approval,
 * so the SDK's run stops at them with an interruption. Either way the runtime's shared transitions
 * take over (transfer, human queue, child runs, approval items), as they do after limits and when
 * the run resumes after a crash.
 *
 * Checkpoints: every model call and every tool call, as in the built-in loop.
 *
 * @module
 */
import {
  isTurnOver,
  runLoop,
  type LoopDriver,
  type ModelTurn,
  type ResolvedAgent,
  type RuntimeTool,
} from "@freehold/runtime";
import {
  Agent,
  MaxTurnsExceededError,
  ModelBehaviorError,
  Runner,
  tool,
  ToolCallError,
  type JsonSchemaDefinition,
  type Tool,
  type ToolsToFinalOutputResult,
} from "@openai/agents-core";
import { durableModel } from "./durable-model.ts";
import { toInputItems } from "./input-items.ts";
import { inTurn, nativeAgent } from "./native-agent.ts";

/** Why the SDK's run of this turn stops after its tools: set by the tools themselves. */
interface TurnStop {
  /** A tool call the SDK ran that the runtime does not run now, or the worker is shutting down. */
  over: boolean;
}

/** An MCP tool's input schema, as the SDK takes a JSON schema it does not make strict. */
type JsonSchemaParameters = Extract<JsonSchemaDefinition["schema"], { additionalProperties: true }>;

const finalOutput: ToolsToFinalOutputResult = {
  isFinalOutput: true,
  isInterrupted: undefined,
  finalOutput: "",
};
const notFinalOutput: ToolsToFinalOutputResult = { isFinalOutput: false, isInterrupted: undefined };

/**
 * The agent's tools for the SDK. An MCP tool runs durably. A handoff or delegation tool runs nothing
 * and ends the SDK's run (see `toolUseBehavior` in {@link openAiAgentsTurn}); a tool that needs
 * approval is never run by the SDK. No tool throws to stop the SDK's loop: a throw would leave the
 * other calls of the same answer running while the runtime takes the run back.
 */
function toolsOf(turn: ModelTurn, tools: readonly RuntimeTool[], stop: TurnStop): Tool[] {
  return tools.map((runtimeTool) => {
    const { definition } = runtimeTool;
    const ordinary = runtimeTool.special === undefined && !runtimeTool.requireApproval;
    return tool({
      name: definition.name,
      description: definition.description ?? "",
      parameters: definition.inputSchema as JsonSchemaParameters,
      strict: false,
      needsApproval: runtimeTool.requireApproval,
      // A failure here is Freehold's (Redis), not the tool's: it propagates and the job is retried.
      errorFunction: null,
      execute: async (_input, _context, details) => {
        const toolCallId = details?.toolCall?.callId;
        if (!ordinary || toolCallId === undefined || turn.signal?.aborted === true) {
          stop.over = true;
          return "";
        }
        const outcome = await turn.callTool(toolCallId);
        if (outcome === undefined) {
          stop.over = true;
          return "";
        }
        return outcome.content;
      },
    });
  });
}

/**
 * The error a tool call threw, out of the SDK's `ToolCallError`: the worker branches on Freehold's own
 * (`run.conflict`: the run was cancelled or taken over, released without a retry; a non-retryable
 * error is not retried).
 */
function unwrapped(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof ToolCallError; depth += 1) current = current.error;
  return current;
}

/** One model turn: the SDK's runner loop, until it answers, stops at a special call, or the turn is over. */
export async function openAiAgentsTurn(agent: ResolvedAgent, turn: ModelTurn): Promise<void> {
  const toolset = await turn.toolset();
  const stop: TurnStop = { over: false };
  const specials = new Set(
    toolset.tools
      .filter((candidate) => candidate.special !== undefined)
      .map(({ definition }) => definition.name),
  );
  const model = durableModel(turn);
  const sdkAgent = new Agent({
    name: agent.name,
    instructions: agent.spec.instructions,
    model,
    tools: toolsOf(turn, toolset.tools, stop),
    toolUseBehavior: (_context, results) =>
      stop.over || results.some((result) => specials.has(result.tool.name)) ? finalOutput : notFinalOutput,
  });
  const runner = new Runner({
    modelProvider: { getModel: () => model },
    // No tracing: the SDK's exporter would send the run to OpenAI; Freehold traces the run itself.
    tracingDisabled: true,
    // A call of a tool the agent does not have (not allowed, made up) is the runtime's to refuse: the
    // SDK goes on, its next model call finds the call pending and ends the turn.
    toolNotFoundBehavior: "return_error_to_model",
  });
  try {
    // Limits are the runtime's (checked before every model call); maxTurns only bounds one turn.
    await runner.run(sdkAgent, toInputItems(turn.state.messages), {
      maxTurns: agent.spec.limits.maxSteps + 1,
    });
  } catch (error) {
    // The runtime's loop decides what comes next from the last checkpoint: the next turn, the calls
    // the SDK did not run (an answer it could not use: ModelBehaviorError), a limit.
    if (isTurnOver(error) || error instanceof ModelBehaviorError || error instanceof MaxTurnsExceededError) {
      return;
    }
    throw unwrapped(error);
  }
}

/**
 * The driver for `spec.framework: openai-agents`, both modes: an agent with `spec.code` is the team's
 * own SDK `Agent` (native mode, see native-agent.ts), run the same way. Give it to the worker:
 *
 * @example
 * ```ts
 * const worker = createRuntimeWorker({ connection, store, agents: runtime.agents, drivers: [openAiAgentsDriver] });
 * ```
 */
export const openAiAgentsDriver: LoopDriver = {
  framework: "openai-agents",
  runsCode: true,
  run: async (state, options) => {
    const agent = await nativeAgent(options.agent);
    return runLoop(state, {
      ...options,
      agent,
      modelTurn: (turn) => inTurn(turn, () => openAiAgentsTurn(agent, turn)),
    });
  },
};
