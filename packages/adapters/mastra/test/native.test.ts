/**
 * Native mode on real parts (Redis, the scripted model server over HTTP, the counter MCP server, the
 * worker's code loader): the team's own Mastra agents in test/native-code/agents.ts, their concepts
 * mapped onto Freehold's durable ones, and what a worker that dies mid-run leaves.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunState } from "@freehold/api";
import { createApprovals, newRun, startRun } from "@freehold/handoff";
import { startScriptedModelServer, type ModelScriptInput } from "@freehold/models";
import { createRuntime } from "@freehold/runtime";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { scriptedConfig } from "../../../../test/fixtures/scripted-config.ts";
import { startRunServices, waitForStatus, type RunServices } from "../../../../test/fixtures/run-services.ts";
import { startScriptedWorld, type ScriptedWorld } from "../../../runtime/test/scripted-world.ts";
import { mastraDriver } from "../src/index.ts";
import type { NativeTestRecord } from "./native-code/agents.ts";

const codeRoot = join(dirname(fileURLToPath(import.meta.url)), "native-code");
const holder = globalThis as { mastraNativeTest?: NativeTestRecord };
/** What the code's tools did (the code module creates the record when the worker imports it). */
const record = (): NativeTestRecord => (holder.mastraNativeTest ??= { executions: [], supplied: [] });

let services: RunServices;
const worlds: ScriptedWorld[] = [];

beforeAll(async () => {
  services = await startRunServices();
});
afterAll(() => services.stop());
beforeEach(() => {
  record().executions.length = 0;
  record().supplied.length = 0;
});
afterEach(async () => {
  for (const world of worlds.splice(0)) await world.close();
});

const code = (name: string) => ({ framework: "mastra", code: { module: "agents.ts", export: name } });

async function world(
  script: ModelScriptInput,
  agents: Record<string, Record<string, unknown>>,
): Promise<ScriptedWorld> {
  const started = await startScriptedWorld({
    connection: services.connection,
    store: services.store,
    namespace: `n${Math.random().toString(36).slice(2, 10)}`,
    counterUrl: services.counter.url,
    script,
    agents,
    drivers: [mastraDriver],
    codeRoot,
  });
  worlds.push(started);
  return started;
}

const parts = () => ({ redis: services.connection, store: services.store, queues: services.queues });

async function run(
  target: ScriptedWorld,
  agent: string,
  input: string,
  status: RunState["status"],
): Promise<RunState> {
  const started = await startRun(parts(), { namespace: target.namespace, agent, input });
  return waitForStatus(services.store, target.namespace, started.id, status);
}

const toolMessages = (state: RunState) =>
  state.messages.flatMap((message) => (message.role === "tool" ? [message.content] : []));

/** The system prompt of the model's first request. */
function systemPrompt(target: ScriptedWorld): unknown {
  const [request] = target.model.requests as unknown as readonly {
    messages: { role: string; content: unknown }[];
  }[];
  return request?.messages[0];
}

