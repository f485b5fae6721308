/**
 * The typed client (`createClient` of `@freehold/sdk/client`) against a real gateway, real Redis and
 * real workers on the scripted model: runs started, listed page by page, read, followed (through a
 * dropped connection, resumed with Last-Event-ID, with no event missed or given twice) and
 * cancelled; a person's inbox (and its live feed, through a dropped connection) and approvals; the gateway's refusals as its FreeholdErrors. And the client's entry, bundled for
 * a browser, imports nothing of Node's.
 */
import { join } from "node:path";
import {
  isFreeholdError,
  type RunState,
  type RunSummary,
  type StoredInboxEvent,
  type StoredRunEvent,
} from "@freehold/api";
import { createAgentRegistry } from "@freehold/handoff";
import { createClient, type FreeholdClient, type ListRunsOptions } from "@freehold/sdk/client";
import { build } from "rolldown";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  idleAgent,
  startHarness,
  waitForStatus,
  world,
  type Harness,
} from "../../packages/gateway/test/harness.ts";
import { startCounterServer, type CounterServer } from "../fixtures/mcp/counter-server.ts";

let harness: Harness;
let counter: CounterServer;

beforeAll(async () => {
  harness = await startHarness();
  counter = await startCounterServer({ transport: "http" });
});

afterAll(async () => {
  await harness.close();
  await counter.close();
});

function clientOf(user: string, fetchFunction?: typeof fetch): FreeholdClient {
  return createClient({
    url: harness.url,
    token: harness.tokens.get(user) ?? "",
    ...(fetchFunction === undefined ? {} : { fetch: fetchFunction }),
  });
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

/** The response with its body cut after `chunks` chunks, as a proxy that drops the connection. */
function cutAfter(response: Response, chunks: number): Response {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let given = 0;
  const cut = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      controller.enqueue(value);
      given += 1;
      if (given === chunks) {
        await reader.cancel();
        controller.error(new TypeError("terminated: the connection was reset"));
      }
    },
  });
  return new Response(cut, { status: response.status, headers: response.headers });
}

/** A run of three slow tool-calling steps: its events arrive over a second or so. */
const slowAdds = [
  { match: { role: "user" as const }, toolCalls: [{ name: "add", arguments: { a: 1, b: 1 } }], delayMs: 150 },
  {
    match: { toolName: "add", contains: "2" },
    toolCalls: [{ name: "add", arguments: { a: 2, b: 2 } }],
    delayMs: 150,
  },
  {
    match: { toolName: "add", contains: "4" },
    toolCalls: [{ name: "add", arguments: { a: 4, b: 4 } }],
    delayMs: 150,
  },
  { match: { toolName: "add", contains: "8" }, text: "Eight.", delayMs: 150 },
];

