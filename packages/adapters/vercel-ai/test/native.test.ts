/**
 * Native mode on real parts (Redis, the scripted model server over HTTP, the counter MCP server):
 * agents that are AI SDK code (test/native-agents/agents.ts, loaded through `spec.code` from that
 * folder) run their own loop on Freehold's durable model, their tools durable, their approval
 * settings Freehold approval items, the manifest's allow-lists still the boundary.
 */
import { fileURLToPath } from "node:url";
import type { RunState } from "@freehold/api";
import { createApprovals, startRun } from "@freehold/handoff";
import type { LoopDriver } from "@freehold/runtime";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startScriptedWorld, type ScriptedWorld } from "../../../runtime/test/scripted-world.ts";
import { startRunServices, waitForStatus, type RunServices } from "../../../../test/fixtures/run-services.ts";
import { vercelAiDriver } from "../src/index.ts";
import { codeCalls } from "./native-agents/agents.ts";

const codeRoot = fileURLToPath(new URL("native-agents", import.meta.url));

let services: RunServices;
beforeAll(async () => {
  services = await startRunServices();
});
afterAll(() => services.stop());

const worlds: ScriptedWorld[] = [];
afterEach(async () => {
  for (const world of worlds.splice(0)) await world.close();
});

async function world(
  script: Parameters<typeof startScriptedWorld>[0]["script"],
  agents: Record<string, Record<string, unknown>>,
  drivers: readonly LoopDriver[] = [vercelAiDriver],
): Promise<ScriptedWorld> {
  const started = await startScriptedWorld({
    connection: services.connection,
    store: services.store,
    namespace: `n${Math.random().toString(36).slice(2, 10)}`,
    counterUrl: services.counter.url,
    script,
    agents: Object.fromEntries(
      Object.entries(agents).map(([name, spec]) => [name, { framework: "vercel-ai", ...spec }]),
    ),
    drivers,
    codeRoot,
  });
  worlds.push(started);
  return started;
}

const parts = () => ({ redis: services.connection, store: services.store, queues: services.queues });
const code = (name: string) => ({ code: { module: "agents.ts", export: name } });
const start = (namespace: string, input: string) => startRun(parts(), { namespace, agent: "front", input });

/** The names of the tools the model was offered in its `index`th call. */
function offered(target: ScriptedWorld, index = 0): string[] {
  const tools = (target.model.requests[index]?.tools ?? []) as { function: { name: string } }[];
  return tools.map((entry) => entry.function.name).sort();
}

function systemPrompt(target: ScriptedWorld): unknown {
  return target.model.requests[0]?.messages[0];
}

function toolResults(state: RunState): string[] {
  return state.messages.flatMap((message) => (message.role === "tool" ? [message.content] : []));
}

/** Runs a code tool called since `before` ran, in the worker's process. */
const callsSince = (before: number) => codeCalls.slice(before);

