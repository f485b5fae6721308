/**
 * People's side of the gateway over real HTTP: a real worker hands a conversation to a human queue
 * or waits for a tool call's approval, and people claim, release, answer, hand back and decide
 * through the gateway, each with their own bearer token. The counter MCP server provides the tool to approve.
 */
import type { ApprovalItem, InboxItem, RunEvent, RunState } from "@freehold/api";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startCounterServer, type CounterServer } from "../../../test/fixtures/mcp/counter-server.ts";
import type { RunDetails, Task } from "../src/index.ts";
import { createAgentRegistry } from "@freehold/handoff";
import { request, startHarness, waitForStatus, world, type Harness } from "./harness.ts";

let harness: Harness;
let counter: CounterServer;

/** bob's groups: more than records keep (the first 64 are). */
const bobGroups = ["testers", ...Array.from({ length: 70 }, (_, index) => `team-${index}`)];

beforeAll(async () => {
  // Records show the acting person's groups with the user: ann's two, bob's first 64.
  harness = await startHarness({
    people: { ann: ["testers", "billing-desk"], bob: bobGroups, olga: ["outsiders"] },
  });
  counter = await startCounterServer({ transport: "http" });
});

afterEach(async () => {
  await harness.cleanup();
});

afterAll(async () => {
  await harness.close();
  await counter.close();
});

/** An agent that hands every conversation to the billing desk, and answers once handed back. */
async function billingWorld(): Promise<string> {
  return world(
    harness,
    [
      {
        match: { role: "user" },
        toolCalls: [
          {
            name: "transfer_to_human_billing-desk",
            arguments: {
              summary: "Wants a refund of INV-7.",
              reason: "Refunds need a person.",
              priority: "high",
            },
          },
        ],
      },
      {
        match: { anyMessageContains: "handed the conversation back" },
        text: "Your refund of INV-7 is on its way.",
      },
    ],
    {
      billing: {
        description: "Invoices.",
        handoffs: [{ humanQueue: "billing-desk" }],
        a2a: { enabled: true },
      },
    },
    { humanQueues: { "billing-desk": { description: "The billing team.", leaseSeconds: 120 } } },
  );
}

async function handedOver(namespace: string, input: string): Promise<{ run: RunState; item: InboxItem }> {
  const started = await request(harness, "POST", `/v1/namespaces/${namespace}/agents/billing/runs`, {
    body: { input },
  });
  const run = started.body as RunState;
  await waitForStatus(harness, namespace, run.id, "waiting_for_human");
  const listed = await request(harness, "GET", `/v1/namespaces/${namespace}/humanqueues/billing-desk/items`);
  const item = (listed.body as { items: InboxItem[] }).items.find((candidate) => candidate.runId === run.id);
  if (item === undefined) throw new Error(`no inbox item for run ${run.id}`);
  return { run, item };
}

