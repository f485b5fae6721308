/**
 * The gateway's wire shapes: request and response bodies that wrap the resource schemas (a run with
 * its history, a run's summary, lists, the error body). The gateway parses and documents its bodies with them, and
 * the typed client (`@freehold/sdk/client`) parses its answers with the same ones: one source.
 *
 * @module
 */
import { z } from "zod";
import { Condition } from "./conditions.ts";
import { ApprovalItem, InboxItem } from "./inbox.ts";
import { RunEvent, RunState } from "./run.ts";

/** A run id chosen by the caller: safe in Redis keys, URLs and BullMQ job ids. */
export const RunId = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    "must be letters, digits, '.', '_' or '-', starting with a letter or digit",
  )
  .describe("The run's id; default: a random UUID.");

/** `POST /v1/namespaces/{namespace}/agents/{agent}/runs`. */
export const StartRunBody = z.strictObject({
  input: z.string().min(1).max(1_000_000).describe("What the user asks the agent."),
  runId: RunId.optional(),
});
export type StartRunBody = z.infer<typeof StartRunBody>;

/** An event as stored: its Redis stream id (the SSE `id`, for `Last-Event-ID`) and the event. */
export const StoredRunEvent = z.object({
  id: z.string().describe("The Redis stream id; resume after it with Last-Event-ID."),
  event: RunEvent,
});
export type StoredRunEvent = z.infer<typeof StoredRunEvent>;

/** A run and its history (every event so far). */
export const RunDetails = RunState.extend({
  history: z.array(StoredRunEvent).describe("The run's events so far, oldest first."),
});
export type RunDetails = z.infer<typeof RunDetails>;

/** `GET .../runs/{runId}/events?follow=false`. */
export const RunEventList = z.object({ events: z.array(StoredRunEvent) });
export type RunEventList = z.infer<typeof RunEventList>;

/** An agent as its workers registered it, with what the platform knows of it now. */
export const AgentSummary = z.object({
  name: z.string(),
  description: z.string().optional(),
  registeredAt: z.iso.datetime(),
  queued: z.int().min(0).optional().describe("Runs waiting on its queue for a worker."),
  working: z.int().min(0).optional().describe("Runs a worker is on now."),
  model: z.string().optional().describe("The Model it names."),
  tools: z.array(z.string()).optional().describe("The MCP servers (and `agent <name>`) it calls as tools."),
  handoffs: z.array(z.string()).optional().describe("The agents (and `people <queue>`) it may hand to."),
  conditions: z
    .array(Condition)
    .optional()
    .describe(
      "Its status conditions as the operator wrote them (Ready and why not); absent outside a cluster.",
    ),
});
export const AgentList = z.object({ agents: z.array(AgentSummary) });
export type AgentList = z.infer<typeof AgentList>;

/** What a page adds to a list's body. */
export const pageFields = {
  nextCursor: z
    .string()
    .optional()
    .describe("Absent on the last page; otherwise pass it as cursor to get the next page."),
};

/** The items of a human queue: waiting first, then claimed, each by priority. */
export const InboxItemList = z.object({ items: z.array(InboxItem), ...pageFields });
export type InboxItemList = z.infer<typeof InboxItemList>;

/** A human queue the caller works, with its numbers now. */
export const HumanQueueSummary = z.object({
  name: z.string(),
  description: z.string().optional(),
  waiting: z.int().min(0).describe("Items waiting for someone to claim them."),
  claimed: z.int().min(0).describe("Items someone holds a claim on."),
  oldestWaitingSince: z.iso
    .datetime()
    .optional()
    .describe("When the item that has waited longest entered the queue; absent when none waits."),
  claimWithinSeconds: z
    .int()
    .optional()
    .describe("The queue's SLA: how long an item may wait unclaimed before it escalates."),
  resolveWithinSeconds: z
    .int()
    .optional()
    .describe("The queue's SLA: how long a claimed item may stay open before it escalates."),
});
export type HumanQueueSummary = z.infer<typeof HumanQueueSummary>;

/** The human queues of a namespace whose items the caller works (its members' and open ones). */
export const HumanQueueList = z.object({ queues: z.array(HumanQueueSummary) });
export type HumanQueueList = z.infer<typeof HumanQueueList>;

/** Tool calls waiting for a decision. */
export const ApprovalItemList = z.object({
  items: z.array(
    ApprovalItem.extend({
      notYours: z
        .string()
        .optional()
        .describe(
          "Why you may not decide this call (you started its run: separation of duties); absent when you may.",
        ),
    }),
  ),
  ...pageFields,
});
export type ApprovalItemList = z.infer<typeof ApprovalItemList>;

/**
 * A run as a list shows it: where it stands, what it spent, what it waits for or why it ended;
 * not its input, output or conversation (`GET .../runs/{runId}` has those).
 */
export const RunSummary = RunState.pick({
  id: true,
  namespace: true,
  agent: true,
  status: true,
  steps: true,
  usage: true,
  waiting: true,
  parent: true,
  limit: true,
  error: true,
  createdAt: true,
  updatedAt: true,
  finishedAt: true,
});
export type RunSummary = z.infer<typeof RunSummary>;

/**
 * A page of a namespace's runs, newest first. With filters, a page may hold fewer items than asked
 * for (even none) and still have a `nextCursor`: each page reads a bounded stretch of the runs.
 */
export const RunList = z.object({
  items: z.array(
    RunSummary.extend({
      startedBy: z
        .string()
        .optional()
        .describe(
          "Who started it (a child run: who started its first ancestor), as the gateway recorded them.",
        ),
    }),
  ),
  ...pageFields,
});
export type RunList = z.infer<typeof RunList>;

/** Every error: `{code, message, details}`. */
export const ErrorBody = z.object({
  code: z.string().describe("Stable and dotted, e.g. agent.not-found."),
  message: z.string().describe("What went wrong and what to do."),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
