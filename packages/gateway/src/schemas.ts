/**
 * The gateway's own wire shapes: request and response bodies that wrap the resource schemas of
 * `@freehold/api` (a run with its history, lists, the error body). Like every other body they are
 * zod schemas, parsed on every request and turned into the OpenAPI document.
 *
 * @module
 */
import { ApprovalItem, DnsLabel, InboxItem, RunEvent, RunState } from "@freehold/api";
import { z } from "zod";
import { pageFields } from "./pagination.ts";

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

/** An agent as its workers registered it. */
export const AgentSummary = z.object({
  name: z.string(),
  description: z.string().optional(),
  registeredAt: z.iso.datetime(),
});
export const AgentList = z.object({ agents: z.array(AgentSummary) });
export type AgentList = z.infer<typeof AgentList>;

/** The items of a human queue: waiting first, then claimed, each by priority. */
export const InboxItemList = z.object({ items: z.array(InboxItem), ...pageFields });
export type InboxItemList = z.infer<typeof InboxItemList>;

/** Tool calls waiting for a decision. */
export const ApprovalItemList = z.object({ items: z.array(ApprovalItem), ...pageFields });
export type ApprovalItemList = z.infer<typeof ApprovalItemList>;

/** Every error: `{code, message, details}`. */
export const ErrorBody = z.object({
  code: z.string().describe("Stable and dotted, e.g. agent.not-found."),
  message: z.string().describe("What went wrong and what to do."),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** `GET /healthz` and `GET /readyz`. */
export const HealthStatus = z.object({ status: z.enum(["ok", "ready"]) });

/** Path parameters, named as in the OpenAPI document. */
export const NamespaceParameter = DnsLabel.describe("The namespace (tenant).");
export const AgentParameter = DnsLabel.describe("The agent's name.");
export const QueueParameter = DnsLabel.describe("The HumanQueue's name.");

/**
 * A run or item id in a path: letters, digits, '.', '_' and '-', at most 200 characters (no ':',
 * no '/'). The edge checks path ids with this same schema before anything else runs, so the
 * document's pattern is the one enforced.
 */
export const PathId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/,
    "must be letters, digits, '.', '_' or '-', starting with a letter or digit, at most 200 characters",
  );
export const ItemParameter = PathId.describe("The item's id.");
export const RunParameter = PathId.describe("The run's id.");