describe("the inbox", () => {
  it("lets a person claim an item and hand it back to the agent, refusing everyone else", async () => {
    const namespace = await billingWorld();
    const { run, item } = await handedOver(namespace, "Where is my refund for INV-7?");
    expect(item).toMatchObject({
      queue: "billing-desk",
      agent: "billing",
      status: "waiting",
      priority: "high",
      summary: "Wants a refund of INV-7.",
      reason: "Refunds need a person.",
    });
    const base = `/v1/namespaces/${namespace}/humanqueues/billing-desk/items/${item.id}`;

    expect(await request(harness, "GET", base)).toMatchObject({ status: 200, body: { id: item.id } });
    expect(await request(harness, "GET", `/v1/namespaces/${namespace}/inbox/items/${item.id}`)).toMatchObject(
      {
        status: 200,
        body: { id: item.id, queue: "billing-desk" },
      },
    );
    const elsewhere = await request(
      harness,
      "GET",
      `/v1/namespaces/${namespace}/humanqueues/support-desk/items/${item.id}`,
    );
    expect(elsewhere).toMatchObject({
      status: 404,
      body: {
        code: "inbox.item-not-found",
        message: `inbox item ${item.id} is not in queue support-desk; it is in billing-desk now`,
      },
    });

    const anonymous = await request(harness, "POST", `${base}/claim`, { user: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ code: "auth.unauthenticated" });
    expect(anonymous.headers.get("www-authenticate")).toBe('Bearer realm="freehold"');

    const shortLease = await request(harness, "POST", `${base}/claim`, {
      user: "ann",
      body: { leaseSeconds: 5 },
    });
    expect(shortLease.status).toBe(400);
    expect((shortLease.body as { message: string }).message).toMatch(/^invalid request body: leaseSeconds: /);

    const claimed = await request(harness, "POST", `${base}/claim`, { user: "ann" });
    expect(claimed).toMatchObject({
      status: 200,
      body: { status: "claimed", claimedBy: "ann", claimedByGroups: ["testers", "billing-desk"] },
    });
    const listedClaimed = await request(
      harness,
      "GET",
      `/v1/namespaces/${namespace}/humanqueues/billing-desk/items/${item.id}`,
    );
    expect(listedClaimed.body).toMatchObject({
      claimedBy: "ann",
      claimedByGroups: ["testers", "billing-desk"],
    });
    expect(await request(harness, "POST", `${base}/claim`, { user: "bob" })).toMatchObject({
      status: 409,
      body: { code: "inbox.already-claimed", message: `item ${item.id} is already claimed by ann` },
    });
    expect(
      await request(harness, "POST", `${base}/answer`, { user: "bob", body: { message: "Hi" } }),
    ).toMatchObject({
      status: 409,
      body: { code: "inbox.not-claimed-by-you" },
    });
    expect(
      await request(harness, "POST", `${base}/hand-back`, {
        user: "ann",
        body: { note: "x", agent: "nobody" },
      }),
    ).toMatchObject({ status: 404, body: { code: "agent.not-found" } });
    const emptyNote = await request(harness, "POST", `${base}/hand-back`, {
      user: "ann",
      body: { note: "" },
    });
    expect(emptyNote.status).toBe(400);
    expect((emptyNote.body as { message: string }).message).toMatch(/^invalid request body: note: /);

    const handedBack = await request(harness, "POST", `${base}/hand-back`, {
      user: "ann",
      body: { note: "Refund approved; tell the customer." },
    });
    expect(handedBack).toMatchObject({ status: 200, body: { id: run.id, agent: "billing" } });

    await waitForStatus(harness, namespace, run.id, "completed");
    const details = (await request(harness, "GET", `/v1/namespaces/${namespace}/runs/${run.id}`))
      .body as RunDetails;
    expect(details.output).toBe("Your refund of INV-7 is on its way.");
    const actions = details.history
      .map(({ event }) => event)
      .filter((event): event is Extract<RunEvent, { type: "human-action" }> => event.type === "human-action")
      .map((event) => `${event.action} by ${event.actor} (${(event.actorGroups ?? []).join(", ")})`);
    expect(actions).toEqual([
      "claim by ann (testers, billing-desk)",
      "hand-back by ann (testers, billing-desk)",
    ]);

    expect(await request(harness, "POST", `${base}/claim`, { user: "ann" })).toMatchObject({
      status: 404,
      body: { code: "inbox.item-not-found" },
    });
    expect(
      await request(harness, "GET", `/v1/namespaces/${namespace}/humanqueues/billing-desk/items`),
    ).toMatchObject({
      body: { items: [] },
    });
  });

  it("lets a person release an item for another, who answers the user and ends the run", async () => {
    const namespace = await billingWorld();
    const { run, item } = await handedOver(namespace, "Refund INV-7 please");
    const base = `/v1/namespaces/${namespace}/humanqueues/billing-desk/items/${item.id}`;

    await request(harness, "POST", `${base}/claim`, { user: "ann", body: { leaseSeconds: 60 } });
    expect(await request(harness, "POST", `${base}/release`, { user: "bob" })).toMatchObject({ status: 409 });
    const released = await request(harness, "POST", `${base}/release`, { user: "ann" });
    expect(released).toMatchObject({ status: 200, body: { status: "waiting" } });
    expect(released.body).not.toHaveProperty("claimedByGroups");
    expect(await request(harness, "POST", `${base}/claim`, { user: "bob" })).toMatchObject({
      status: 200,
      body: { claimedBy: "bob", claimedByGroups: bobGroups.slice(0, 64) },
    });
    const answered = await request(harness, "POST", `${base}/answer`, {
      user: "bob",
      body: { message: "We refunded INV-7 today." },
    });
    expect(answered).toMatchObject({
      status: 200,
      body: { status: "completed", output: "We refunded INV-7 today." },
    });
    expect(await request(harness, "POST", `/v1/namespaces/${namespace}/runs/${run.id}/cancel`)).toMatchObject(
      {
        status: 409,
        body: { code: "run.finished" },
      },
    );
  });

  it("shows a run waiting for people as an A2A task that needs input", async () => {
    const namespace = await billingWorld();
    const sent = await request(harness, "POST", `/a2a/${namespace}/billing`, {
      body: {
        jsonrpc: "2.0",
        id: 1,
        method: "message/send",
        params: {
          message: {
            kind: "message",
            role: "user",
            messageId: "m",
            parts: [{ kind: "text", text: "Refund?" }],
          },
        },
      },
    });
    const { result: task } = sent.body as { result: Task };
    expect(task.status).toMatchObject({
      state: "input-required",
      message: {
        role: "agent",
        parts: [
          { kind: "text", text: "A person in human queue billing-desk will continue this conversation." },
        ],
      },
    });
  });
});

