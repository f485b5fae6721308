/**
 * Work moving between agents and people, on real parts: Redis, the scripted model server over HTTP,
 * the counter MCP server, workers in this process. The main scenario: triage transfers to billing;
 * billing asks the researcher agent (a child run) and waits; then hands the conversation to the
 * billing desk; a person claims it and hands it back; billing answers; the run's history has it all.
 * Every case runs on one Redis and on a real 3-primary Redis Cluster.
 */
import type { RunEvent, RunState } from "@freehold/api";
import {
  cancelRun,
  createAgentQueues,
  createApprovals,
  createInbox,
  connectRedis,
  createRunStore,
  dispatchKey,
  startRun,
  type AgentQueues,
  type RedisClient,
  type RunStore,
} from "@freehold/handoff";
import type { ModelScriptInput } from "@freehold/models";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startCounterServer, type CounterServer } from "../../../test/fixtures/mcp/counter-server.ts";
import { redisBackends, type TestRedis } from "../../../test/fixtures/redis-backends.ts";
import { startScriptedWorld, type ScriptedWorld } from "./scripted-world.ts";

describe.each(redisBackends)("on $name", (backend) => {
  let redis: TestRedis;
  let connection: RedisClient;
  let store: RunStore;
  let queues: AgentQueues;
  let counter: CounterServer;

  beforeAll(async () => {
    redis = await backend.start();
    connection = connectRedis(redis.url, { maxRetriesPerRequest: null });
    store = createRunStore(connection);
    queues = createAgentQueues(connection);
    counter = await startCounterServer({ transport: "http" });
  });

  afterAll(async () => {
    await queues.close();
    await counter.close();
    connection.disconnect();
    await redis.stop();
  });

  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Agents ping and pong transfer every run to each other, until `limits.maxHandoffs`. */
  const pingPong: ModelScriptInput = {
    turns: [
      {
        match: { anyMessageContains: "ping" },
        toolCalls: [{ name: "transfer_to_pong", arguments: { note: "to pong" } }],
      },
      {
        match: { anyMessageContains: "ping" },
        toolCalls: [{ name: "transfer_to_ping", arguments: { note: "to ping" } }],
      },
    ],
    loop: true,
  };
  const pingPongAgents = (maxHandoffs: number): Record<string, Record<string, unknown>> => ({
    ping: { handoffs: [{ agent: "pong" }], limits: { maxHandoffs } },
    pong: { handoffs: [{ agent: "ping" }], limits: { maxHandoffs } },
  });

  /** A namespace with the given agents (model `scripted`, the counter server) and human queues. */
  async function world(
    script: ModelScriptInput,
    agents: Record<string, Record<string, unknown>>,
    humanQueues: Record<string, Record<string, unknown>> = {},
    worker: { readonly markRunningAfterMs?: number } = {},
  ): Promise<ScriptedWorld> {
    const started = await startScriptedWorld({
      ...worker,
      connection,
      store,
      namespace: `h${Math.random().toString(36).slice(2, 10)}`,
      counterUrl: counter.url,
      script,
      agents,
      humanQueues,
    });
    cleanups.push(() => started.close());
    return started;
  }

  async function waitFor(namespace: string, runId: string, status: RunState["status"]): Promise<RunState> {
    let state: RunState | undefined;
    await expect
      .poll(async () => (state = await store.require(namespace, runId)).status, {
        timeout: 20_000,
        interval: 50,
      })
      .toBe(status);
    if (state === undefined) throw new Error("unreachable");
    return state;
  }

  async function events(namespace: string, runId: string): Promise<RunEvent[]> {
    return (await store.readEvents(namespace, runId)).map(({ event }) => event);
  }

  /** A run handed to the `desk` queue by agent `front`, its item claimed by ann. */
  async function claimedByAnn() {
    const { namespace } = await world(
      [{ toolCalls: [{ name: "transfer_to_human_desk", arguments: { summary: "s", reason: "r" } }] }],
      { front: { handoffs: [{ humanQueue: "desk" }] } },
      { desk: { description: "People." } },
    );
    const inbox = createInbox({ redis: connection, store, queues });
    const run = await startRun(
      { redis: connection, store, queues },
      { namespace, agent: "front", input: "Hello?" },
    );
    await waitFor(namespace, run.id, "waiting_for_human");
    const [item] = await inbox.list(namespace, "desk");
    if (item === undefined) throw new Error("no item");
    await inbox.claim(namespace, item.id, "ann");
    return { namespace, inbox, run, item };
  }

  describe("handoffs", () => {
    it("moves a conversation from agent to agent, to a child run, to people and back", async () => {
      const { namespace } = await world(
        [
          {
            match: { contains: "INV-7" },
            toolCalls: [{ name: "transfer_to_billing", arguments: { note: "Asks about invoice INV-7." } }],
          },
          {
            match: { contains: "Transferred to billing" },
            toolCalls: [
              { name: "ask_researcher", arguments: { input: "What is the history of customer 7?" } },
            ],
          },
          {
            match: { toolName: "ask_researcher" },
            text: "A refund needs a person.",
            toolCalls: [
              {
                name: "transfer_to_human_billing-desk",
                arguments: {
                  summary: "Customer 7 wants a refund of INV-7.",
                  reason: "Refunds need approval.",
                  priority: "high",
                },
              },
            ],
          },
          {
            match: { contains: "handed the conversation back" },
            text: "Your refund of INV-7 is on its way.",
          },
          { match: { contains: "history" }, text: "Customer since 2019; pays on time." },
        ],
        {
          triage: { description: "Routes customers.", handoffs: [{ agent: "billing" }] },
          billing: {
            description: "Invoices and payments.",
            tools: [{ agent: "researcher" }],
            handoffs: [{ humanQueue: "billing-desk" }],
          },
          researcher: { description: "Finds a customer's history." },
        },
        { "billing-desk": { description: "The billing team.", leaseSeconds: 60 } },
      );
      const inbox = createInbox({ redis: connection, store, queues });
      const run = await startRun(
        { redis: connection, store, queues },
        { namespace, agent: "triage", input: "Where is my refund for INV-7?" },
      );

      const waiting = await waitFor(namespace, run.id, "waiting_for_human");
      expect(waiting).toMatchObject({
        agent: "billing",
        hops: 1,
        waiting: { kind: "human", queue: "billing-desk" },
      });

      const [item] = await inbox.list(namespace, "billing-desk");
      expect(item).toMatchObject({
        runId: run.id,
        agent: "billing",
        priority: "high",
        status: "waiting",
        summary: "Customer 7 wants a refund of INV-7.",
      });
      if (item === undefined) throw new Error("no inbox item");
      await expect(inbox.handBack(namespace, item.id, "ann", { note: "x" })).rejects.toThrow(
        /claim item .* before acting on it/,
      );
      await inbox.claim(namespace, item.id, "ann");
      await expect(inbox.claim(namespace, item.id, "bob")).rejects.toThrow("is already claimed by ann");
      await inbox.handBack(namespace, item.id, "ann", { note: "Refund approved; tell the customer." });

      const done = await waitFor(namespace, run.id, "completed");
      expect(done.output).toBe("Your refund of INV-7 is on its way.");
      expect(await inbox.list(namespace, "billing-desk")).toEqual([]);

      const history = await events(namespace, run.id);
      expect(
        history
          .map((event) => event.type)
          .filter((type) => !type.startsWith("tool-call") && type !== "model-call-end"),
      ).toEqual([
        "run-start",
        "agent-transfer",
        "delegation-start",
        "delegation-end",
        "human-handoff",
        "human-action",
        "human-action",
        "run-end",
      ]);
      expect(history.filter((event) => event.type === "human-action")).toMatchObject([
        { action: "claim", actor: "ann", queue: "billing-desk" },
        {
          action: "hand-back",
          actor: "ann",
          agent: "billing",
          message: "Refund approved; tell the customer.",
        },
      ]);
      const childId =
        history.find((event) => event.type === "delegation-start")?.type === "delegation-start"
          ? (
              history.find((event) => event.type === "delegation-start") as Extract<
                RunEvent,
                { type: "delegation-start" }
              >
            ).childRunId
          : "";
      const child = await store.require(namespace, childId);
      expect(child).toMatchObject({
        status: "completed",
        agent: "researcher",
        output: "Customer since 2019; pays on time.",
        parent: { runId: run.id },
      });
      expect(child.traceparent).toBe(done.traceparent);
      expect(
        done.messages.find((message) => message.role === "tool" && message.name === "ask_researcher"),
      ).toMatchObject({
        content: "Customer since 2019; pays on time.",
      });
    });

    it("lets a person answer the user and end the run", async () => {
      const { namespace, inbox, item } = await claimedByAnn();
      const answered = await inbox.answer(namespace, item.id, "ann", {
        message: "Hi, this is Ann. All sorted.",
        end: true,
      });
      expect(answered).toMatchObject({ status: "completed", output: "Hi, this is Ann. All sorted." });
      await expect(inbox.handBack(namespace, item.id, "ann", { note: "again" })).rejects.toThrow(/not found/);
    });

    it("takes a cancelled run's item out of the inbox, so a hand-back finds nothing", async () => {
      const { namespace, inbox, run, item } = await claimedByAnn();
      await cancelRun(store, namespace, run.id);
      expect(await inbox.list(namespace, "desk")).toEqual([]);
      await expect(inbox.handBack(namespace, item.id, "ann", { note: "too late" })).rejects.toThrow(
        /not found/,
      );
      await expect(
        inbox.handBack(namespace, item.id, "ann", { note: "to nobody", agent: "nobody" }),
      ).rejects.toThrow(/not found/);
    });

    it("returns a claim whose holder vanished to the queue, and escalates past the SLA", async () => {
      const { namespace } = await world(
        [{ toolCalls: [{ name: "transfer_to_human_first-line", arguments: { summary: "s", reason: "r" } }] }],
        { front: { handoffs: [{ humanQueue: "first-line" }] } },
        {
          "first-line": {
            description: "First line.",
            sla: { claimWithinSeconds: 1 },
            escalateTo: { humanQueue: "second-line" },
          },
          "second-line": { description: "Second line." },
        },
      );
      const inbox = createInbox({ redis: connection, store, queues });
      const run = await startRun(
        { redis: connection, store, queues },
        { namespace, agent: "front", input: "Help" },
      );
      await waitFor(namespace, run.id, "waiting_for_human");
      const [item] = await inbox.list(namespace, "first-line");
      if (item === undefined) throw new Error("no item");
      // A claim with a short lease, never renewed: the sweeper returns it.
      await inbox.claim(namespace, item.id, "ann", { leaseSeconds: 0.3 });
      await expect
        .poll(async () => (await inbox.get(namespace, item.id)).status, { timeout: 10_000 })
        .toBe("waiting");
      // Unclaimed past claimWithinSeconds: it moves to the escalation queue.
      await expect
        .poll(async () => (await inbox.list(namespace, "second-line")).map((entry) => entry.id), {
          timeout: 10_000,
        })
        .toEqual([item.id]);
      expect(await inbox.list(namespace, "first-line")).toEqual([]);
      const actions = (await events(namespace, run.id)).filter((event) => event.type === "human-action");
      expect(actions.map((event) => event.action)).toEqual(["claim", "claim-expire", "escalate"]);
    });

    it("asks for approval before a tool in requireApproval, and resumes on either decision", async () => {
      const { namespace } = await world(
        [
          {
            match: { contains: "refund" },
            text: "Refunding 30.",
            toolCalls: [{ name: "record", arguments: { value: "refund 30" } }],
          },
          { match: { role: "tool" }, text: "Done." },
        ],
        { billing: { tools: [{ mcpServer: "counter", allow: ["record"], requireApproval: ["record"] }] } },
      );
      const approvals = createApprovals({ redis: connection, store, queues });
      const approved = await startRun(
        { redis: connection, store, queues },
        { namespace, agent: "billing", input: "Please refund me." },
      );
      const rejected = await startRun(
        { redis: connection, store, queues },
        { namespace, agent: "billing", input: "Please refund me too." },
      );
      await waitFor(namespace, approved.id, "waiting_for_approval");
      await waitFor(namespace, rejected.id, "waiting_for_approval");
      const items = await approvals.list(namespace, { agent: "billing" });
      expect(items.map((item) => [item.runId, item.tool, item.arguments, item.reason]).sort()).toEqual(
        [
          [approved.id, "record", { value: "refund 30" }, "Refunding 30."],
          [rejected.id, "record", { value: "refund 30" }, "Refunding 30."],
        ].sort(),
      );
      const before = counter.calls().length;
      const byRun = new Map(items.map((item) => [item.runId, item.id]));
      await approvals.decide(namespace, byRun.get(approved.id) ?? "", "ann", { approve: true });
      await approvals.decide(namespace, byRun.get(rejected.id) ?? "", "bob", {
        approve: false,
        reason: "Over the limit.",
      });
      const first = await waitFor(namespace, approved.id, "completed");
      const second = await waitFor(namespace, rejected.id, "completed");
      expect(counter.calls().length - before).toBe(1);
      expect(first.messages.find((message) => message.role === "tool")).toMatchObject({ name: "record" });
      expect(second.messages.find((message) => message.role === "tool")).toMatchObject({
        isError: true,
        content: expect.stringContaining("Over the limit.") as unknown,
      });
      expect(
        (await events(namespace, rejected.id)).find((event) => event.type === "approval-decision"),
      ).toMatchObject({ approved: false, actor: "bob" });
      await expect(
        approvals.decide(namespace, byRun.get(approved.id) ?? "", "ann", { approve: true }),
      ).rejects.toThrow(/not found/);
    });

    it("stops ping-pong transfers at maxHandoffs", async () => {
      const { namespace } = await world(pingPong, pingPongAgents(3));
      const run = await startRun(
        { redis: connection, store, queues },
        { namespace, agent: "ping", input: "ping" },
      );
      const state = await waitFor(namespace, run.id, "limit_exceeded");
      expect(state).toMatchObject({ limit: "maxHandoffs", hops: 3 });
      expect(
        (await events(namespace, run.id)).filter((event) => event.type === "agent-transfer"),
      ).toHaveLength(3);
    });

    it("writes a run once per handoff: a worker takes it up without a write, unless its model is slow", async () => {
      // Models that answer at once: each hop is the transfer's one write (and the last, the limit's).
      const quick = await world(pingPong, pingPongAgents(3), {}, { markRunningAfterMs: 60_000 });
      const pinged = await startRun(
        { redis: connection, store, queues },
        { namespace: quick.namespace, agent: "ping", input: "ping" },
      );
      const limited = await waitFor(quick.namespace, pinged.id, "limit_exceeded");
      expect(limited).toMatchObject({ hops: 3, revision: 4 });
      // A model that takes its time: the run is marked running meanwhile, one write more.
      const slow = await world(
        [{ text: "Done.", delayMs: 1500 }],
        { front: {} },
        {},
        { markRunningAfterMs: 100 },
      );
      const run = await startRun(
        { redis: connection, store, queues },
        { namespace: slow.namespace, agent: "front", input: "Hi" },
      );
      const running = await waitFor(slow.namespace, run.id, "running");
      expect(running.revision).toBe(1);
      expect(slow.model.requests).toHaveLength(1);
      expect(await waitFor(slow.namespace, run.id, "completed")).toMatchObject({
        revision: 2,
        output: "Done.",
      });
      const ends = (await events(slow.namespace, run.id)).filter((event) => event.type === "run-end");
      expect(ends).toHaveLength(1);
    });

    it("puts a transferred run's job on its next agent's queue in the transfer's write (one Redis), or marks the run for dispatch (a cluster)", async () => {
      // What Redis holds the moment each write that queues the run is acknowledged, before the worker
      // does anything else: its job in the next agent's queue, and the run's dispatch mark.
      const seen: { readonly job: boolean; readonly marked: boolean }[] = [];
      const observed: RunStore = {
        ...store,
        async checkpoint(previous, next, events, extra) {
          const written = await store.checkpoint(previous, next, events, extra);
          if (written.status === "queued") {
            const jobKey = queues
              .queue(written.namespace, written.agent)
              .toKey(`${written.id}.r${written.revision}`);
            seen.push({
              job: (await connection.exists(jobKey)) === 1,
              marked:
                (await connection.zscore(dispatchKey(written.namespace, written.id), written.id)) !== null,
            });
          }
          return written;
        },
      };
      const started = await startScriptedWorld({
        connection,
        store: observed,
        namespace: `h${Math.random().toString(36).slice(2, 10)}`,
        counterUrl: counter.url,
        script: pingPong,
        agents: pingPongAgents(4),
      });
      cleanups.push(() => started.close());
      const run = await startRun(
        { redis: connection, store, queues },
        { namespace: started.namespace, agent: "ping", input: "ping" },
      );
      expect(await waitFor(started.namespace, run.id, "limit_exceeded")).toMatchObject({ hops: 4 });
      expect(seen).toHaveLength(4);
      // On a cluster the queue's keys are in another slot than the run's: the job follows the write.
      const atomic = backend.name === "one Redis";
      expect(seen).toEqual(Array.from({ length: 4 }, () => ({ job: atomic, marked: !atomic })));
      // Either way nothing is left marked once the run ended.
      expect(await connection.zscore(dispatchKey(started.namespace, run.id), run.id)).toBeNull();
    });

    it("moves many runs between two agents served by two workers of one process, none left behind", async () => {
      const agents = pingPongAgents(8);
      const { namespace } = await world(pingPong, agents);
      // A second worker of the same agents, on a connection of its own: a run moves between the two,
      // so a worker often picks up a run it handed over two transfers before (its memory of it stale).
      const second = connectRedis(redis.url, { maxRetriesPerRequest: null });
      const other = await startScriptedWorld({
        connection: second,
        store: createRunStore(second),
        namespace,
        counterUrl: counter.url,
        script: pingPong,
        agents,
      });
      cleanups.push(async () => {
        await other.close();
        second.disconnect();
      });
      const runs = await Promise.all(
        Array.from({ length: 30 }, () =>
          startRun({ redis: connection, store, queues }, { namespace, agent: "ping", input: "ping" }),
        ),
      );
      for (const run of runs) {
        expect(await waitFor(namespace, run.id, "limit_exceeded")).toMatchObject({ hops: 8 });
      }
    });

    it("refuses to load an agent whose handoff target does not exist", async () => {
      await expect(world([{ text: "x" }], { front: { handoffs: [{ agent: "nobody" }] } })).rejects.toThrow(
        "agent front hands off to agent nobody, which is not defined",
      );
      await expect(
        world([{ text: "x" }], { front: { handoffs: [{ humanQueue: "nobody" }] } }),
      ).rejects.toThrow("agent front hands off to HumanQueue nobody, which is not defined");
    });
  });
});
