/**
 * A run: one conversation with an agent, from the caller's input to a final answer, a handoff or a
 * limit. Its state is stored in Redis after every step (a checkpoint) and parsed on every read; its
 * events go on a stream that a late subscriber can replay from the start.
 *
 * @module
 */
import { z } from "zod";
import { ActorGroups } from "./actor.ts";
import { InterruptPolicy } from "./agent.ts";
import { AssistantMessage, ChatMessage, ToolCall, Usage } from "./conversation.ts";
import { DnsLabel } from "./names.ts";

/** Where a run is. Terminal: completed, failed, cancelled, limit_exceeded. */
export const runStatuses = [
  "queued",
  "running",
  "waiting_for_human",
  "waiting_for_approval",
  "waiting_for_agent",
  "completed",
  "failed",
  "cancelled",
  "limit_exceeded",
] as const;
export const RunStatus = z.enum(runStatuses);
export type RunStatus = z.infer<typeof RunStatus>;

const terminalStatuses: ReadonlySet<RunStatus> = new Set([
  "completed",
  "failed",
  "cancelled",
  "limit_exceeded",
]);

/** True when the run will not change any more. */
export function isTerminal(status: RunStatus): boolean {
  return terminalStatuses.has(status);
}

/** The limit a run hit: one of its agent's `spec.limits`, or its tenant's `tokensPerDay` quota. */
export const RunLimit = z.enum([
  "maxSteps",
  "maxTokens",
  "timeoutSeconds",
  "maxHandoffs",
  "invalidOutput",
  "tokensPerDay",
]);
export type RunLimit = z.infer<typeof RunLimit>;

/** An error, as stored and sent: `{code, message, details}`. */
export const ErrorRecord = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorRecord = z.infer<typeof ErrorRecord>;

/**
 * A tool call the model asked for, and what became of it. `idempotencyKey` goes to the MCP server
 * with every attempt, so a call retried after a crash can be recognized.
 */
export const ToolCallRecord = z.object({
  toolCall: ToolCall,
  /** The MCP server and its tool's name; absent when the call was invalid. */
  server: z.string().optional(),
  tool: z.string().optional(),
  idempotencyKey: z.string(),
  status: z.enum(["pending", "done"]),
  /** For a tool in requireApproval: where its approval stands. */
  approval: z.enum(["required", "approved"]).optional(),
  /**
   * What happens to this call if its worker stops while it runs (see AgentTool.onInterrupt): set
   * when the model asks for the call, so a resumed run follows the policy the call was made under.
   */
  onInterrupt: InterruptPolicy.optional(),
  /** How many times a worker stopped while this call ran (its outcome unknown each time). */
  interruptions: z.int().min(0).optional(),
  /** For a handoff or delegation tool: what the call does instead of reaching an MCP server. */
  special: z
    .discriminatedUnion("kind", [
      z.object({ kind: z.literal("transfer"), agent: z.string() }),
      z.object({ kind: z.literal("human"), queue: z.string() }),
      z.object({ kind: z.literal("delegate"), agent: z.string(), childRunId: z.string() }),
    ])
    .optional(),
  /** The text the model gets back (tool output or error). */
  content: z.string().optional(),
  isError: z.boolean().optional(),
  /** The full MCP CallToolResult (structured content, images), when the tool ran. */
  result: z.unknown().optional(),
  startedAt: z.iso.datetime().optional(),
  finishedAt: z.iso.datetime().optional(),
});
export type ToolCallRecord = z.infer<typeof ToolCallRecord>;

/** What a suspended run waits for. */
export const RunWaiting = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("human"), queue: z.string(), itemId: z.string() }),
  z.object({ kind: z.literal("approval"), itemIds: z.array(z.string()) }),
  z.object({ kind: z.literal("agent"), childRunIds: z.array(z.string()) }),
]);
export type RunWaiting = z.infer<typeof RunWaiting>;

/** The run that started this one as a tool call (agent used as a tool). */
export const RunParent = z.object({
  runId: z.string(),
  toolCallId: z.string(),
  agent: z.string(),
  /** How deep the delegation nests: 1 for a child of a run nobody delegated (absent: 1). */
  depth: z.int().min(1).optional(),
});
export type RunParent = z.infer<typeof RunParent>;

