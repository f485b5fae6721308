/**
 * Native mode on real parts (Redis, the scripted model server over HTTP, the counter MCP server,
 * runtime workers loading test/native-code/agents.ts as an agent's `spec.code`): the code's SDK
 * concepts become Freehold's durable ones: instructions as the system prompt, function tools as
 * durable tool calls, `needsApproval` as approval items, handoffs as transfers to the Freehold agent
 * of the target's name (served by another worker); a wrong export and an unlisted handoff fail the
 * run with a clear error; the manifest's allow-lists still hold.
 */
import { fileURLToPath } from "node:url";
import type { ChatMessage, RunEvent, RunState } from "@freehold/api";
import { createApprovals, startRun, type Approvals } from "@freehold/handoff";
import { startScriptedModelServer, type ModelScriptInput, type ScriptedModelServer } from "@freehold/models";
import { createRuntime, createRuntimeWorker, type Runtime, type RuntimeWorker } from "@freehold/runtime";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { scriptedConfig } from "../../../../test/fixtures/scripted-config.ts";
import { startRunServices, waitForStatus, type RunServices } from "../../../../test/fixtures/run-services.ts";
import { openAiAgentsDriver } from "../src/index.ts";

const codeRoot = fileURLToPath(new URL("./native-code", import.meta.url));

let services: RunServices;
let approvals: Approvals;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  services = await startRunServices();
  const { connection: redis, store, queues } = services;
  approvals = createApprovals({ redis, store, queues });
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(() => services.stop());

interface NativeWorld {
  readonly namespace: string;
  readonly model: ScriptedModelServer;
  start(agent: string, input: string): Promise<RunState>;
  waitFor(runId: string, status: RunState["status"]): Promise<RunState>;
  events(runId: string): Promise<RunEvent[]>;
}

/**
 * A namespace whose agents are served by one worker each (the native agents with the OpenAI Agents
 * driver and code root), all on one scripted model server and the counter MCP server.
 */
async function nativeWorld(
  script: ModelScriptInput,
  agents: Record<string, Record<string, unknown>>,
): Promise<NativeWorld> {
  const namespace = `n${Math.random().toString(36).slice(2, 10)}`;
  const model = await startScriptedModelServer({ script });
  closers.push(() => model.close());
  const config = scriptedConfig({
    namespace,
    modelBaseUrl: model.baseUrl,
    model: { maxRetries: 0 },
    agents,
    mcpServers: { counter: services.counter.url },
  });
  const runtime: Runtime = await createRuntime(config, {
    resolveSecret: () => Promise.reject(new Error("no secrets")),
    codeRoot,
  });
  closers.push(() => runtime.close());
  for (const agent of runtime.agents) {
    const worker: RuntimeWorker = createRuntimeWorker({
      connection: services.connection,
      store: services.store,
      agents: [agent],
      sweepIntervalMs: 200,
      drivers: [openAiAgentsDriver],
    });
    closers.push(() => worker.close());
    await worker.ready();
  }
  const { connection: redis, store, queues } = services;
  return {
    namespace,
    model,
    start: (agent, input) => startRun({ redis, store, queues }, { namespace, agent, input }),
    waitFor: (runId, status) => waitForStatus(store, namespace, runId, status),
    events: async (runId) => (await store.readEvents(namespace, runId)).map(({ event }) => event),
  };
}

const triage = (spec: Record<string, unknown> = {}) => ({
  framework: "openai-agents",
  code: { module: "agents.ts" },
  instructions: "The manifest's instructions (the code's win).",
  tools: [{ mcpServer: "counter", allow: ["add"] }],
  handoffs: [{ agent: "billing" }],
  ...spec,
});

function toolMessages(state: RunState): string[] {
  return state.messages.flatMap((message: ChatMessage) => (message.role === "tool" ? [message.content] : []));
}

describe("native mode: the code's Agent", () => {
  it("is the system prompt, its function tools and Freehold's MCP tools, each call durable", async () => {
    const world = await nativeWorld(
      [
        {
          toolCalls: [
            { name: "lookup_invoice", arguments: { id: "INV-1" } },
            { name: "add", arguments: { a: 2, b: 3 } },
          ],
        },
        { text: "INV-1 is 40 EUR; 2 + 3 is 5." },
      ],
      { triage: triage(), billing: {} },
    );
    const callsBefore = services.counter.calls().length;
    const run = await world.start("triage", "INV-1, and 2 + 3?");
    const done = await world.waitFor(run.id, "completed");
    expect(done.output).toBe("INV-1 is 40 EUR; 2 + 3 is 5.");
    expect(toolMessages(done)).toEqual(["invoice INV-1: 40 EUR, unpaid", "5"]);
    expect(
      services.counter
        .calls()
        .slice(callsBefore)
        .map((call) => call.tool),
    ).toEqual(["add"]);
    // The code's instructions, not the manifest's; the model is offered the code's tools and the
    // SDK handoff under its own name.
    const [first] = world.model.requests;
    expect(first?.messages[0]).toMatchObject({
      role: "system",
      content: "You are the triage code. Look invoices up.",
    });
    const offered = (first?.tools ?? []).map(
      (entry) => (entry as { function: { name: string } }).function.name,
    );
    expect(offered).toEqual(
      expect.arrayContaining(["add", "lookup_invoice", "refund", "credit", "escalate_to_billing"]),
    );
    expect(offered).not.toContain("transfer_to_billing");
    // Each tool call is a runtime tool call: its start and its checkpointed result.
    const events = await world.events(run.id);
    const started = events.flatMap((event) =>
      event.type === "tool-call-start" ? [`${event.server ?? ""}/${event.toolCall.name}`] : [],
    );
    const ended = events.flatMap((event) => (event.type === "tool-call-end" ? [event.name] : []));
    expect(started.sort()).toEqual(["@code/lookup_invoice", "counter/add"]);
    expect(ended.sort()).toEqual(["add", "lookup_invoice"]);
  });

  it("as a plain Agent: its instructions function is the system prompt, Freehold's model in place of its own", async () => {
    const world = await nativeWorld([{ text: "Plain answer." }], {
      plain: triage({ code: { module: "agents.ts", export: "plain" }, handoffs: [] }),
    });
    const run = await world.start("plain", "Hi");
    const done = await world.waitFor(run.id, "completed");
    expect(done.output).toBe("Plain answer.");
    expect(world.model.requests[0]?.messages[0]).toMatchObject({
      role: "system",
      content: "You are the plain code.",
    });
  });

  it("hands off through its SDK handoff: a Freehold transfer, and the billing agent (another worker) answers", async () => {
    const world = await nativeWorld(
      [
        { toolCalls: [{ name: "escalate_to_billing", arguments: { note: "A payment question." } }] },
        { text: "Billing here: INV-1 was paid yesterday." },
      ],
      { triage: triage(), billing: { instructions: "You are billing." } },
    );
    const run = await world.start("triage", "Was INV-1 paid?");
    const done = await world.waitFor(run.id, "completed");
    expect(done.agent).toBe("billing");
    expect(done.output).toBe("Billing here: INV-1 was paid yesterday.");
    const transfer = (await world.events(run.id)).find((event) => event.type === "agent-transfer");
    expect(transfer).toMatchObject({ from: "triage", to: "billing", note: "A payment question." });
    expect(world.model.requests[1]?.messages[0]).toMatchObject({
      role: "system",
      content: "You are billing.",
    });
  });
});

