/**
 * A human queue's live feed (`GET .../humanqueues/{queue}/events`) over real HTTP, a real worker
 * and a real Redis: a member follows a handed-over run's item from added to claimed to removed, in
 * order, and a connection dropped in the middle resumes with Last-Event-ID with nothing missed or
 * given twice; an escalation shows in both queues' feeds; the feed is refused as listing the queue's
 * items is (no token 401, another tenant's person 404, a non-member 403, a bad position 400).
 */
import type { InboxEvent, InboxItem, RunState } from "@freehold/api";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  authorization,
  readEvents,
  request,
  startHarness,
  waitForStatus,
  world,
  type Harness,
  type ReadEvent,
} from "./harness.ts";

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({
    // ann works the billing desk; bob may do anything in every namespace but is no member of it;
    // olga is an admin of another tenant's namespace only.
    people: { ann: ["testers", "billing-desk"], bob: ["testers"], olga: ["other-tenant"] },
    policy: {
      bindings: [
        { namespace: "*", role: "admin", subjects: [{ group: "testers" }] },
        { namespace: "elsewhere", role: "admin", subjects: [{ group: "other-tenant" }] },
      ],
    },
  });
});

afterEach(async () => {
  await harness.cleanup();
});

afterAll(async () => {
  await harness.close();
});

const handover = (queue: string) => ({
  match: { role: "user" as const },
  toolCalls: [
    {
      name: `transfer_to_human_${queue}`,
      arguments: { summary: "Wants a refund of INV-7.", reason: "Refunds need a person.", priority: "high" },
    },
  ],
});

const feedPath = (namespace: string, queue: string): string =>
  `/v1/namespaces/${namespace}/humanqueues/${queue}/events`;

/** Opens a queue's feed as `user`, after `lastEventId` when given. */
async function openFeed(
  namespace: string,
  queue: string,
  user: string,
  lastEventId?: string,
): Promise<Response> {
  const response = await fetch(`${harness.url}${feedPath(namespace, queue)}`, {
    headers: {
      accept: "text/event-stream",
      ...authorization(harness, user),
      ...(lastEventId === undefined ? {} : { "last-event-id": lastEventId }),
    },
  });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
  return response;
}

/** Reads a feed until `count` messages came (then drops the connection). */
function take(response: Response, count: number): Promise<ReadEvent[]> {
  return readEvents(response, (_event, index) => index === count - 1);
}

const eventOf = (message: ReadEvent): InboxEvent => message.data as InboxEvent;

async function startRun(namespace: string, input: string): Promise<RunState> {
  const started = await request(harness, "POST", `/v1/namespaces/${namespace}/agents/billing/runs`, {
    body: { input },
  });
  expect(started.status).toBe(201);
  return started.body as RunState;
}