/** The stored state of a run. Version 1. */
export const RunState = z.object({
  schemaVersion: z.literal(1),
  id: z.string().min(1),
  namespace: DnsLabel,
  agent: DnsLabel.describe("The agent that owns the run now."),
  status: RunStatus,
  input: z.string(),
  /** The conversation so far, without the agent's instructions (added at each model call). */
  messages: z.array(ChatMessage),
  /** Tool calls of the last model turn that still need a result, in the model's order. */
  pendingToolCalls: z.array(ToolCallRecord),
  steps: z.int().min(0).describe("Model calls made."),
  usage: Usage,
  /** Milliseconds spent working (not waiting), for timeoutSeconds. */
  activeMs: z.number().min(0),
  /** Consecutive model turns with invalid tool calls (bounded). */
  invalidTurns: z.int().min(0),
  /** Transfers between agents so far (bounded by the agent's limits.maxHandoffs). */
  hops: z.int().min(0),
  /** Child runs this run started (agents used as tools), bounded by limits.maxChildRuns (absent: 0). */
  childRuns: z.int().min(0).optional(),
  /** Set while the run is suspended (waiting_for_human, waiting_for_approval, waiting_for_agent). */
  waiting: RunWaiting.optional(),
  parent: RunParent.optional(),
  /** Bumped by every checkpoint; a checkpoint based on an older revision is refused. */
  revision: z.int().min(0),
  output: z.string().optional(),
  limit: RunLimit.optional(),
  error: ErrorRecord.optional(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().optional(),
  /** W3C traceparent of the run's root span, so the trace continues on any worker. */
  traceparent: z.string().optional(),
});
export type RunState = z.infer<typeof RunState>;

const eventBase = {
  runId: z.string(),
  time: z.iso.datetime(),
};

/** What happened in a run, one event per step. Named noun-then-verb. */
export const RunEvent = z.discriminatedUnion("type", [
  z.object({ ...eventBase, type: z.literal("run-start"), agent: z.string(), input: z.string() }),
  z.object({ ...eventBase, type: z.literal("model-call-start"), step: z.int(), model: z.string() }),
  z.object({
    ...eventBase,
    type: z.literal("model-call-end"),
    step: z.int(),
    model: z.string(),
    message: AssistantMessage,
    usage: Usage,
    finishReason: z.string(),
    durationMs: z.number(),
  }),
  z.object({
    ...eventBase,
    type: z.literal("tool-call-start"),
    toolCall: ToolCall,
    server: z.string().optional(),
  }),
  z.object({
    ...eventBase,
    type: z.literal("tool-call-end"),
    toolCallId: z.string(),
    name: z.string(),
    content: z.string(),
    isError: z.boolean(),
    durationMs: z.number(),
  }),
  z.object({
    ...eventBase,
    type: z.literal("tool-call-interrupted"),
    toolCallId: z.string(),
    name: z.string(),
    idempotencyKey: z.string(),
    policy: InterruptPolicy.describe(
      "What was done: run it again (`retry`), end it with an error (`fail`), or ask a person (`ask`).",
    ),
  }),
  z.object({
    ...eventBase,
    type: z.literal("agent-transfer"),
    from: z.string(),
    to: z.string(),
    note: z.string(),
    hop: z.int(),
  }),
  z.object({
    ...eventBase,
    type: z.literal("delegation-start"),
    agent: z.string(),
    childRunId: z.string(),
    toolCallId: z.string(),
  }),
  z.object({
    ...eventBase,
    type: z.literal("delegation-end"),
    childRunId: z.string(),
    toolCallId: z.string(),
    status: RunStatus,
  }),
  z.object({
    ...eventBase,
    type: z.literal("human-handoff"),
    queue: z.string(),
    itemId: z.string(),
    summary: z.string(),
    reason: z.string(),
    priority: z.string(),
  }),
  z.object({
    ...eventBase,
    type: z.literal("human-action"),
    action: z.enum(["claim", "release", "claim-expire", "answer", "hand-back", "escalate"]),
    actor: z.string().describe("Who acted: a person's name, or `sla` for an escalation."),
    actorGroups: ActorGroups.optional(),
    queue: z.string(),
    itemId: z.string(),
    message: z.string().optional(),
    agent: z.string().optional(),
    toQueue: z.string().optional(),
  }),
  z.object({
    ...eventBase,
    type: z.literal("approval-request"),
    itemId: z.string(),
    toolCall: ToolCall,
    server: z.string(),
    tool: z.string(),
  }),
  z.object({
    ...eventBase,
    type: z.literal("approval-decision"),
    itemId: z.string(),
    toolCallId: z.string(),
    approved: z.boolean(),
    actor: z.string(),
    actorGroups: ActorGroups.optional(),
    reason: z.string().optional(),
  }),
  z.object({
    ...eventBase,
    type: z.literal("run-end"),
    status: RunStatus,
    output: z.string().optional(),
    limit: RunLimit.optional(),
    error: ErrorRecord.optional(),
    usage: Usage,
    steps: z.int(),
  }),
]);
export type RunEvent = z.infer<typeof RunEvent>;
export type RunEventType = RunEvent["type"];

/** A job on an agent's queue: which run to work on. The run's state is in the run store. */
export const RunJob = z.object({
  schemaVersion: z.literal(1),
  runId: z.string().min(1),
  namespace: DnsLabel,
});
export type RunJob = z.infer<typeof RunJob>;