describe("native mode: needsApproval", () => {
  it("true: the call waits for a person's approval item, and runs once approved", async () => {
    const world = await nativeWorld(
      [{ toolCalls: [{ name: "refund", arguments: { id: "INV-1" } }] }, { text: "Refunded." }],
      { triage: triage(), billing: {} },
    );
    const run = await world.start("triage", "Refund INV-1.");
    await world.waitFor(run.id, "waiting_for_approval");
    const [item] = await approvals.list(world.namespace);
    expect(item).toMatchObject({ runId: run.id, tool: "refund", arguments: { id: "INV-1" } });
    if (item === undefined) throw new Error("no approval item");
    await approvals.decide(world.namespace, item.id, "ann", { approve: true });
    const done = await world.waitFor(run.id, "completed");
    expect(toolMessages(done)).toEqual(["refunded INV-1"]);
  });

  it("a function: every call waits for approval (the function is not asked), and a rejection reaches the model", async () => {
    const world = await nativeWorld(
      [{ toolCalls: [{ name: "credit", arguments: { amount: 5 } }] }, { text: "Not credited." }],
      { triage: triage(), billing: {} },
    );
    const run = await world.start("triage", "Credit 5.");
    await world.waitFor(run.id, "waiting_for_approval");
    const [item] = await approvals.list(world.namespace);
    expect(item).toMatchObject({ runId: run.id, tool: "credit", arguments: { amount: 5 } });
    if (item === undefined) throw new Error("no approval item");
    await approvals.decide(world.namespace, item.id, "ann", { approve: false, reason: "Not today." });
    const done = await world.waitFor(run.id, "completed");
    expect(toolMessages(done)[0]).toContain("Not today.");
    expect(toolMessages(done)[0]).not.toContain("credited");
  });
});

describe("native mode: the manifest is the boundary", () => {
  it("refuses an MCP tool outside the allow-list, the call never reaching the server", async () => {
    const world = await nativeWorld(
      [{ toolCalls: [{ name: "echo", arguments: { text: "hi" } }] }, { text: "I may not." }],
      { triage: triage(), billing: {} },
    );
    const callsBefore = services.counter.calls().length;
    const run = await world.start("triage", "Echo hi.");
    const done = await world.waitFor(run.id, "completed");
    expect(done.output).toBe("I may not.");
    expect(toolMessages(done)[0]).toMatch(/echo/);
    expect(services.counter.calls().slice(callsBefore)).toEqual([]);
  });

  it("fails the run of a handoff to an agent spec.handoffs does not list", async () => {
    const world = await nativeWorld([{ text: "never" }], {
      rogue: triage({ code: { module: "agents.ts", export: "unlisted" } }),
      billing: {},
    });
    const run = await world.start("rogue", "Hi");
    const failed = await world.waitFor(run.id, "failed");
    expect(failed.error?.code).toBe("adapter.openai-agents.handoff-not-listed");
    expect(failed.error?.message).toContain("legal");
    expect(world.model.requests).toEqual([]);
  });

  it.each([
    ["notAnAgent", "a plain object", "export an Agent"],
    ["brokenFactory", "a function that returned a string", "export an Agent"],
    ["guarded", "an Agent with inputGuardrails", "remove them from the Agent"],
  ])("fails the run of a wrong export (%s) with what was found and what to do", async (name, found, todo) => {
    const world = await nativeWorld([{ text: "never" }], {
      wrong: triage({ code: { module: "agents.ts", export: name } }),
      billing: {},
    });
    const run = await world.start("wrong", "Hi");
    const failed = await world.waitFor(run.id, "failed");
    expect(failed.error?.code).toBe("adapter.openai-agents.code-invalid");
    expect(failed.error?.message).toContain(found);
    expect(failed.error?.message).toContain(todo);
    expect(world.model.requests).toEqual([]);
  });
});

it("the driver runs agents' own code", () => {
  expect(openAiAgentsDriver.runsCode).toBe(true);
});