describe("a Mastra Agent as the agent's code", () => {
  it("has its instructions as the system prompt and its own tools run as durable tool calls", async () => {
    const target = await world(
      [{ toolCalls: [{ name: "lookup_order", arguments: { order: "A7" } }] }, { text: "It shipped." }],
      { front: { ...code("support"), instructions: "The manifest's instructions." } },
    );
    const done = await run(target, "front", "Where is A7?", "completed");
    expect(done.output).toBe("It shipped.");
    expect(systemPrompt(target)).toEqual({
      role: "system",
      content: "You are the support agent of the native test.",
    });
    expect(record().executions).toEqual(["lookup_order:A7"]);
    expect(JSON.parse(toolMessages(done)[0] ?? "null")).toEqual({ order: "A7", status: "shipped" });
    const events = (await services.store.readEvents(target.namespace, done.id)).map(({ event }) => event);
    expect(events.filter((event) => event.type === "tool-call-end")).toMatchObject([
      { name: "lookup_order", isError: false },
    ]);
    // The model was offered the code's tools, as JSON Schema from their zod schemas.
    const [request] = target.model.requests as unknown as readonly {
      tools?: { function: { name: string; parameters: unknown } }[];
    }[];
    expect(request?.tools?.map((tool) => tool.function.name).sort()).toEqual([
      "charge",
      "lookup_order",
      "refund",
    ]);
    expect(
      request?.tools?.find((tool) => tool.function.name === "lookup_order")?.function.parameters,
    ).toMatchObject({
      type: "object",
      properties: { order: { type: "string" } },
      required: ["order"],
    });
  });

  it("reads instructions and tools given as functions of the request context, AI SDK tools too", async () => {
    const target = await world(
      [
        {
          toolCalls: [
            { name: "lookup_order", arguments: { order: "B2" } },
            { name: "local_time", arguments: { zone: "Europe/Paris" } },
          ],
        },
        { text: "Found." },
      ],
      { front: code("dynamic") },
    );
    const done = await run(target, "front", "B2?", "completed");
    expect(systemPrompt(target)).toEqual({ role: "system", content: "You are resolved at run start." });
    expect(record().executions.sort()).toEqual(["local_time:Europe/Paris", "lookup_order:B2"]);
    expect(toolMessages(done)[1]).toBe("noon in Europe/Paris");
    expect(done.output).toBe("Found.");
  });

  it("asks for approval of every tool call when the Agent's defaultOptions require it", async () => {
    const target = await world(
      [{ toolCalls: [{ name: "lookup_order", arguments: { order: "D4" } }] }, { text: "Done." }],
      { front: code("cautious") },
    );
    const waiting = await run(target, "front", "D4?", "waiting_for_approval");
    expect(record().executions).toEqual([]);
    const [item] = await createApprovals(parts()).list(target.namespace);
    expect(item).toMatchObject({ runId: waiting.id, tool: "lookup_order" });
  });

  it.each(["approved", "rejected"] as const)(
    "turns a tool's requireApproval into an approval item (%s)",
    async (decision) => {
      const target = await world(
        [{ toolCalls: [{ name: "refund", arguments: { order: "C3" } }] }, { text: "Done." }],
        { front: code("support") },
      );
      const waiting = await run(target, "front", "Refund C3.", "waiting_for_approval");
      expect(record().executions).toEqual([]);
      const approvals = createApprovals(parts());
      const [item] = await approvals.list(target.namespace);
      expect(item).toMatchObject({ runId: waiting.id, tool: "refund", arguments: { order: "C3" } });
      if (item === undefined) throw new Error("no approval item");
      await approvals.decide(
        target.namespace,
        item.id,
        "ann",
        decision === "approved" ? { approve: true } : { approve: false, reason: "Not today." },
      );
      const done = await waitForStatus(services.store, target.namespace, waiting.id, "completed");
      if (decision === "approved") {
        expect(record().executions).toEqual(["refund:C3"]);
        expect(toolMessages(done)).toEqual(["refunded C3"]);
      } else {
        expect(record().executions).toEqual([]);
        expect(toolMessages(done)[0]).toContain("Not today.");
      }
    },
  );

  it("gives a factory the run's model and the manifest's MCP tools, allow-lists enforced", async () => {
    const target = await world(
      [
        { toolCalls: [{ name: "add", arguments: { a: 2, b: 3 } }] },
        { toolCalls: [{ name: "echo", arguments: { text: "hi" } }] },
        { text: "5, and no echo." },
      ],
      { front: { ...code("factory"), tools: [{ mcpServer: "counter", allow: ["add"] }] } },
    );
    const calls = services.counter.calls().length;
    const done = await run(target, "front", "2 + 3, then echo.", "completed");
    expect(done.output).toBe("5, and no echo.");
    expect(record().supplied).toEqual([["add"]]);
    expect(
      services.counter
        .calls()
        .slice(calls)
        .map((call) => call.tool),
    ).toEqual(["add"]);
    expect(toolMessages(done)[0]).toBe("5");
    expect(toolMessages(done)[1]).toMatch(/echo/);
    expect(systemPrompt(target)).toEqual({ role: "system", content: "You are made by a factory." });
  });

  it("runs a sub-agent the manifest lists as the Freehold agent of that name, a child run", async () => {
    const target = await world(
      [
        {
          match: { contains: "history" },
          toolCalls: [{ name: "ask_researcher", arguments: { input: "Look up customer 7." } }],
        },
        { match: { contains: "Look up customer 7" }, text: "Customer 7 paid twice." },
        { match: { contains: "paid twice" }, text: "They paid twice." },
      ],
      {
        front: { ...code("network"), tools: [{ agent: "researcher" }] },
        researcher: { framework: "mastra" },
      },
    );
    const done = await run(target, "front", "What is the history of customer 7?", "completed");
    expect(done.output).toBe("They paid twice.");
    expect(toolMessages(done)[0]).toContain("Customer 7 paid twice.");
    const events = (await services.store.readEvents(target.namespace, done.id)).map(({ event }) => event);
    expect(events.find((event) => event.type === "delegation-start")).toMatchObject({ agent: "researcher" });
  });
});

