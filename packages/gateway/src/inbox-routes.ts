/**
 * Human queues' inboxes: list a queue's items, read one, and act on it as the authenticated person:
 * claim (a lease), release, answer the user, hand back to an agent. Each action is a verb on
 * `humanqueues/items` (get, list, claim, update, answer) named by the queue, and only the queue's
 * `spec.members` (when it sets them) see and work its items. A queue's changes are also a live feed
 * (Server-Sent Events) for inboxes that stay up to date without listing again.
 *
 * @module
 */
import {
  AnswerRequest,
  ClaimRequest,
  FreeholdError,
  HandBackRequest,
  InboxEvent,
  InboxItem,
  RunState,
} from "@freehold/api";
import { z } from "zod";
import type { Verb } from "./auth/authorizer.ts";
import type { Identity } from "./auth/identity.ts";
import type { GatewayParts } from "./gateway-parts.ts";
import { defaultPageSize, inboxCursor, inboxPosition, pageQuery } from "./pagination.ts";
import { defineRoute, json, linksTo, type Route } from "./route.ts";
import { runLinks } from "./run-routes.ts";
import { decodeInboxCursor, humanQueueCounts, inboxPage } from "@freehold/handoff";
import { serverSentEvents } from "./server-sent-events.ts";
import {
  ErrorBody,
  HumanQueueList,
  InboxItemList,
  ItemParameter,
  NamespaceParameter,
  QueueParameter,
} from "./schemas.ts";

const queueParams = z.object({ namespace: NamespaceParameter, queue: QueueParameter });
const itemParams = z.object({ namespace: NamespaceParameter, queue: QueueParameter, itemId: ItemParameter });

/** The RBAC action of a verb on a queue's items. */
const onItems =
  (verb: Verb) =>
  ({ namespace, queue }: { namespace: string; queue: string }) =>
    ({ verb, resource: "humanqueues", subresource: "items", namespace, name: queue }) as const;

const responses = {
  400: { description: "A parameter or the body does not match its schema.", schema: ErrorBody },
  403: {
    description: "You may not do this on the queue's items, or are not one of its members (auth.forbidden).",
    schema: ErrorBody,
  },
  404: {
    description: "No such item in the queue (inbox.item-not-found), or a namespace you cannot read.",
    schema: ErrorBody,
  },
  409: {
    description:
      "The item is claimed by someone else (inbox.already-claimed), not claimed by you " +
      "(inbox.not-claimed-by-you), or its run moved on (run.finished, inbox.stale-item).",
    schema: ErrorBody,
  },
} as const;

/** What can be done with an item. */
const itemOperations = [
  "getInboxItem",
  "claimInboxItem",
  "releaseInboxItem",
  "answerInboxItem",
  "handBackInboxItem",
] as const;

/** Where an answer that is an item (its `id` and `queue`) leads. */
const itemLinks = linksTo(itemOperations, {
  namespace: "$request.path.namespace",
  queue: "$response.body#/queue",
  itemId: "$response.body#/id",
});

/** The item, if it is in `queue` now (items move on escalation) and the identity is a member. */
async function itemInQueue(
  parts: GatewayParts,
  identity: Identity,
  { namespace, queue, itemId }: { namespace: string; queue: string; itemId: string },
): Promise<InboxItem> {
  await parts.access.requireQueueMember(identity, namespace, queue);
  const item = await parts.inbox.get(namespace, itemId);
  if (item.queue !== queue) {
    throw new FreeholdError(
      "inbox.item-not-found",
      `inbox item ${itemId} is not in queue ${queue}; it is in ${item.queue} now`,
      { details: { namespace, itemId, queue: item.queue } },
    );
  }
  return item;
}

export const listHumanQueuesRoute = defineRoute({
  method: "get",
  path: "/v1/namespaces/{namespace}/humanqueues",
  operationId: "listHumanQueues",
  summary: "The human queues whose items you work (its members' and open ones), with their numbers",
  tag: "inbox",
  params: z.object({ namespace: NamespaceParameter }),
  access: ({ namespace }) => ({ verb: "list", resource: "humanqueues", namespace }),
  responses: {
    200: {
      description: "The queues, by name, each with its waiting and claimed items and its oldest wait.",
      schema: HumanQueueList,
    },
    400: responses[400],
    403: { description: "You may not list the namespace's human queues.", schema: ErrorBody },
    404: { description: "A namespace you cannot read.", schema: ErrorBody },
  },
  handle: async (parts, { params, identity }) => {
    const queues = await parts.access.memberQueues(identity, params.namespace);
    const counted = await Promise.all(
      queues.map(async (queue) => {
        const counts = await humanQueueCounts(parts.redis, params.namespace, queue.name);
        return {
          name: queue.name,
          ...(queue.description === undefined ? {} : { description: queue.description }),
          waiting: counts.waiting,
          claimed: counts.claimed,
          ...(queue.sla === undefined ? {} : { claimWithinSeconds: queue.sla.claimWithinSeconds }),
          ...(queue.sla?.resolveWithinSeconds === undefined
            ? {}
            : { resolveWithinSeconds: queue.sla.resolveWithinSeconds }),
          ...(counts.oldestQueuedAt === undefined
            ? {}
            : { oldestWaitingSince: new Date(counts.oldestQueuedAt).toISOString() }),
        };
      }),
    );
    return json(HumanQueueList, { queues: counted });
  },
});

