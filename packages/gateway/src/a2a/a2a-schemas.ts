/**
 * The part of the A2A (Agent2Agent) protocol, version 0.3.0, that the gateway speaks: the agent
 * card, messages and their parts, tasks and their states, streaming updates, and the JSON-RPC 2.0
 * envelope with its methods `message/send`, `message/stream`, `tasks/get`, `tasks/cancel` and
 * `tasks/resubscribe`. Unknown fields are dropped, not refused, as the protocol grows by adding them.
 *
 * @module
 */
import { z } from "zod";

/** The A2A protocol version the gateway implements. */
export const a2aProtocolVersion = "0.3.0";

const Metadata = z.record(z.string(), z.unknown());

export const TextPart = z.object({
  kind: z.literal("text"),
  text: z.string(),
  metadata: Metadata.optional(),
});
export const FilePart = z.object({
  kind: z.literal("file"),
  file: z.object({
    name: z.string().optional(),
    mimeType: z.string().optional(),
    bytes: z.string().optional(),
    uri: z.string().optional(),
  }),
  metadata: Metadata.optional(),
});
export const DataPart = z.object({
  kind: z.literal("data"),
  data: z.record(z.string(), z.unknown()),
  metadata: Metadata.optional(),
});
export const Part = z.discriminatedUnion("kind", [TextPart, FilePart, DataPart]);
export type Part = z.infer<typeof Part>;

/** One message between a client (`user`) and an agent (`agent`). */
export const A2aMessage = z.object({
  kind: z.literal("message"),
  role: z.enum(["user", "agent"]),
  parts: z.array(Part).min(1),
  messageId: z.string().min(1),
  taskId: z.string().optional(),
  contextId: z.string().optional(),
  referenceTaskIds: z.array(z.string()).optional(),
  metadata: Metadata.optional(),
});
export type A2aMessage = z.infer<typeof A2aMessage>;

/** `message/send` and `message/stream`. */
export const MessageSendParams = z.object({
  message: A2aMessage,
  configuration: z
    .object({
      acceptedOutputModes: z.array(z.string()).optional(),
      historyLength: z.int().min(0).optional(),
      /** Default true: answer once the task is done or needs input. */
      blocking: z.boolean().optional(),
    })
    .optional(),
  metadata: Metadata.optional(),
});
export type MessageSendParams = z.infer<typeof MessageSendParams>;

/** `tasks/get`. */
export const TaskQueryParams = z.object({
  id: z.string().min(1),
  historyLength: z.int().min(0).optional(),
  metadata: Metadata.optional(),
});
/** `tasks/cancel` and `tasks/resubscribe`. */
export const TaskIdParams = z.object({ id: z.string().min(1), metadata: Metadata.optional() });

export const taskStates = [
  "submitted",
  "working",
  "input-required",
  "completed",
  "canceled",
  "failed",
  "rejected",
  "auth-required",
  "unknown",
] as const;
export const TaskState = z.enum(taskStates);
export type TaskState = z.infer<typeof TaskState>;

export const TaskStatus = z.object({
  state: TaskState,
  message: A2aMessage.optional(),
  timestamp: z.iso.datetime().optional(),
});
export type TaskStatus = z.infer<typeof TaskStatus>;

export const Artifact = z.object({
  artifactId: z.string(),
  name: z.string().optional(),
  description: z.string().optional(),
  parts: z.array(Part),
  metadata: Metadata.optional(),
});
export type Artifact = z.infer<typeof Artifact>;

/** A task: one Freehold run (the task id is the run id). */
export const Task = z.object({
  kind: z.literal("task"),
  id: z.string(),
  contextId: z.string(),
  status: TaskStatus,
  history: z.array(A2aMessage).optional(),
  artifacts: z.array(Artifact).optional(),
  metadata: Metadata.optional(),
});
export type Task = z.infer<typeof Task>;

export const TaskStatusUpdateEvent = z.object({
  kind: z.literal("status-update"),
  taskId: z.string(),
  contextId: z.string(),
  status: TaskStatus,
  /** True on the last event of the stream. */
  final: z.boolean(),
  metadata: Metadata.optional(),
});
export type TaskStatusUpdateEvent = z.infer<typeof TaskStatusUpdateEvent>;

export const TaskArtifactUpdateEvent = z.object({
  kind: z.literal("artifact-update"),
  taskId: z.string(),
  contextId: z.string(),
  artifact: Artifact,
  append: z.boolean().optional(),
  lastChunk: z.boolean().optional(),
  metadata: Metadata.optional(),
});
export type TaskArtifactUpdateEvent = z.infer<typeof TaskArtifactUpdateEvent>;

export const AgentSkill = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  tags: z.array(z.string()),
  examples: z.array(z.string()).optional(),
  inputModes: z.array(z.string()).optional(),
  outputModes: z.array(z.string()).optional(),
});

/** A2A 0.3's `HTTPAuthSecurityScheme` (OpenAPI's `http` security scheme), e.g. bearer tokens. */
export const HttpAuthSecurityScheme = z.object({
  type: z.literal("http"),
  scheme: z.string().describe("The HTTP Authorization scheme, e.g. bearer."),
  bearerFormat: z.string().optional(),
  description: z.string().optional(),
});

/** What an agent publishes about itself, at `.well-known/agent-card.json`. */
export const AgentCard = z.object({
  protocolVersion: z.string(),
  name: z.string(),
  description: z.string(),
  url: z.url(),
  preferredTransport: z.string(),
  additionalInterfaces: z.array(z.object({ url: z.url(), transport: z.string() })).optional(),
  provider: z.object({ organization: z.string(), url: z.string() }).optional(),
  version: z.string(),
  documentationUrl: z.string().optional(),
  capabilities: z.object({
    streaming: z.boolean().optional(),
    pushNotifications: z.boolean().optional(),
    stateTransitionHistory: z.boolean().optional(),
  }),
  securitySchemes: z
    .record(z.string(), HttpAuthSecurityScheme)
    .optional()
    .describe("How callers authenticate, by scheme name."),
  security: z
    .array(z.record(z.string(), z.array(z.string())))
    .optional()
    .describe("Which schemes a request must satisfy (any one entry)."),
  defaultInputModes: z.array(z.string()),
  defaultOutputModes: z.array(z.string()),
  skills: z.array(AgentSkill),
});
export type AgentCard = z.infer<typeof AgentCard>;

const JsonRpcId = z.union([z.string(), z.number(), z.null()]);

/** A JSON-RPC 2.0 request. */
export const JsonRpcRequest = z.object({
  jsonrpc: z.literal("2.0"),
  id: JsonRpcId.optional(),
  method: z.string().min(1),
  params: z.record(z.string(), z.unknown()).optional(),
});
export type JsonRpcRequest = z.infer<typeof JsonRpcRequest>;

/** A JSON-RPC 2.0 response: `result` or `error`. */
export const JsonRpcResponse = z.union([
  z.object({
    jsonrpc: z.literal("2.0"),
    id: JsonRpcId,
    result: z.union([Task, TaskStatusUpdateEvent, TaskArtifactUpdateEvent]),
  }),
  z.object({
    jsonrpc: z.literal("2.0"),
    id: JsonRpcId,
    error: z.object({ code: z.int(), message: z.string(), data: z.unknown().optional() }),
  }),
]);
export type JsonRpcResponse = z.infer<typeof JsonRpcResponse>;