describe("agents", () => {
  it("lists the agents with their queue's counts and what they use: model, tools, handoffs", async () => {
    const namespace = await billingWorld();
    await handedOver(namespace, "Where is my refund for INV-7?");
    const listed = await request(harness, "GET", `/v1/namespaces/${namespace}/agents`);
    expect(listed).toMatchObject({
      status: 200,
      body: {
        agents: [
          {
            name: "billing",
            description: "Invoices.",
            model: "scripted",
            tools: [],
            handoffs: ["people billing-desk"],
            queued: 0,
            working: 0,
          },
        ],
      },
    });
    // Outside a cluster no operator writes conditions.
    expect((listed.body as { agents: object[] }).agents[0]).not.toHaveProperty("conditions");

    // An agent no worker serves: the runs started on it wait on its queue, and the list says so.
    await createAgentRegistry(harness.connection).register(namespace, {
      name: "idle",
      description: "No worker.",
    });
    for (const input of ["One.", "Two."]) {
      await request(harness, "POST", `/v1/namespaces/${namespace}/agents/idle/runs`, { body: { input } });
    }
    const again = await request(harness, "GET", `/v1/namespaces/${namespace}/agents`);
    expect(
      (again.body as { agents: { name: string }[] }).agents.find((agent) => agent.name === "idle"),
    ).toEqual(expect.objectContaining({ name: "idle", queued: 2, working: 0 }));
  });
});

describe("human queues", () => {
  it("lists the queues a person works, with their numbers, and no one else's", async () => {
    const namespace = await world(
      harness,
      [
        {
          match: { role: "user" },
          toolCalls: [
            {
              name: "transfer_to_human_billing-desk",
              arguments: { summary: "Wants a refund.", reason: "Refunds need a person.", priority: "normal" },
            },
          ],
        },
      ],
      { billing: { handoffs: [{ humanQueue: "billing-desk" }] } },
      {
        humanQueues: {
          "billing-desk": { description: "The billing team.", members: [{ group: "billing-desk" }] },
          "front-desk": { description: "Anyone of the namespace." },
          legal: { description: "Counsel.", members: [{ user: "bob" }] },
        },
      },
    );
    const runs: RunState[] = [];
    for (const input of ["First refund.", "Second refund."]) {
      const started = await request(harness, "POST", `/v1/namespaces/${namespace}/agents/billing/runs`, {
        body: { input },
      });
      runs.push(started.body as RunState);
      await waitForStatus(harness, namespace, (started.body as RunState).id, "waiting_for_human");
    }
    const items = (
      (
        await request(harness, "GET", `/v1/namespaces/${namespace}/humanqueues/billing-desk/items`, {
          user: "ann",
        })
      ).body as { items: InboxItem[] }
    ).items;
    const [first, second] = runs.map((run) => items.find((item) => item.runId === run.id));
    await request(
      harness,
      "POST",
      `/v1/namespaces/${namespace}/humanqueues/billing-desk/items/${second?.id ?? ""}/claim`,
      {
        user: "ann",
      },
    );

    const path = `/v1/namespaces/${namespace}/humanqueues`;
    expect(await request(harness, "GET", path, { user: "ann" })).toMatchObject({
      status: 200,
      body: {
        queues: [
          {
            name: "billing-desk",
            description: "The billing team.",
            waiting: 1,
            claimed: 1,
            oldestWaitingSince: first?.queuedAt,
          },
          { name: "front-desk", description: "Anyone of the namespace.", waiting: 0, claimed: 0 },
        ],
      },
    });
    const bobs = await request(harness, "GET", path, { user: "bob" });
    expect((bobs.body as { queues: { name: string }[] }).queues.map((queue) => queue.name)).toEqual([
      "front-desk",
      "legal",
    ]);
    expect((bobs.body as { queues: object[] }).queues[0]).not.toHaveProperty("oldestWaitingSince");
    // No role in the namespace: it looks empty; no token: who are you.
    expect(await request(harness, "GET", path, { user: "olga" })).toMatchObject({ status: 404 });
    expect(await request(harness, "GET", path, { user: null })).toMatchObject({ status: 401 });
  });
});

