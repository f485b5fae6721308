/**
 * The feed of a human queue: every write that changes a queue's items carries one more effect, an
 * `XADD` of an {@link InboxEvent} to the queue's stream in the item's shard (see `inboxEventsKey`),
 * so the change and its event are one atomic write. Streams are bounded (`MAXLEN ~`
 * {@link maxInboxEvents}); a follower that falls further behind gets a `reset` and lists again.
 *
 * A position in the feed is one stream id per shard; {@link encodeInboxCursor} makes it the SSE id.
 *
 * @module
 */
import { FreeholdError, InboxEvent, type InboxItem } from "@freehold/api";
import { inboxEventsKey, shardsPerNamespace } from "./keys.ts";
import type { RedisEffect } from "./redis-effects.ts";

/** About how many events one shard's stream of a queue keeps (`XADD MAXLEN ~`). */
export const maxInboxEvents = 10_000;

/** The fields every event of an item has. */
type ItemFields = "schemaVersion" | "queue" | "at" | "itemId" | "runId";

/** An event of an item, without the fields {@link inboxEventEffect} fills in. */
export type InboxChange = {
  [Type in Exclude<InboxEvent["type"], "reset">]: Omit<Extract<InboxEvent, { type: Type }>, ItemFields>;
}[Exclude<InboxEvent["type"], "reset">];

/**
 * The write that records `change` of `item` in the feed of `queue` (default: the item's queue; an
 * escalation records in both). Parsed here, so a malformed event fails the write that carries it.
 *
 * @example
 * ```ts
 * const effects = [...moveEffects, inboxEventEffect(item, { type: "released", actor: "ann" })];
 * ```
 */
export function inboxEventEffect(
  item: Pick<InboxItem, "namespace" | "queue" | "id" | "runId">,
  change: InboxChange,
  queue: string = item.queue,
): RedisEffect {
  const event = InboxEvent.parse({
    schemaVersion: 1,
    queue,
    at: new Date().toISOString(),
    itemId: item.id,
    runId: item.runId,
    ...change,
  });
  return {
    op: "xadd",
    key: inboxEventsKey(item.namespace, queue, item.id),
    field: "event",
    value: JSON.stringify(event),
    maxLength: maxInboxEvents,
  };
}

/** A position in a queue's feed: the last stream id read in each shard (`0-0`: none). */
export type InboxCursor = readonly string[];

const streamId = /^\d{1,20}-\d{1,20}$/;

/**
 * The SSE id of a position: `<shard>:<stream id>` for every shard past `0-0`, comma-separated,
 * e.g. `3:1733350000000-0,11:1733350000123-2` (the empty string: the start of every stream).
 */
export function encodeInboxCursor(cursor: InboxCursor): string {
  return cursor.flatMap((id, shard) => (id === "0-0" ? [] : [`${shard}:${id}`])).join(",");
}

/**
 * Reads an id made by {@link encodeInboxCursor}.
 *
 * @throws FreeholdError `request.invalid` when it is not one (e.g. a run event's id sent to a queue's feed).
 */
export function decodeInboxCursor(text: string): InboxCursor {
  const cursor = Array.from({ length: shardsPerNamespace }, () => "0-0");
  if (text === "") return cursor;
  for (const part of text.split(",")) {
    const [shardText = "", id = "", ...rest] = part.split(":");
    const shard = Number(shardText);
    if (
      rest.length > 0 ||
      !/^\d{1,2}$/.test(shardText) ||
      shard >= shardsPerNamespace ||
      !streamId.test(id) ||
      cursor[shard] !== "0-0"
    ) {
      throw new FreeholdError(
        "request.invalid",
        `invalid inbox feed position ${JSON.stringify(text.slice(0, 100))}: send back the id of an event ` +
          "this queue's feed gave (Last-Event-ID), or follow without one to start from now",
        { details: { in: "header", issues: [{ field: "Last-Event-ID", problem: "not an inbox feed id" }] } },
      );
    }
    cursor[shard] = id;
  }
  return cursor;
}