describe("vercel-ai native mode", () => {
  it("runs a ToolLoopAgent: its instructions are the system prompt, its tool durable, its own model (and its hooks' models) unused, its stopWhen not the run's end", async () => {
    const before = codeCalls.length;
    const target = await world(
      [
        { toolCalls: [{ name: "lookup_invoice", arguments: { invoice: "INV-1" } }] },
        { toolCalls: [{ name: "lookup_invoice", arguments: { invoice: "INV-2", currency: "USD" } }] },
        { text: "INV-1 is 42 EUR, INV-2 is 42 USD." },
      ],
      { front: { ...code("billing"), instructions: "The manifest's instructions." } },
    );
    const run = await start(target.namespace, "What do INV-1 and INV-2 cost?");
    const done = await waitForStatus(services.store, target.namespace, run.id, "completed");
    expect(done.output).toBe("INV-1 is 42 EUR, INV-2 is 42 USD.");
    expect(systemPrompt(target)).toEqual({ role: "system", content: "You are the code's billing agent." });
    expect(offered(target)).toEqual(["lookup_invoice"]);
    // The tool's own schema applied (its default currency), each call run once.
    expect(callsSince(before)).toEqual([
      { tool: "lookup_invoice", input: { invoice: "INV-1", currency: "EUR" } },
      { tool: "lookup_invoice", input: { invoice: "INV-2", currency: "USD" } },
    ]);
    expect(toolResults(done)).toEqual([
      JSON.stringify({ invoice: "INV-1", amount: 42, currency: "EUR" }),
      JSON.stringify({ invoice: "INV-2", amount: 42, currency: "USD" }),
    ]);
    // Durable tool calls of the code's server, each recorded before it ran.
    const events = (await services.store.readEvents(target.namespace, run.id)).map(({ event }) => event);
    const starts = events.flatMap((event) => (event.type === "tool-call-start" ? [event.server] : []));
    expect(starts).toEqual(["@code", "@code"]);
    // Three model calls, past the code's stepCountIs(1): the run's bounds are the manifest's limits.
    expect(target.model.requests).toHaveLength(3);
  });

  it("gives a factory Freehold's model and MCP tools: the MCP tools it leaves out are neither offered nor run", async () => {
    const callsBefore = services.counter.calls().length;
    const target = await world(
      [
        { toolCalls: [{ name: "add", arguments: { a: 1, b: 2 } }] },
        { toolCalls: [{ name: "echo", arguments: { text: "hi" } }] },
        { text: "3." },
      ],
      { front: { ...code("factory"), tools: [{ mcpServer: "counter", allow: ["add", "echo"] }] } },
    );
    const run = await start(target.namespace, "1 + 2, then echo.");
    const done = await waitForStatus(services.store, target.namespace, run.id, "completed");
    expect(done.output).toBe("3.");
    expect(systemPrompt(target)).toEqual({ role: "system", content: "You are the code's refund agent." });
    expect(offered(target)).toEqual(["add", "credit", "refund"]);
    expect(
      services.counter
        .calls()
        .slice(callsBefore)
        .map((call) => call.tool),
    ).toEqual(["add"]);
    const [added, echoed] = done.messages.filter((message) => message.role === "tool");
    expect(added).toMatchObject({ content: "3" });
    expect(echoed).toMatchObject({ isError: true });
  });

  it("keeps the manifest's allow-list: a tool the code is given is only what the manifest allows", async () => {
    const target = await world([{ text: "Nothing to do." }], {
      front: { ...code("factory"), tools: [{ mcpServer: "counter", allow: ["echo"] }] },
    });
    const run = await start(target.namespace, "Hello.");
    await waitForStatus(services.store, target.namespace, run.id, "completed");
    // The factory asked for `add`, which the manifest does not allow: it was never supplied.
    expect(offered(target)).toEqual(["credit", "refund"]);
  });

  it("makes needsApproval an approval item: true waits, and so does a function, for every call", async () => {
    const before = codeCalls.length;
    const target = await world(
      [
        { toolCalls: [{ name: "credit", arguments: { amount: 5 } }] },
        { toolCalls: [{ name: "refund", arguments: { invoice: "INV-7" } }] },
        { text: "Credited; the refund was refused." },
      ],
      { front: code("factory") },
    );
    const approvals = createApprovals(parts());
    const run = await start(target.namespace, "Credit 5, refund INV-7.");
    // The function would let 5 through; it cannot be asked before the call is durable: a person decides.
    await waitForStatus(services.store, target.namespace, run.id, "waiting_for_approval");
    expect(callsSince(before)).toEqual([]);
    const [credit] = await approvals.list(target.namespace);
    expect(credit).toMatchObject({ runId: run.id, tool: "credit", arguments: { amount: 5 } });
    if (credit === undefined) throw new Error("no approval item");
    await approvals.decide(target.namespace, credit.id, "ann", { approve: true });
    await expect.poll(async () => (await approvals.list(target.namespace)).length).toBe(1);
    const [refund] = await approvals.list(target.namespace);
    expect(refund).toMatchObject({ tool: "refund", arguments: { invoice: "INV-7" } });
    if (refund === undefined) throw new Error("no approval item");
    await approvals.decide(target.namespace, refund.id, "ann", { approve: false, reason: "Not today." });
    const done = await waitForStatus(services.store, target.namespace, run.id, "completed");
    expect(callsSince(before)).toEqual([{ tool: "credit", input: { amount: 5 } }]);
    expect(toolResults(done)[0]).toBe("credited 5");
    expect(toolResults(done)[1]).toContain("Not today.");
  });

  it("honours toolApproval of a settings object: user-approval waits, approved runs at once, denied is not offered", async () => {
    const before = codeCalls.length;
    const target = await world(
      [
        { toolCalls: [{ name: "credit", arguments: { amount: 500 } }] },
        { toolCalls: [{ name: "lookup_invoice", arguments: { invoice: "INV-3" } }] },
        { text: "Done." },
      ],
      { front: code("settings") },
    );
    const approvals = createApprovals(parts());
    const run = await start(target.namespace, "Credit 500, look up INV-3.");
    await waitForStatus(services.store, target.namespace, run.id, "waiting_for_approval");
    expect(systemPrompt(target)).toEqual({ role: "system", content: "You are the code's settings agent." });
    expect(offered(target)).toEqual(["credit", "lookup_invoice"]);
    expect(callsSince(before)).toEqual([{ tool: "credit", input: { amount: 500 } }]);
    const [item] = await approvals.list(target.namespace);
    expect(item).toMatchObject({ tool: "lookup_invoice" });
    if (item === undefined) throw new Error("no approval item");
    await approvals.decide(target.namespace, item.id, "ann", { approve: true });
    await waitForStatus(services.store, target.namespace, run.id, "completed");
    expect(callsSince(before)).toHaveLength(2);
  });

  it("applies the code's toolApproval to the MCP tools an instance or settings object is given", async () => {
    const target = await world([{ toolCalls: [{ name: "add", arguments: { a: 1, b: 1 } }] }], {
      front: { ...code("gatekeeper"), tools: [{ mcpServer: "counter", allow: ["add", "echo"] }] },
    });
    const run = await start(target.namespace, "1 + 1.");
    await waitForStatus(services.store, target.namespace, run.id, "waiting_for_approval");
    expect(offered(target)).toEqual(["add", "lookup_invoice"]);
    expect(await createApprovals(parts()).list(target.namespace)).toMatchObject([{ tool: "add" }]);
  });

  it("makes an approval function for every tool an approval item for every call of every tool", async () => {
    const target = await world(
      [
        {
          toolCalls: [
            { name: "lookup_invoice", arguments: { invoice: "INV-4" } },
            { name: "add", arguments: { a: 4, b: 4 } },
          ],
        },
      ],
      { front: { ...code("askEveryTime"), tools: [{ mcpServer: "counter", allow: ["add"] }] } },
    );
    const before = codeCalls.length;
    const run = await start(target.namespace, "INV-4?");
    await waitForStatus(services.store, target.namespace, run.id, "waiting_for_approval");
    expect(offered(target)).toEqual(["add", "lookup_invoice"]);
    const items = await createApprovals(parts()).list(target.namespace);
    expect(items.map((item) => item.tool).sort()).toEqual(["add", "lookup_invoice"]);
    expect(callsSince(before)).toEqual([]);
  });

  it("fails the run of a wrong export with adapter.vercel-ai.code-invalid, saying what was found", async () => {
    const cases = {
      notAnAgent: "is a string",
      returnsNothing: "a function that returned undefined",
      customAgent: "not a ToolLoopAgent",
      clientSide: "the tool confirm without execute",
    };
    const agentName = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
    const target = await world(
      [{ text: "Never." }],
      Object.fromEntries(Object.keys(cases).map((name) => [agentName(name), code(name)])),
    );
    for (const [name, found] of Object.entries(cases)) {
      const run = await startRun(parts(), {
        namespace: target.namespace,
        agent: agentName(name),
        input: "Hi.",
      });
      const failed = await waitForStatus(services.store, target.namespace, run.id, "failed");
      expect(failed.error?.code).toBe("adapter.vercel-ai.code-invalid");
      expect(failed.error?.message).toContain(found);
      expect(failed.error?.message).toContain("export a ToolLoopAgent");
    }
    expect(target.model.requests).toEqual([]);
  });

  it("resumes after a worker dies past a code tool's checkpointed result without running it again", async () => {
    const before = codeCalls.length;
    let died = false;
    // The worker dies (an error the job retries from the last checkpoint) right after the result
    // of the code's tool call was written.
    const dying: LoopDriver = {
      framework: "vercel-ai",
      runsCode: true,
      run: (state, options) =>
        vercelAiDriver.run(state, {
          ...options,
          async checkpoint(previous, next, events, extra) {
            const written = await options.checkpoint(previous, next, events, extra);
            if (!died && events.some((event) => event.type === "tool-call-end")) {
              died = true;
              throw new Error("the worker died");
            }
            return written;
          },
        }),
    };
    const target = await world(
      [
        { toolCalls: [{ name: "lookup_invoice", arguments: { invoice: "INV-9" } }] },
        { text: "INV-9 is 42 EUR." },
      ],
      { front: code("billing") },
      [dying],
    );
    const run = await start(target.namespace, "INV-9?");
    const done = await waitForStatus(services.store, target.namespace, run.id, "completed");
    expect(died).toBe(true);
    expect(done.output).toBe("INV-9 is 42 EUR.");
    expect(callsSince(before)).toEqual([
      { tool: "lookup_invoice", input: { invoice: "INV-9", currency: "EUR" } },
    ]);
    expect(target.model.requests).toHaveLength(2);
  });
});