export const listInboxRoute = defineRoute({
  method: "get",
  path: "/v1/namespaces/{namespace}/humanqueues/{queue}/items",
  operationId: "listInboxItems",
  summary: "A human queue's items: waiting ones by priority then age, then claimed ones",
  tag: "inbox",
  params: queueParams,
  query: z.object(pageQuery),
  access: onItems("list"),
  responses: {
    200: {
      description: "The items.",
      schema: InboxItemList,
      links: linksTo(itemOperations, {
        namespace: "$request.path.namespace",
        queue: "$request.path.queue",
        itemId: "$response.body#/items/0/id",
      }),
    },
    400: responses[400],
    403: responses[403],
    404: { description: "A namespace you cannot read.", schema: ErrorBody },
  },
  handle: async (parts, { params, query, identity }) => {
    await parts.access.requireQueueMember(identity, params.namespace, params.queue);
    // One page read from the queue's sorted sets, not the whole queue.
    const read = await inboxPage(parts.redis, params.namespace, params.queue, {
      limit: query.limit ?? defaultPageSize,
      ...(query.cursor === undefined ? {} : { after: inboxPosition(query.cursor) }),
    });
    return json(InboxItemList, {
      items: read.items,
      ...(read.next === undefined ? {} : { nextCursor: inboxCursor(read.next) }),
    });
  },
});

/** A position in a queue's feed, as its SSE ids give it (checked in full by the handler). */
const FeedPosition = z
  .string()
  .max(1000)
  .regex(
    /^(\d{1,2}:\d{1,20}-\d{1,20}(,\d{1,2}:\d{1,20}-\d{1,20})*)?$/,
    "must be an id of this queue's feed as sent in the SSE id field, e.g. 3:1700000000000-0",
  );

export const inboxEventsRoute = defineRoute({
  method: "get",
  path: "/v1/namespaces/{namespace}/humanqueues/{queue}/events",
  operationId: "inboxEvents",
  summary: "A human queue's changes as they happen: Server-Sent Events of InboxEvent",
  description:
    "One message per change to the queue's items (added, claimed, released, lease-expired, " +
    "escalated, removed), each with its feed position (`id:`). Without Last-Event-ID the feed starts " +
    "now with a `reset` event (reason `start`): list the queue's items then, and apply the events " +
    "that follow (re-read an item by id for more than an event says). Reconnect with Last-Event-ID " +
    "(or `?after=`) to resume after the last event received; a position the feed no longer keeps " +
    "starts with a `reset` (reason `missed`): list the queue again. The stream does not end on its " +
    "own; comments keep idle connections open.",
  tag: "inbox",
  params: queueParams,
  query: z.object({
    after: FeedPosition.optional().describe(
      "Resume after this feed position (Last-Event-ID takes precedence).",
    ),
  }),
  access: onItems("list"),
  headers: [
    {
      name: "Last-Event-ID",
      description: "Resume after this feed position (sent by EventSource on reconnect); empty: from now.",
      required: false,
      schema: FeedPosition,
    },
  ],
  responses: {
    200: {
      description: "The feed: an SSE stream.",
      eventStream:
        "One message per change: `id:` the feed position after it, `data:` the InboxEvent as JSON.",
      eventData: InboxEvent,
    },
    400: responses[400],
    403: responses[403],
    404: { description: "A namespace you cannot read.", schema: ErrorBody },
  },
  handle: async (parts, { params, query, headers, identity, signal }) => {
    await parts.access.requireQueueMember(identity, params.namespace, params.queue);
    const header = headers.get("last-event-id");
    const after = header !== null && header !== "" ? header : query.after;
    // Checked before the stream starts, so a bad position is a 400, not an error event.
    if (after !== undefined) decodeInboxCursor(after);
    return serverSentEvents(
      async function* (stop) {
        const events = parts.events.followInbox(params.namespace, params.queue, {
          signal: stop,
          ...(after === undefined ? {} : { after }),
        });
        for await (const { id, event } of events) yield { id, data: event };
      },
      { signals: [signal, parts.closing], keepAliveMs: parts.keepAliveMs, log: parts.log },
    );
  },
});