describe("what native mode refuses", () => {
  it.each([
    ["notAnAgent", "adapter.mastra.code-invalid", "export is an object; export a Mastra Agent"],
    ["badFactory", "adapter.mastra.code-invalid", "a function that returned a number"],
    ["network", "adapter.mastra.sub-agent-not-listed", "sub-agent researcher"],
    ["withWorkflow", "adapter.mastra.workflows-unsupported", "workflows (noop)"],
  ])("fails the run of export %s with %s", async (name, errorCode, message) => {
    const target = await world([{ text: "Never asked." }], { front: code(name), researcher: {} });
    const failed = await run(target, "front", "Hi", "failed");
    expect(failed.error?.code).toBe(errorCode);
    expect(failed.error?.message).toContain(message);
    expect(target.model.requests).toEqual([]);
  });
});

describe("a worker that dies mid-run (native mode)", () => {
  /**
   * Runs the agent in this process with a store that stops taking writes at the first one `dies`
   * says is fatal (the worker is gone), then resumes the run from its last checkpoint, as another
   * worker would.
   */
  async function dieThenResume(dies: (next: RunState) => boolean): Promise<RunState> {
    const namespace = `d${Math.random().toString(36).slice(2, 10)}`;
    const model = await startScriptedModelServer({
      script: [{ toolCalls: [{ name: "charge", arguments: { cents: 500 } }] }, { text: "Charged." }],
    });
    const runtime = await createRuntime(
      scriptedConfig({
        namespace,
        modelBaseUrl: model.baseUrl,
        model: { maxRetries: 0 },
        agents: { front: code("support") },
      }),
      { resolveSecret: () => Promise.reject(new Error("no secrets")), codeRoot },
    );
    try {
      const agent = runtime.agent("front");
      const state = newRun({
        id: `r${Math.random().toString(36).slice(2, 10)}`,
        namespace,
        agent: "front",
        input: "Charge 5.",
      });
      await services.store.create(state, []);
      const died = new Error("the worker died");
      await expect(
        mastraDriver.run(state, {
          agent,
          checkpoint: (previous, next, events, extra) => {
            if (dies(next)) return Promise.reject(died);
            return services.store.checkpoint(previous, next, events, extra);
          },
        }),
      ).rejects.toBe(died);
      const resumed = await mastraDriver.run(await services.store.require(namespace, state.id), {
        agent,
        checkpoint: (previous, next, events, extra) =>
          services.store.checkpoint(previous, next, events, extra),
      });
      return resumed.state;
    } finally {
      await runtime.close();
      await model.close();
    }
  }

  it("does not run a code tool again once its result was checkpointed", async () => {
    // Dies at the write after the tool's result: the model's answer.
    const done = await dieThenResume((next) => next.output !== undefined);
    expect(done.status).toBe("completed");
    expect(done.output).toBe("Charged.");
    expect(record().executions).toEqual(["charge:500"]);
    expect(toolMessages(done)).toEqual(["charged 500"]);
  });

  it("does not run again a code tool that was running when its worker died (onInterrupt: fail)", async () => {
    // Dies at the write of the tool's result: the call ran, its outcome is unknown to the run.
    const done = await dieThenResume((next) => toolMessages(next).length > 0);
    expect(done.status).toBe("completed");
    expect(record().executions).toEqual(["charge:500"]);
    expect(toolMessages(done)[0]).toContain("is not run again (onInterrupt: fail)");
  });
});
