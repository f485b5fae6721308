/**
 * The conformance table's rows: what every loop driver must do the same way, on real parts (Redis,
 * the scripted model server over HTTP, the counter MCP server counting every call it receives).
 * Each scenario builds its own namespace through the context, so rows never share runs or scripts.
 * The crash row, which needs worker processes, is in conformance.test.ts.
 */
import type { RunEvent, RunState } from "@freehold/api";
import type { Approvals, Inbox } from "@freehold/handoff";
import type { ModelScriptInput } from "@freehold/models";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { expect } from "vitest";
import type { CounterCall } from "../fixtures/mcp/counter-server.ts";
import type { ScriptedWorld } from "../../packages/runtime/test/scripted-world.ts";

export interface ConformanceContext {
  /** A namespace served by a worker running the driver under test (its framework on every agent). */
  world(
    script: ModelScriptInput,
    agents: Record<string, Record<string, unknown>>,
    humanQueues?: Record<string, Record<string, unknown>>,
  ): Promise<ScriptedWorld>;
  start(namespace: string, agent: string, input: string): Promise<RunState>;
  /** Waits (up to 20 s) for the run to reach `status`; fails with the status it is stuck at. */
  waitFor(namespace: string, runId: string, status: RunState["status"]): Promise<RunState>;
  events(namespace: string, runId: string): Promise<RunEvent[]>;
  /** Calls the counter MCP server received since the scenario began (every one, not de-duplicated). */
  serverCalls(): CounterCall[];
  cancel(namespace: string, runId: string): Promise<void>;
  readonly inbox: Inbox;
  readonly approvals: Approvals;
  /** Spans ended since the scenario began. */
  spans(): readonly ReadableSpan[];
}

export interface Scenario {
  readonly name: string;
  run(context: ConformanceContext): Promise<void>;
}

const counterTools = (...allow: string[]) => ({ tools: [{ mcpServer: "counter", allow }] });
const addTurn = (a: number, b: number) => ({ toolCalls: [{ name: "add", arguments: { a, b } }] });

/** The tool messages of a run, in order. */
function toolMessages(state: RunState): string[] {
  return state.messages.flatMap((message) => (message.role === "tool" ? [message.content] : []));
}

