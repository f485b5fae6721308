/**
 * `@freehold/api`: the zod schemas of every Freehold resource, and what is generated from them.
 *
 * @module
 */
export {
  agentToolCycle,
  Agent,
  AgentHandoff,
  AgentLimits,
  AgentA2A,
  AgentCode,
  AgentRuntime,
  AgentSpec,
  AgentTool,
  Framework,
  frameworks,
  InterruptPolicy,
  interruptPolicies,
} from "./agent.ts";
export { ActorGroups, maxActorGroupLength, maxActorGroups, recordedActor, type Actor } from "./actor.ts";
export { Condition } from "./conditions.ts";
export {
  allCustomResourceDefinitionsYaml,
  customResourceDefinition,
  customResourceDefinitionYaml,
  generatedFiles,
  manifestJsonSchema,
} from "./crds.ts";
export { FreeholdError, isFreeholdError, type FreeholdErrorOptions, type SerializedError } from "./errors.ts";
export { HumanQueue, HumanQueueSpec, Subject } from "./human-queue.ts";
export { redactUrls } from "./redact.ts";
export { startDeadline, type Deadline } from "./deadline.ts";
export { isoTime } from "./time.ts";
export { formatPath, parseManifest, parseManifests, type ManifestIssue, type Resource } from "./manifests.ts";
export { McpServer, McpServerSpec } from "./mcp-server.ts";
export { Model, ModelParameters, ModelSpec, Provider, providers } from "./model.ts";
export {
  apiVersion,
  DnsLabel,
  group,
  ObjectMeta,
  ResourceName,
  SecretKeySelector,
  ToolName,
  version,
} from "./names.ts";
export type { PrinterColumn, ResourceKind } from "./resource.ts";
export { findResourceKind, resourceKinds } from "./resources.ts";
export { Tenant, TenantSpec } from "./tenant.ts";
export { withRules, type CelRule, type ValidationRule } from "./validation-rule.ts";
export {
  addUsage,
  AssistantMessage,
  ChatMessage,
  SystemMessage,
  ToolCall,
  ToolMessage,
  Usage,
  UserMessage,
} from "./conversation.ts";
export {
  ErrorRecord,
  isTerminal,
  RunEvent,
  RunJob,
  RunLimit,
  RunState,
  RunStatus,
  runStatuses,
  ToolCallRecord,
  type RunEventType,
} from "./run.ts";
export { RuntimeConfig, secretEnvName } from "./runtime-config.ts";
export {
  AnswerRequest,
  ApprovalItem,
  ClaimRequest,
  DecisionRequest,
  HandBackRequest,
  InboxItem,
  Priority,
  priorities,
} from "./inbox.ts";
export { InboxEvent, StoredInboxEvent, type InboxEventType } from "./inbox-event.ts";
export { RunParent, RunWaiting } from "./run.ts";
export {
  AgentList,
  AgentSummary,
  ApprovalItemList,
  ErrorBody,
  HumanQueueList,
  HumanQueueSummary,
  InboxItemList,
  pageFields,
  RunDetails,
  RunEventList,
  RunId,
  RunList,
  RunSummary,
  StartRunBody,
  StoredRunEvent,
} from "./gateway-api.ts";