export const getInboxItemRoute = defineRoute({
  method: "get",
  path: "/v1/namespaces/{namespace}/humanqueues/{queue}/items/{itemId}",
  operationId: "getInboxItem",
  summary: "One item of a human queue, with its conversation",
  tag: "inbox",
  params: itemParams,
  access: onItems("get"),
  responses: {
    200: { description: "The item.", schema: InboxItem, links: itemLinks },
    400: responses[400],
    403: responses[403],
    404: responses[404],
  },
  handle: async (parts, { params, identity }) => json(InboxItem, await itemInQueue(parts, identity, params)),
});

export const findInboxItemRoute = defineRoute({
  method: "get",
  path: "/v1/namespaces/{namespace}/inbox/items/{itemId}",
  operationId: "findInboxItem",
  summary: "An inbox item by id alone, whichever queue it is in now",
  tag: "inbox",
  params: z.object({ namespace: NamespaceParameter, itemId: ItemParameter }),
  access: ({ namespace }) => ({ verb: "get", resource: "humanqueues", subresource: "items", namespace }),
  responses: {
    200: { description: "The item.", schema: InboxItem, links: itemLinks },
    400: responses[400],
    403: responses[403],
    404: responses[404],
  },
  handle: async (parts, { params, identity }) => {
    const item = await parts.inbox.get(params.namespace, params.itemId);
    await parts.access.require(identity, onItems("get")(item));
    await parts.access.requireQueueMember(identity, item.namespace, item.queue);
    return json(InboxItem, item);
  },
});

export const claimInboxItemRoute = defineRoute({
  method: "post",
  path: "/v1/namespaces/{namespace}/humanqueues/{queue}/items/{itemId}/claim",
  operationId: "claimInboxItem",
  summary: "Claim an item: only you can act on it until the lease ends (claiming again renews it)",
  tag: "inbox",
  params: itemParams,
  access: onItems("claim"),
  body: ClaimRequest,
  bodyOptional: true,
  responses: {
    200: { description: "The item, claimed.", schema: InboxItem, links: itemLinks },
    ...responses,
  },
  handle: async (parts, { params, body, identity }) => {
    await itemInQueue(parts, identity, params);
    const item = await parts.inbox.claim(params.namespace, params.itemId, identity, {
      ...(body.leaseSeconds === undefined ? {} : { leaseSeconds: body.leaseSeconds }),
    });
    return json(InboxItem, item);
  },
});

export const releaseInboxItemRoute = defineRoute({
  method: "post",
  path: "/v1/namespaces/{namespace}/humanqueues/{queue}/items/{itemId}/release",
  operationId: "releaseInboxItem",
  summary: "Release your claim: the item waits in the queue again",
  tag: "inbox",
  params: itemParams,
  access: onItems("update"),
  responses: {
    200: { description: "The item, waiting.", schema: InboxItem, links: itemLinks },
    ...responses,
  },
  handle: async (parts, { params, identity }) => {
    await itemInQueue(parts, identity, params);
    return json(InboxItem, await parts.inbox.release(params.namespace, params.itemId, identity));
  },
});

export const answerInboxItemRoute = defineRoute({
  method: "post",
  path: "/v1/namespaces/{namespace}/humanqueues/{queue}/items/{itemId}/answer",
  operationId: "answerInboxItem",
  summary: "Answer the user: the run ends with your answer, or (end: false) its agent continues",
  tag: "inbox",
  params: itemParams,
  access: onItems("answer"),
  body: AnswerRequest,
  responses: {
    200: { description: "The run, after the answer.", schema: RunState, links: runLinks(["getRun"]) },
    ...responses,
  },
  handle: async (parts, { params, body, identity }) => {
    await itemInQueue(parts, identity, params);
    return json(RunState, await parts.inbox.answer(params.namespace, params.itemId, identity, body));
  },
});

export const handBackInboxItemRoute = defineRoute({
  method: "post",
  path: "/v1/namespaces/{namespace}/humanqueues/{queue}/items/{itemId}/hand-back",
  operationId: "handBackInboxItem",
  summary: "Hand the conversation back to an agent (default: the one that handed over) with a note",
  tag: "inbox",
  params: itemParams,
  access: onItems("answer"),
  body: HandBackRequest,
  responses: {
    200: { description: "The run, queued for the agent.", schema: RunState, links: runLinks(["getRun"]) },
    ...responses,
    404: { description: "No such item, or the named agent is not running.", schema: ErrorBody },
  },
  handle: async (parts, { params, body, identity }) => {
    await itemInQueue(parts, identity, params);
    return json(RunState, await parts.inbox.handBack(params.namespace, params.itemId, identity, body));
  },
});

/** The inbox routes. */
export const inboxRoutes: readonly Route[] = [
  listHumanQueuesRoute,
  listInboxRoute,
  inboxEventsRoute,
  getInboxItemRoute,
  findInboxItemRoute,
  claimInboxItemRoute,
  releaseInboxItemRoute,
  answerInboxItemRoute,
  handBackInboxItemRoute,
];
