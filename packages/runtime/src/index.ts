/**
 * `@freehold/runtime`: the agent loop (pure steps and their executor) and the worker that runs it
 * from the agents' queues.
 *
 * @module
 */
export { builtInDriver, modelMessages, runLoop, type ModelTurn, type RunLoopOptions } from "./run-loop.ts";
export {
  parseArguments,
  type CancelNotices,
  type Checkpoint,
  type LoopDriver,
  type LoopOptions,
  type LoopOutcome,
  type ResolvedAgent,
} from "./loop-driver.ts";
export {
  handToPeople,
  recordPeopleRequest,
  requestApprovals,
  transfer,
  type EffectfulTransition,
  type PeopleRequest,
} from "./handoff-transitions.ts";
export { admitDelegations, startChildRuns, type Admission } from "./delegations.ts";
export { interruptedReason, recoverInterrupted } from "./interrupted-calls.ts";
export { executeToolCall } from "./tool-execution.ts";
export { isTurnOver, TurnOver } from "./turn-over.ts";
export { specialTools, type Directory, type SpecialKind, type SpecialTool } from "./special-tools.ts";
export { applyModelResult, nextStep, type NextStep } from "./steps.ts";
export { toolResultText, type ToolResultLike } from "./tool-result-text.ts";
export { createToolset, type CheckedCall, type RuntimeTool, type Toolset } from "./toolset.ts";
export { contextFromTraceparent, runtimeTracer, traceparentOf } from "./tracing.ts";
export { loadAgentCode } from "./agent-code.ts";
export { codeToolServer, withCodeTools, type CodeTool } from "./code-tools.ts";
export { createRuntime, type CreateRuntimeOptions, type Runtime } from "./create-runtime.ts";
export {
  createMetricsRegistry,
  createRuntimeMetrics,
  humanQueueWaiting,
  type AgentMetrics,
  type MetricsAgent,
  type RuntimeMetrics,
  type RuntimeMetricsSources,
} from "./metrics.ts";
export { createRuntimeWorker, type RuntimeWorker, type RuntimeWorkerOptions } from "./worker.ts";