describe("a human queue's feed", () => {
  it("gives a member added, claimed, released, claimed, removed in order, across a dropped connection", async () => {
    const namespace = await world(
      harness,
      [handover("billing-desk")],
      { billing: { handoffs: [{ humanQueue: "billing-desk" }] } },
      {
        humanQueues: {
          "billing-desk": { description: "The billing team.", members: [{ group: "billing-desk" }] },
        },
      },
    );
    // The feed starts now: its first message says to list the queue.
    const first = await openFeed(namespace, "billing-desk", "ann");
    const firstReading = take(first, 3);
    const run = await startRun(namespace, "Refund INV-7, please.");
    await waitForStatus(harness, namespace, run.id, "waiting_for_human");
    const listed = await request(
      harness,
      "GET",
      `/v1/namespaces/${namespace}/humanqueues/billing-desk/items`,
      {
        user: "ann",
      },
    );
    const item = (listed.body as { items: InboxItem[] }).items[0];
    if (item === undefined) throw new Error("no item");
    const itemPath = `/v1/namespaces/${namespace}/humanqueues/billing-desk/items/${item.id}`;
    expect(await request(harness, "POST", `${itemPath}/claim`, { user: "ann" })).toMatchObject({
      status: 200,
    });
    // The connection drops after the claim; meanwhile ann releases and claims again and answers.
    const before = await firstReading;
    expect(before.map((message) => eventOf(message).type)).toEqual(["reset", "added", "claimed"]);
    expect(eventOf(before[0] as ReadEvent)).toMatchObject({
      type: "reset",
      reason: "start",
      queue: "billing-desk",
    });
    expect(eventOf(before[1] as ReadEvent)).toMatchObject({
      schemaVersion: 1,
      type: "added",
      queue: "billing-desk",
      itemId: item.id,
      runId: run.id,
      priority: "high",
    });
    expect(eventOf(before[2] as ReadEvent)).toMatchObject({ type: "claimed", actor: "ann", itemId: item.id });
    for (const message of before) expect(message.id).toMatch(/^(\d{1,2}:\d+-\d+(,\d{1,2}:\d+-\d+)*)?$/);

    expect(await request(harness, "POST", `${itemPath}/release`, { user: "ann" })).toMatchObject({
      status: 200,
    });
    expect(await request(harness, "POST", `${itemPath}/claim`, { user: "ann" })).toMatchObject({
      status: 200,
    });
    expect(
      await request(harness, "POST", `${itemPath}/answer`, {
        user: "ann",
        body: { message: "Your refund is on its way." },
      }),
    ).toMatchObject({ status: 200 });
    await waitForStatus(harness, namespace, run.id, "completed");

    // Resumed after the last message received: the rest, none twice.
    const resumed = await take(await openFeed(namespace, "billing-desk", "ann", before[2]?.id), 3);
    expect(resumed.map((message) => eventOf(message))).toMatchObject([
      { type: "released", actor: "ann", itemId: item.id },
      { type: "claimed", actor: "ann", itemId: item.id },
      { type: "removed", reason: "answered", actor: "ann", itemId: item.id, runId: run.id },
    ]);
    // The same position by query parameter, where no header can be set.
    const byQuery = await fetch(
      `${harness.url}${feedPath(namespace, "billing-desk")}?after=${encodeURIComponent(before[2]?.id ?? "")}`,
      { headers: authorization(harness, "ann") },
    );
    expect((await take(byQuery, 1)).map((message) => eventOf(message).type)).toEqual(["released"]);
  });

  it("shows an escalation in both queues' feeds", async () => {
    const namespace = await world(
      harness,
      [handover("first-line")],
      { billing: { handoffs: [{ humanQueue: "first-line" }] } },
      {
        humanQueues: {
          "first-line": {
            description: "First line.",
            sla: { claimWithinSeconds: 1 },
            escalateTo: { humanQueue: "second-line" },
          },
          "second-line": { description: "Second line." },
        },
      },
    );
    const firstLine = take(await openFeed(namespace, "first-line", "bob"), 3);
    const secondLine = take(await openFeed(namespace, "second-line", "bob"), 2);
    const run = await startRun(namespace, "Refund INV-7, please.");
    const [first, second] = await Promise.all([firstLine, secondLine]);
    expect(first.map((message) => eventOf(message))).toMatchObject([
      { type: "reset" },
      { type: "added", runId: run.id },
      { type: "escalated", actor: "sla", toQueue: "second-line", runId: run.id },
    ]);
    expect(second.map((message) => eventOf(message))).toMatchObject([
      { type: "reset" },
      { type: "added", queue: "second-line", escalatedFrom: "first-line", runId: run.id },
    ]);
  });

  it("is refused as listing the queue's items is", async () => {
    const namespace = await world(
      harness,
      [handover("billing-desk")],
      { billing: { handoffs: [{ humanQueue: "billing-desk" }] } },
      {
        humanQueues: {
          "billing-desk": { description: "The billing team.", members: [{ group: "billing-desk" }] },
        },
      },
    );
    const path = feedPath(namespace, "billing-desk");
    expect(await request(harness, "GET", path, { user: null })).toMatchObject({ status: 401 });
    expect(await request(harness, "GET", path, { user: "olga" })).toMatchObject({ status: 404 });
    expect(await request(harness, "GET", path, { user: "bob" })).toMatchObject({
      status: 403,
      body: { code: "auth.forbidden" },
    });
    // The same answers as listing the items.
    const items = `/v1/namespaces/${namespace}/humanqueues/billing-desk/items`;
    expect(await request(harness, "GET", items, { user: "bob" })).toMatchObject({ status: 403 });
    expect(await request(harness, "GET", items, { user: "olga" })).toMatchObject({ status: 404 });
    // A run event's id is no feed position.
    expect(
      await request(harness, "GET", path, { user: "ann", headers: { "last-event-id": "1700000000000-0" } }),
    ).toMatchObject({ status: 400, body: { code: "request.invalid" } });
    expect(await request(harness, "GET", `${path}?after=99:1-0`, { user: "ann" })).toMatchObject({
      status: 400,
      body: { code: "request.invalid" },
    });
  });
});