export const scenarios: readonly Scenario[] = [
  {
    name: "plain answer",
    async run(c) {
      const { namespace } = await c.world([{ text: "Hello." }], { front: {} });
      const run = await c.start(namespace, "front", "Hi");
      const done = await c.waitFor(namespace, run.id, "completed");
      expect(done.output).toBe("Hello.");
      expect(done.steps).toBe(1);
      expect(c.serverCalls()).toEqual([]);
    },
  },
  {
    name: "one tool call",
    async run(c) {
      const { namespace } = await c.world([addTurn(2, 3), { text: "It is 5." }], {
        front: counterTools("add"),
      });
      const run = await c.start(namespace, "front", "2 + 3?");
      const done = await c.waitFor(namespace, run.id, "completed");
      expect(done.output).toBe("It is 5.");
      expect(toolMessages(done)).toEqual(["5"]);
      expect(c.serverCalls().map((call) => [call.tool, call.arguments])).toEqual([["add", { a: 2, b: 3 }]]);
    },
  },
  {
    name: "parallel tool calls",
    async run(c) {
      const { namespace } = await c.world(
        [
          {
            toolCalls: [
              { name: "add", arguments: { a: 1, b: 1 } },
              { name: "add", arguments: { a: 2, b: 2 } },
            ],
          },
          { text: "2 and 4." },
        ],
        { front: counterTools("add") },
      );
      const run = await c.start(namespace, "front", "1+1 and 2+2?");
      const done = await c.waitFor(namespace, run.id, "completed");
      // Results in the order of the model's calls, whatever order the server answered in.
      expect(toolMessages(done)).toEqual(["2", "4"]);
      expect(c.serverCalls()).toHaveLength(2);
      expect(done.steps).toBe(2);
    },
  },
  {
    name: "a tool error",
    async run(c) {
      const { namespace } = await c.world(
        [
          { toolCalls: [{ name: "fail", arguments: { message: "the ledger is locked" } }] },
          { text: "It failed." },
        ],
        { front: counterTools("fail") },
      );
      const run = await c.start(namespace, "front", "Try.");
      const done = await c.waitFor(namespace, run.id, "completed");
      expect(toolMessages(done)[0]).toContain("the ledger is locked");
      const end = (await c.events(namespace, run.id)).find((event) => event.type === "tool-call-end");
      expect(end).toMatchObject({ isError: true });
      expect(done.output).toBe("It failed.");
    },
  },
  {
    name: "allow-list refusal",
    async run(c) {
      const { namespace } = await c.world(
        [{ toolCalls: [{ name: "echo", arguments: { text: "hi" } }] }, { text: "I may not." }],
        { front: counterTools("add") },
      );
      const run = await c.start(namespace, "front", "Echo hi.");
      const done = await c.waitFor(namespace, run.id, "completed");
      // Refused in the worker: the server never sees the call, the model gets an error.
      expect(c.serverCalls()).toEqual([]);
      expect(toolMessages(done)[0]).toMatch(/echo/);
      expect(done.output).toBe("I may not.");
    },
  },
  {
    name: "maxSteps limit",
    async run(c) {
      const { namespace } = await c.world(
        { turns: [addTurn(1, 1)], loop: true },
        { front: { ...counterTools("add"), limits: { maxSteps: 3 } } },
      );
      const run = await c.start(namespace, "front", "Add forever.");
      const done = await c.waitFor(namespace, run.id, "limit_exceeded");
      expect(done.limit).toBe("maxSteps");
      expect(done.steps).toBe(3);
      expect(c.serverCalls()).toHaveLength(3);
    },
  },
  {
    name: "timeout limit",
    async run(c) {
      const { namespace } = await c.world([{ text: "Too late.", delayMs: 3_000 }], {
        front: { limits: { timeoutSeconds: 1 } },
      });
      const run = await c.start(namespace, "front", "Answer slowly.");
      const done = await c.waitFor(namespace, run.id, "limit_exceeded");
      expect(done.limit).toBe("timeoutSeconds");
      expect(done.output).toBeUndefined();
    },
  },
  {
    name: "transfer to another agent",
    async run(c) {
      const { namespace } = await c.world(
        [
          {
            match: { contains: "invoice" },
            toolCalls: [{ name: "transfer_to_billing", arguments: { note: "Invoice question." } }],
          },
          { match: { contains: "Transferred to billing" }, text: "Billing here." },
        ],
        { front: { handoffs: [{ agent: "billing" }] }, billing: {} },
      );
      const run = await c.start(namespace, "front", "About my invoice.");
      const done = await c.waitFor(namespace, run.id, "completed");
      expect(done.agent).toBe("billing");
      expect(done.hops).toBe(1);
      expect(done.output).toBe("Billing here.");
      const transfer = (await c.events(namespace, run.id)).find((event) => event.type === "agent-transfer");
      expect(transfer).toMatchObject({ from: "front", to: "billing", note: "Invoice question." });
    },
  },
  {
    name: "agent as tool",
    async run(c) {
      const { namespace } = await c.world(
        [
          {
            match: { contains: "history" },
            toolCalls: [{ name: "ask_researcher", arguments: { input: "Look up customer 7." } }],
          },
          { match: { contains: "Look up customer 7" }, text: "Customer 7 paid twice." },
          { match: { contains: "paid twice" }, text: "They paid twice." },
        ],
        { front: { tools: [{ agent: "researcher" }] }, researcher: {} },
      );
      const run = await c.start(namespace, "front", "What is the history of customer 7?");
      const done = await c.waitFor(namespace, run.id, "completed");
      expect(done.output).toBe("They paid twice.");
      expect(toolMessages(done)[0]).toContain("Customer 7 paid twice.");
      const delegation = (await c.events(namespace, run.id)).find(
        (event) => event.type === "delegation-start",
      );
      expect(delegation).toMatchObject({ agent: "researcher" });
      if (delegation?.type !== "delegation-start") throw new Error("no delegation-start event");
      expect((await c.waitFor(namespace, delegation.childRunId, "completed")).output).toBe(
        "Customer 7 paid twice.",
      );
    },
  },
  {
    name: "hand to a human queue, resume on hand-back",
    async run(c) {
      const { namespace } = await c.world(
        [
          {
            match: { contains: "refund" },
            toolCalls: [
              {
                name: "transfer_to_human_desk",
                arguments: { summary: "Wants a refund.", reason: "Refunds need a person." },
              },
            ],
          },
          { match: { anyMessageContains: "Refund approved" }, text: "Your refund is on its way." },
        ],
        { front: { handoffs: [{ humanQueue: "desk" }] } },
        { desk: { description: "People who decide refunds." } },
      );
      const run = await c.start(namespace, "front", "I want a refund.");
      await c.waitFor(namespace, run.id, "waiting_for_human");
      const [item] = await c.inbox.list(namespace, "desk");
      expect(item).toMatchObject({
        runId: run.id,
        summary: "Wants a refund.",
        reason: "Refunds need a person.",
      });
      if (item === undefined) throw new Error("no inbox item");
      await c.inbox.claim(namespace, item.id, "ann");
      await c.inbox.handBack(namespace, item.id, "ann", { note: "Refund approved." });
      const done = await c.waitFor(namespace, run.id, "completed");
      expect(done.output).toBe("Your refund is on its way.");
      expect(await c.inbox.list(namespace, "desk")).toEqual([]);
    },
  },
  ...(["approved", "rejected"] as const).map((decision): Scenario => ({
    name: `approval ${decision}`,
    async run(c) {
      const { namespace } = await c.world([addTurn(2, 2), { text: "Done." }], {
        front: { tools: [{ mcpServer: "counter", allow: ["add"], requireApproval: ["add"] }] },
      });
      const run = await c.start(namespace, "front", "2 + 2, if allowed.");
      await c.waitFor(namespace, run.id, "waiting_for_approval");
      expect(c.serverCalls()).toEqual([]);
      const [item] = await c.approvals.list(namespace);
      expect(item).toMatchObject({ runId: run.id, tool: "add", arguments: { a: 2, b: 2 } });
      if (item === undefined) throw new Error("no approval item");
      await c.approvals.decide(
        namespace,
        item.id,
        "ann",
        decision === "approved" ? { approve: true } : { approve: false, reason: "Not today." },
      );
      const done = await c.waitFor(namespace, run.id, "completed");
      if (decision === "approved") {
        expect(c.serverCalls().map((call) => call.tool)).toEqual(["add"]);
        expect(toolMessages(done)).toEqual(["4"]);
      } else {
        expect(c.serverCalls()).toEqual([]);
        expect(toolMessages(done)[0]).toContain("Not today.");
      }
    },
  })),
  {
    name: "cancel",
    async run(c) {
      const world = await c.world(
        [{ toolCalls: [{ name: "slow", arguments: { steps: 30, delayMs: 100 } }] }, { text: "Finished." }],
        { front: counterTools("slow") },
      );
      const { namespace } = world;
      const run = await c.start(namespace, "front", "Take your time.");
      await expect.poll(() => c.serverCalls().length, { timeout: 20_000, interval: 20 }).toBe(1);
      await c.cancel(namespace, run.id);
      const cancelled = await c.waitFor(namespace, run.id, "cancelled");
      const modelCalls = world.model.requests.length;
      // The slow call's end (3 s) passes: the run stays cancelled and the model is not asked again.
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      const after = await c.waitFor(namespace, run.id, "cancelled");
      expect(after.revision).toBe(cancelled.revision);
      expect(world.model.requests.length).toBe(modelCalls);
      expect(after.output).toBeUndefined();
      // The call in flight when the run was cancelled is not sent again, by any part of the worker.
      expect(c.serverCalls()).toHaveLength(1);
    },
  },
  {
    name: "invalid model output",
    async run(c) {
      const { namespace } = await c.world(
        [{ toolCalls: [{ name: "add", arguments: '{"a": 1, "b":' }] }, { text: "Sorry, 1 + 2 is 3." }],
        { front: counterTools("add") },
      );
      const run = await c.start(namespace, "front", "1 + 2?");
      const done = await c.waitFor(namespace, run.id, "completed");
      // Arguments that are not JSON never reach the server; the model is told and answers again.
      expect(c.serverCalls()).toEqual([]);
      expect(done.output).toBe("Sorry, 1 + 2 is 3.");
      expect(done.invalidTurns + toolMessages(done).length).toBeGreaterThan(0);
    },
  },
  {
    name: "same event types and span names",
    async run(c) {
      const { namespace } = await c.world([addTurn(1, 2), { text: "3." }], { front: counterTools("add") });
      const run = await c.start(namespace, "front", "1 + 2?");
      await c.waitFor(namespace, run.id, "completed");
      expect((await c.events(namespace, run.id)).map((event) => event.type)).toEqual([
        "run-start",
        "model-call-end",
        "tool-call-start",
        "tool-call-end",
        "model-call-end",
        "run-end",
      ]);
      await expect
        .poll(
          () =>
            c
              .spans()
              .map((span) => span.name)
              .sort(),
          { timeout: 5_000, interval: 20 },
        )
        .toEqual(["chat scripted-model", "chat scripted-model", "execute_tool add", "invoke_agent front"]);
    },
  },
];