describe("the client", () => {
  it("starts a run and follows its events to the end, the same events the run stored", async () => {
    const namespace = await world(
      harness,
      slowAdds,
      { adder: { tools: [{ mcpServer: "counter" }] } },
      {
        mcpServers: { counter: counter.url },
      },
    );
    const client = clientOf("tester");
    const run = await client.startRun(namespace, "adder", { input: "Double up to eight." });
    const followed: StoredRunEvent[] = [];
    for await (const event of client.follow(namespace, run.id)) followed.push(event);
    expect(followed.at(-1)?.event).toMatchObject({ type: "run-end", status: "completed" });
    const stored = await harness.store.readEvents(namespace, run.id);
    expect(followed.map((event) => event.id)).toEqual(stored.map((event) => event.id));
    const details = await client.getRun(namespace, run.id);
    expect(details).toMatchObject({ id: run.id, status: "completed", output: "Eight." });
    expect(details.history.map((event) => event.id)).toEqual(stored.map((event) => event.id));
  });

  it("resumes a dropped event stream with Last-Event-ID: no event missed, none twice", async () => {
    const namespace = await world(
      harness,
      slowAdds,
      { adder: { tools: [{ mcpServer: "counter" }] } },
      {
        mcpServers: { counter: counter.url },
      },
    );
    // The first event stream is cut after its first chunk, as a proxy that drops the connection.
    const streams: (string | null)[] = [];
    const cutting: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const headers = new Headers(init?.headers);
      if (headers.get("accept") !== "text/event-stream" || response.body === null) return response;
      streams.push(headers.get("last-event-id"));
      if (streams.length > 1) return response;
      return cutAfter(response, 1);
    };
    const client = clientOf("tester", cutting);
    const run = await client.startRun(namespace, "adder", { input: "Double up to eight." });
    const followed: StoredRunEvent[] = [];
    for await (const event of client.follow(namespace, run.id)) followed.push(event);
    const stored = await harness.store.readEvents(namespace, run.id);
    expect(streams.length).toBeGreaterThan(1);
    expect(streams[0]).toBeNull();
    // The second stream asked for what came after the last event the first one gave.
    expect(followed.map((event) => event.id)).toContain(streams[1]);
    expect(followed.map((event) => event.id)).toEqual(stored.map((event) => event.id));
    expect(new Set(followed.map((event) => event.id)).size).toBe(followed.length);
  });

  it("follows a human queue's feed across a dropped connection: no change missed, none twice", async () => {
    const namespace = await world(
      harness,
      [
        {
          match: { role: "user" },
          toolCalls: [
            {
              name: "transfer_to_human_desk",
              arguments: { summary: "Wants a refund.", reason: "Refunds need a person.", priority: "high" },
            },
          ],
        },
      ],
      { front: { handoffs: [{ humanQueue: "desk" }] } },
      { humanQueues: { desk: { description: "People.", members: [{ user: "ann" }] } } },
    );
    // The first feed is cut after its second message; the reconnect waits until the item was
    // claimed and answered, so those changes happen while no connection is open.
    const streams: (string | null)[] = [];
    let reopen: () => void = () => undefined;
    const reopened = new Promise<void>((resolve) => {
      reopen = resolve;
    });
    const cutting: typeof fetch = async (input, init) => {
      const headers = new Headers(init?.headers);
      if (headers.get("accept") !== "text/event-stream") return fetch(input, init);
      streams.push(headers.get("last-event-id"));
      if (streams.length > 1) {
        await reopened;
        return fetch(input, init);
      }
      const response = await fetch(input, init);
      return cutAfter(response, 2);
    };
    const ann = clientOf("ann", cutting);
    const followed: StoredInboxEvent[] = [];
    const following = (async () => {
      for await (const stored of ann.followInbox(namespace, "desk")) {
        followed.push(stored);
        if (stored.event.type === "removed") break;
      }
    })();
    await expect.poll(() => followed.map((stored) => stored.event.type)).toEqual(["reset"]);
    const run = await clientOf("tester").startRun(namespace, "front", { input: "I want a refund." });
    await expect.poll(() => followed.map((stored) => stored.event.type)).toEqual(["reset", "added"]);
    const [item] = await ann.listInbox(namespace, "desk");
    if (item === undefined) throw new Error("no item");
    await ann.claim(namespace, item.id);
    await ann.answer(namespace, item.id, { message: "Your refund is on its way." });
    reopen();
    await following;

    expect(followed.map((stored) => stored.event)).toMatchObject([
      { type: "reset", reason: "start", queue: "desk" },
      { type: "added", itemId: item.id, runId: run.id, priority: "high" },
      { type: "claimed", itemId: item.id, actor: "ann" },
      { type: "removed", itemId: item.id, reason: "answered", actor: "ann" },
    ]);
    // One reconnect, after the last message the first connection gave.
    expect(streams).toEqual([null, followed[1]?.id]);
    expect(new Set(followed.map((stored) => stored.id)).size).toBe(followed.length);
    // A person who is not a member is refused with the gateway's error.
    const refused = await caught(
      clientOf("bob").followInbox(namespace, "desk")[Symbol.asyncIterator]().next(),
    );
    expect(isFreeholdError(refused, "auth.forbidden")).toBe(true);
  });

  it("cancels a run, and gives the gateway's refusals as its FreeholdErrors", async () => {
    const namespace = await world(harness, [{ match: { role: "user" }, text: "Later.", delayMs: 5_000 }], {
      slow: {},
    });
    const client = clientOf("tester");
    const run = await client.startRun(namespace, "slow", { input: "Take your time." });
    const cancelled = await client.cancelRun(namespace, run.id);
    expect(cancelled.status).toBe("cancelled");
    const missing = await caught(client.getRun(namespace, "no-such-run"));
    expect(isFreeholdError(missing, "run.not-found")).toBe(true);
    const stranger = createClient({ url: harness.url, token: "not-a-token-of-anyone" });
    const refused = await caught(stranger.getRun(namespace, run.id));
    expect(refused).toMatchObject({ code: expect.stringMatching(/^auth\./) as unknown });
    const nowhere = createClient({ url: "http://127.0.0.1:9", token: "x" });
    const unreachable = await caught(nowhere.listAgents(namespace));
    expect(isFreeholdError(unreachable, "gateway.unreachable")).toBe(true);
  });

  it("lists a namespace's runs page by page, newest first, filtered by agent and status", async () => {
    const namespace = await idleAgent(harness, "billing");
    await createAgentRegistry(harness.connection).register(namespace, {
      name: "support",
      description: "Never works either.",
      a2a: false,
    });
    const client = clientOf("tester");
    const started: RunState[] = [];
    for (let index = 0; index < 7; index += 1) {
      started.push(
        await client.startRun(namespace, index < 5 ? "billing" : "support", { input: `Run ${index}` }),
      );
    }
    await client.cancelRun(namespace, started[1]?.id ?? "");
    const newestFirst = (runs: readonly RunState[]): string[] =>
      [...runs]
        .sort(
          (left, right) =>
            Date.parse(right.createdAt) - Date.parse(left.createdAt) ||
            Buffer.compare(Buffer.from(right.id), Buffer.from(left.id)),
        )
        .map((run) => run.id);
    const walk = async (options: Omit<ListRunsOptions, "cursor">): Promise<RunSummary[]> => {
      const runs: RunSummary[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listRuns(namespace, {
          ...options,
          ...(cursor === undefined ? {} : { cursor }),
        });
        expect(page.items.length).toBeLessThanOrEqual(options.limit ?? 100);
        runs.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return runs;
    };
    expect((await walk({ limit: 3 })).map((run) => run.id)).toEqual(newestFirst(started));
    expect((await walk({ agent: "support", limit: 1 })).map((run) => run.id)).toEqual(
      newestFirst(started.slice(5)),
    );
    expect(await walk({ status: "cancelled" })).toMatchObject([{ id: started[1]?.id, status: "cancelled" }]);
    expect((await walk({ status: ["queued", "cancelled"] })).length).toBe(7);
    const [first] = (await client.listRuns(namespace, { limit: 1 })).items;
    expect(first).not.toHaveProperty("messages");
    const refused = await caught(client.listRuns(namespace, { limit: 0 }));
    expect(refused).toMatchObject({
      code: "request.invalid",
      message: "invalid query parameter: limit: must be at least 1",
    });
    const made = await caught(client.listRuns(namespace, { cursor: "made-up" }));
    expect(isFreeholdError(made, "request.invalid")).toBe(true);
  });

  it("works a human queue and decides approvals, as the people the gateway knows", async () => {
    const namespace = await world(
      harness,
      [
        {
          match: { contains: "refund" },
          toolCalls: [
            {
              name: "transfer_to_human_desk",
              arguments: { summary: "Wants a refund.", reason: "Refunds need a person.", priority: "high" },
            },
          ],
        },
        { match: { role: "user", contains: "Add" }, toolCalls: [{ name: "add", arguments: { a: 2, b: 3 } }] },
        { match: { toolName: "add" }, text: "The sum is 5." },
      ],
      {
        front: {
          handoffs: [{ humanQueue: "desk" }],
          tools: [{ mcpServer: "counter", allow: ["add"], requireApproval: ["add"] }],
        },
      },
      {
        mcpServers: { counter: counter.url },
        humanQueues: { desk: { description: "People.", members: [{ group: "testers" }] } },
      },
    );
    const tester = clientOf("tester");
    const ann = clientOf("ann");

    const handed = await tester.startRun(namespace, "front", { input: "I want a refund." });
    await waitForStatus(harness, namespace, handed.id, "waiting_for_human");
    const [item] = await ann.listInbox(namespace, "desk");
    expect(item).toMatchObject({ runId: handed.id, queue: "desk", status: "waiting" });
    const claimed = await ann.claim(namespace, item?.id ?? "");
    expect(claimed).toMatchObject({ status: "claimed", claimedBy: "ann" });
    const taken = await caught(clientOf("bob").claim(namespace, item?.id ?? ""));
    expect(isFreeholdError(taken)).toBe(true);
    await ann.answer(namespace, item?.id ?? "", { message: "Your refund is on its way." });
    const answered = await waitForStatus(harness, namespace, handed.id, "completed");
    expect(answered.output).toBe("Your refund is on its way.");

    const adding = await tester.startRun(namespace, "front", { input: "Add 2 and 3." });
    await waitForStatus(harness, namespace, adding.id, "waiting_for_approval");
    const [approval] = await ann.listApprovals(namespace, { agent: "front" });
    expect(approval).toMatchObject({ runId: adding.id, tool: "add", arguments: { a: 2, b: 3 } });
    // The person who started the run may not approve its calls.
    const own = await caught(tester.decide(namespace, approval?.id ?? "", { approve: true }));
    expect(isFreeholdError(own, "auth.forbidden")).toBe(true);
    await ann.decide(namespace, approval?.id ?? "", { approve: true });
    const done = await waitForStatus(harness, namespace, adding.id, "completed");
    expect(done.output).toBe("The sum is 5.");
  });
});

describe("the client's entry", () => {
  it("bundles for a browser with nothing of Node's and no server package", async () => {
    const entry = join(import.meta.dirname, "..", "..", "packages", "sdk", "src", "client", "index.ts");
    const imported = new Set<string>();
    await build({
      input: entry,
      platform: "browser",
      write: false,
      logLevel: "silent",
      plugins: [
        {
          name: "record-imports",
          resolveId(source) {
            if (!source.startsWith(".") && !source.startsWith("/")) imported.add(source);
            return null;
          },
        },
      ],
    });
    const packages = [...imported].map((source) =>
      source.startsWith("@") ? source.split("/").slice(0, 2).join("/") : (source.split("/")[0] ?? source),
    );
    expect(packages.filter((name) => name.startsWith("node:") || !/^[@a-z]/.test(name))).toEqual([]);
    // The API's schemas and what they are written with (yaml: the manifests' parser), all plain JavaScript.
    expect(new Set(packages)).toEqual(new Set(["@freehold/api", "zod", "yaml"]));
  });
});
