/**
 * What people work on: inbox items of human queues (a conversation an agent handed over) and
 * approval items (a tool call waiting for a person's yes or no), and the bodies of their actions.
 *
 * @module
 */
import { z } from "zod";
import { ActorGroups } from "./actor.ts";
import { ChatMessage, ToolCall } from "./conversation.ts";
import { DnsLabel } from "./names.ts";

export const priorities = ["low", "normal", "high", "urgent"] as const;
export const Priority = z.enum(priorities);
export type Priority = z.infer<typeof Priority>;

/** A conversation waiting for a person in a human queue. */
export const InboxItem = z.object({
  schemaVersion: z.literal(1),
  id: z.string(),
  namespace: DnsLabel,
  /** The HumanQueue it is in now (after escalations, not the first one). */
  queue: DnsLabel,
  runId: z.string(),
  /** The agent that handed the conversation over; hand-backs go to it unless another is named. */
  agent: DnsLabel,
  summary: z.string().describe("The agent's summary of the conversation."),
  reason: z.string().describe("Why the agent handed over."),
  priority: Priority,
  conversation: z.array(ChatMessage),
  status: z.enum(["waiting", "claimed"]),
  createdAt: z.iso.datetime(),
  /** When it entered its current queue: the SLA clock. */
  queuedAt: z.iso.datetime(),
  claimedBy: z.string().optional(),
  /** The groups of the person who claimed it, as the gateway authenticated them. */
  claimedByGroups: ActorGroups.optional(),
  claimedAt: z.iso.datetime().optional(),
  leaseExpiresAt: z.iso.datetime().optional(),
  escalations: z.int().min(0),
  /** How long a claim lasts without renewal (the queue's leaseSeconds). */
  leaseSeconds: z.int().min(1),
});
export type InboxItem = z.infer<typeof InboxItem>;

/** A tool call waiting for approval. */
export const ApprovalItem = z.object({
  schemaVersion: z.literal(1),
  id: z.string(),
  namespace: DnsLabel,
  agent: DnsLabel,
  runId: z.string(),
  toolCall: ToolCall,
  server: z.string(),
  tool: z.string(),
  arguments: z.record(z.string(), z.unknown()),
  /** What the model wrote with the call: its reason, when it gave one. */
  reason: z.string(),
  createdAt: z.iso.datetime(),
});
export type ApprovalItem = z.infer<typeof ApprovalItem>;

/** Claim an item: the lease defaults to the queue's leaseSeconds. */
export const ClaimRequest = z.strictObject({
  leaseSeconds: z.int().min(10).max(86_400).optional().describe("How long the claim lasts without renewal."),
});
/** Answer the user. */
export const AnswerRequest = z.strictObject({
  message: z.string().min(1).max(100_000).describe("What the person tells the user."),
  end: z
    .boolean()
    .default(true)
    .describe("True: the run ends with this answer. False: the agent continues after it."),
});
/** Hand the conversation back to an agent. */
export const HandBackRequest = z.strictObject({
  note: z.string().min(1).max(100_000).describe("What the agent should know or do next."),
  agent: DnsLabel.optional().describe("The agent to hand to; default: the agent that handed over."),
});
/** Decide an approval. */
export const DecisionRequest = z.strictObject({
  approve: z.boolean().describe("True runs the tool call; false returns an error to the model."),
  reason: z.string().max(10_000).optional().describe("Why; the model sees it when rejected."),
});
export type ClaimRequest = z.infer<typeof ClaimRequest>;
export type AnswerRequest = z.infer<typeof AnswerRequest>;
export type HandBackRequest = z.infer<typeof HandBackRequest>;
export type DecisionRequest = z.infer<typeof DecisionRequest>;