describe("approvals", () => {
  it("lists tool calls waiting for approval and resumes the run on a person's decision", async () => {
    const namespace = await world(
      harness,
      [
        {
          match: { role: "user" },
          text: "I will add them.",
          toolCalls: [{ name: "add", arguments: { a: 2, b: 3 } }],
        },
        { match: { toolName: "add", contains: "rejected" }, text: "I may not add today." },
        { match: { toolName: "add" }, text: "The sum is 5." },
      ],
      {
        calculator: { tools: [{ mcpServer: "counter", allow: ["add"], requireApproval: ["add"] }] },
        other: {},
      },
      { mcpServers: { counter: counter.url } },
    );
    const start = async (): Promise<string> => {
      const started = await request(harness, "POST", `/v1/namespaces/${namespace}/agents/calculator/runs`, {
        body: { input: "Add 2 and 3." },
      });
      const runId = (started.body as RunState).id;
      await waitForStatus(harness, namespace, runId, "waiting_for_approval");
      return runId;
    };
    const approved = await start();
    const listed = await request(harness, "GET", `/v1/namespaces/${namespace}/approvals?agent=calculator`);
    const items = (listed.body as { items: ApprovalItem[] }).items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      runId: approved,
      agent: "calculator",
      tool: "add",
      arguments: { a: 2, b: 3 },
    });
    const itemId = items[0]?.id ?? "";
    // Separation of duties said up front: tester started the run, so the list says why not to them only.
    expect(items[0]).toHaveProperty(
      "notYours",
      expect.stringContaining("may not approve its own call of add"),
    );
    const forAnn = await request(harness, "GET", `/v1/namespaces/${namespace}/approvals?agent=calculator`, {
      user: "ann",
    });
    expect((forAnn.body as { items: object[] }).items[0]).not.toHaveProperty("notYours");
    expect(await request(harness, "GET", `/v1/namespaces/${namespace}/approvals?agent=other`)).toMatchObject({
      body: { items: [] },
    });
    expect(
      await request(harness, "GET", `/v1/namespaces/${namespace}/approvals?agent=Not_Valid`),
    ).toMatchObject({
      status: 400,
      body: { code: "request.invalid" },
    });
    expect(await request(harness, "GET", `/v1/namespaces/${namespace}/approvals/${itemId}`)).toMatchObject({
      status: 200,
      body: { id: itemId, tool: "add" },
    });

    const decision = `/v1/namespaces/${namespace}/approvals/${itemId}/decision`;
    // tester started the run: separation of duties keeps them from approving its calls.
    expect(await request(harness, "POST", decision, { body: { approve: true } })).toMatchObject({
      status: 403,
      body: { code: "auth.forbidden" },
    });
    const wrongType = await request(harness, "POST", decision, { user: "ann", body: { approve: "yes" } });
    expect(wrongType.status).toBe(400);
    expect((wrongType.body as { message: string }).message).toBe(
      "invalid request body: approve: expected boolean, received string",
    );
    expect(await request(harness, "POST", decision, { user: "ann", body: { approve: true } })).toMatchObject({
      status: 200,
      body: { id: approved },
    });
    const done = await waitForStatus(harness, namespace, approved, "completed");
    expect(done.output).toBe("The sum is 5.");
    expect(await request(harness, "POST", decision, { user: "ann", body: { approve: true } })).toMatchObject({
      status: 404,
      body: { code: "approval.not-found" },
    });
    const history = (await harness.store.readEvents(namespace, approved)).map(({ event }) => event);
    expect(history).toContainEqual(
      expect.objectContaining({
        type: "approval-decision",
        approved: true,
        actor: "ann",
        actorGroups: ["testers", "billing-desk"],
      }),
    );

    const rejected = await start();
    const [second] = (
      (await request(harness, "GET", `/v1/namespaces/${namespace}/approvals`)).body as {
        items: ApprovalItem[];
      }
    ).items;
    expect(second?.runId).toBe(rejected);
    expect(
      await request(harness, "POST", `/v1/namespaces/${namespace}/approvals/${second?.id ?? ""}/decision`, {
        user: "bob",
        body: { approve: false, reason: "Not today." },
      }),
    ).toMatchObject({ status: 200 });
    expect((await waitForStatus(harness, namespace, rejected, "completed")).output).toBe(
      "I may not add today.",
    );
    const rejection = (await request(harness, "GET", `/v1/namespaces/${namespace}/runs/${rejected}`))
      .body as RunDetails;
    expect(rejection.history.map(({ event }) => event)).toContainEqual(
      expect.objectContaining({
        type: "approval-decision",
        approved: false,
        actor: "bob",
        actorGroups: bobGroups.slice(0, 64),
      }),
    );
  });
});
