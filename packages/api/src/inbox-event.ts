/**
 * The live feed of a human queue: one small event per change to the queue's items, enough for a
 * client to keep its list of the queue up to date (it re-reads an item by id for the rest). Written
 * by the handoff package in the same atomic write as the change; served by the gateway as
 * Server-Sent Events (`GET .../humanqueues/{queue}/events`) and followed by the typed client's
 * `followInbox`.
 *
 * Events of one item come in the order they happened; events of different items may interleave in
 * another order than their `at` times (the feed merges several Redis streams, see keys.ts).
 *
 * @module
 */
import { z } from "zod";
import { DnsLabel } from "./names.ts";
import { Priority } from "./inbox.ts";

const base = {
  schemaVersion: z.literal(1),
  /** The queue whose feed this is. */
  queue: DnsLabel,
  at: z.iso.datetime().describe("When the change happened."),
};

const itemBase = {
  ...base,
  itemId: z.string().describe("The item; read it with GET .../inbox/items/{itemId}."),
  runId: z.string().describe("The run waiting for the item."),
};

/** What a person did, or `lease` / `sla` when the gateway's sweep acted. */
const actor = z.string().describe("Who acted: a person's name, or `sla` for an escalation.");

/** One change to a human queue's items, or a `reset` of the feed. */
export const InboxEvent = z.discriminatedUnion("type", [
  z.object({
    ...itemBase,
    type: z.literal("added"),
    priority: Priority,
    escalatedFrom: DnsLabel.optional().describe("Set when the item came by escalation from this queue."),
  }),
  z.object({
    ...itemBase,
    type: z.literal("claimed"),
    actor,
    leaseExpiresAt: z.iso.datetime(),
  }),
  z.object({ ...itemBase, type: z.literal("released"), actor }),
  z.object({
    ...itemBase,
    type: z.literal("lease-expired"),
    actor: actor.describe("Who held the claim that expired."),
  }),
  z.object({
    ...itemBase,
    type: z.literal("escalated"),
    actor,
    toQueue: DnsLabel.optional().describe("The queue it went to (an `added` event there)."),
    toAgent: DnsLabel.optional().describe("The agent that took the conversation over."),
  }),
  z.object({
    ...itemBase,
    type: z.literal("removed"),
    reason: z
      .enum(["answered", "handed-back", "cancelled", "run-ended"])
      .describe("answered / handed-back by `actor`; the run was cancelled; the run ended otherwise."),
    actor: actor.optional(),
  }),
  z.object({
    ...base,
    type: z.literal("reset"),
    reason: z
      .enum(["start", "missed"])
      .describe(
        "start: the feed begins here, list the queue now and apply the events that follow; " +
          "missed: events since the last id were trimmed away, list the queue again.",
      ),
  }),
]);
export type InboxEvent = z.infer<typeof InboxEvent>;

/** The kinds of {@link InboxEvent}. */
export type InboxEventType = InboxEvent["type"];

/**
 * An inbox event with its position in the feed: send `id` back as `Last-Event-ID` (or `after`) to
 * resume after it. The id is opaque: it names a position in each of the queue's streams.
 */
export const StoredInboxEvent = z.object({
  id: z.string().describe("The feed position after this event; resume after it with Last-Event-ID."),
  event: InboxEvent,
});
export type StoredInboxEvent = z.infer<typeof StoredInboxEvent>;
