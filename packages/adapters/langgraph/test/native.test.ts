/**
 * Native mode on real parts (Redis, the scripted model server over HTTP, the counter MCP server, a
 * runtime worker loading the agents' code from test/native): LangGraph's own concepts mapped onto
 * Freehold's durable ones. The conformance table (test/conformance, column `langgraph-native`) holds
 * the same driver to every scenario, including worker processes killed mid-run.
 */
import { fileURLToPath } from "node:url";
import type { ModelScriptInput } from "@freehold/models";
import { createInbox, runKey, startRun, type RedisClient, type RunStore } from "@freehold/handoff";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startScriptedWorld, type ScriptedWorld } from "../../../runtime/test/scripted-world.ts";
import { startRunServices, waitForStatus, type RunServices } from "../../../../test/fixtures/run-services.ts";
import { createRunCheckpointer, langGraphDriver } from "../src/index.ts";
import { probe } from "./native/graphs.ts";

const codeRoot = fileURLToPath(new URL("native", import.meta.url));
let services: RunServices;
let connection: RedisClient;
let store: RunStore;
const worlds: ScriptedWorld[] = [];

beforeAll(async () => {
  services = await startRunServices();
  ({ connection, store } = services);
});
afterEach(async () => {
  delete probe.onGate;
  for (const world of worlds.splice(0)) await world.close();
});
afterAll(() => services.stop());

/** A worker of native agent `front` (its code: export `name` of test/native/graphs.ts). */
async function world(
  script: ModelScriptInput,
  name: string,
  spec: Record<string, unknown> = {},
  namespace = `n${Math.random().toString(36).slice(2, 10)}`,
  humanQueues: Record<string, Record<string, unknown>> = {},
): Promise<ScriptedWorld> {
  const started = await startScriptedWorld({
    connection,
    store,
    namespace,
    counterUrl: services.counter.url,
    script,
    agents: {
      front: {
        framework: "langgraph",
        code: { module: "graphs.ts", export: name },
        tools: [{ mcpServer: "counter", allow: ["add"] }],
        ...spec,
      },
    },
    humanQueues,
    drivers: [langGraphDriver],
    codeRoot,
  });
  worlds.push(started);
  return started;
}

const parts = () => ({ redis: connection, store, queues: services.queues });
const calls = (tool: string, since: number) =>
  services.counter
    .calls()
    .slice(since)
    .filter((call) => call.tool === tool);

describe("langgraph native mode", () => {
  it("runs a compiled graph on the run's checkpointer: MCP and ToolNode tools durable, checkpoints beside the run", async () => {
    const since = services.counter.calls().length;
    const multiplied = probe.multiply;
    const { namespace, model } = await world(
      [
        {
          toolCalls: [
            { name: "add", arguments: { a: 1, b: 2 } },
            { name: "multiply", arguments: { a: 2, b: 3 } },
          ],
        },
        { match: { anyMessageContains: "6" }, text: "3 and 6." },
      ],
      "compiled",
    );
    const run = await startRun(parts(), { namespace, agent: "front", input: "1+2 and 2*3?" });
    const done = await waitForStatus(store, namespace, run.id, "completed");
    expect(done.output).toBe("3 and 6.");
    expect(calls("add", since)).toHaveLength(1);
    expect(probe.multiply - multiplied).toBe(1);
    // The code's own tool ran as a durable call of server @code, recorded like an MCP call.
    const events = (await store.readEvents(namespace, run.id)).map(({ event }) => event);
    expect(events.filter((event) => event.type === "tool-call-start")).toEqual([
      expect.objectContaining({ server: "counter" }),
      expect.objectContaining({ server: "@code" }),
    ]);
    // The model got the graph's messages (the agent's instructions first) and both results.
    expect(model.requests).toHaveLength(2);
    expect(JSON.stringify(model.requests[1]?.messages)).toContain('"content":"6"');
    // The graph's checkpoints are Freehold's: in the run's hash tag (its Redis Cluster slot), not in
    // the MemorySaver it was compiled with, and expiring with the finished run.
    const key = `${runKey(namespace, run.id)}:langgraph`;
    expect(key.match(/\{[^}]+\}/)?.[0]).toBe(runKey(namespace, run.id).match(/\{[^}]+\}/)?.[0]);
    const fields = await connection.hkeys(key);
    expect(fields.filter((field) => field.startsWith("c|")).length).toBeGreaterThanOrEqual(4);
    // Set once the driver returns, just after the run's last checkpoint.
    await expect.poll(() => connection.ttl(key)).toBeGreaterThan(0);
  });

  it("runs a graph exported as it is, for run after run: tools its own code calls are plain code", async () => {
    const multiplied = probe.multiply;
    const { namespace, model } = await world([{ text: "unused" }], "plain");
    for (const input of ["first", "second"]) {
      const run = await startRun(parts(), { namespace, agent: "front", input });
      // No model answer ended it: the graph's last message is the output.
      expect((await waitForStatus(store, namespace, run.id, "completed")).output).toBe("42");
    }
    expect(probe.multiply - multiplied).toBe(2);
    expect(model.requests).toEqual([]);
  });

  it("keeps the allow-list: a tool the manifest does not allow is refused and never sent", async () => {
    const since = services.counter.calls().length;
    const { namespace } = await world(
      [{ toolCalls: [{ name: "echo", arguments: { text: "hi" } }] }, { text: "I may not." }],
      "compiled",
    );
    const run = await startRun(parts(), { namespace, agent: "front", input: "Echo hi." });
    expect((await waitForStatus(store, namespace, run.id, "completed")).output).toBe("I may not.");
    expect(calls("echo", since)).toEqual([]);
  });

  it("resumes from the last super-step in a new driver run: no tool call and no model call repeated", async () => {
    const since = services.counter.calls().length;
    const gates = probe.gate;
    const namespace = `n${Math.random().toString(36).slice(2, 10)}`;
    // The script answers by the conversation's answer count: each worker's model server has it whole.
    const script: ModelScriptInput = [
      {
        toolCalls: [
          { name: "add", arguments: { a: 1, b: 2 } },
          { name: "gate", arguments: {} },
        ],
      },
      { text: "Added and opened." },
    ];
    const first = await world(script, "compiled", {}, namespace);
    // The worker stops while the tools node runs: the graph ends at the super-step's boundary.
    let closing: Promise<void> | undefined;
    probe.onGate = () => {
      closing = first.worker.close();
    };
    const run = await startRun(parts(), { namespace, agent: "front", input: "Add, then open." });
    await expect.poll(() => closing !== undefined, { timeout: 20_000 }).toBe(true);
    await closing;
    const stopped = await store.require(namespace, run.id);
    expect(stopped.status).not.toBe("completed");
    const checkpointer = createRunCheckpointer({
      redis: connection,
      namespace,
      runId: run.id,
      steps: () => 0,
    });
    const thread = { configurable: { thread_id: run.id } };
    // The last super-step written: the tools node's, both results in the graph's messages.
    const latest = await checkpointer.getTuple(thread);
    expect(latest?.metadata?.source).toBe("loop");
    expect((latest?.checkpoint.channel_values.messages as unknown[]).length).toBe(4);
    const second = await world(script, "compiled", {}, namespace);
    const done = await waitForStatus(store, namespace, run.id, "completed");
    expect(done.output).toBe("Added and opened.");
    expect(calls("add", since)).toHaveLength(1);
    expect(probe.gate - gates).toBe(1);
    // One model call in each driver run: the first answer was not asked for again.
    expect(first.model.requests).toHaveLength(1);
    expect(second.model.requests).toHaveLength(1);
    expect(JSON.stringify(second.model.requests[0]?.messages)).toContain('"content":"3"');
    // The graph went on from that checkpoint: one input in the thread's history, not a new start.
    const history = [];
    for await (const tuple of checkpointer.list(thread)) history.push(tuple);
    expect(history.filter((tuple) => tuple.metadata?.source === "input")).toHaveLength(1);
    const parents = history.map((tuple): unknown => tuple.parentConfig?.configurable?.checkpoint_id);
    expect(parents).toContain(latest?.config.configurable?.checkpoint_id);
  });

  it("gives a model answer recorded inside a node that did not finish again, without a new model call", async () => {
    const since = services.counter.calls().length;
    const namespace = `n${Math.random().toString(36).slice(2, 10)}`;
    const script: ModelScriptInput = [
      { toolCalls: [{ name: "add", arguments: { a: 2, b: 2 } }] },
      { match: { anyMessageContains: "4" }, text: "It is 4." },
    ];
    const first = await world(script, "stopsInModel", {}, namespace);
    let closing: Promise<void> | undefined;
    probe.stopAfterAnswer = true;
    probe.onGate = () => {
      closing = first.worker.close();
    };
    const run = await startRun(parts(), { namespace, agent: "front", input: "2+2?" });
    await expect.poll(() => closing !== undefined, { timeout: 20_000 }).toBe(true);
    await closing;
    // The run has the answer; the graph's last checkpoint is from before the node.
    expect((await store.require(namespace, run.id)).steps).toBe(1);
    const second = await world(script, "stopsInModel", {}, namespace);
    expect((await waitForStatus(store, namespace, run.id, "completed")).output).toBe("It is 4.");
    expect(first.model.requests).toHaveLength(1);
    expect(second.model.requests).toHaveLength(1);
    expect(calls("add", since)).toHaveLength(1);
  });

  it("turns interrupt() into an inbox item; the person's hand-back resumes the graph", async () => {
    const { namespace, model } = await world(
      [{ match: { anyMessageContains: "Yes, refund 30." }, text: "Refunded 30." }],
      "asks",
      { handoffs: [{ humanQueue: "desk" }] },
      undefined,
      { desk: { description: "People who decide refunds." } },
    );
    const run = await startRun(parts(), { namespace, agent: "front", input: "Refund my 30." });
    await waitForStatus(store, namespace, run.id, "waiting_for_human");
    const inbox = createInbox(parts());
    const [item] = await inbox.list(namespace, "desk");
    expect(item).toMatchObject({ runId: run.id, summary: "May I refund 30?" });
    if (item === undefined) throw new Error("no inbox item");
    expect(model.requests).toHaveLength(0);
    await inbox.claim(namespace, item.id, "ann");
    await inbox.handBack(namespace, item.id, "ann", { note: "Yes, refund 30." });
    const done = await waitForStatus(store, namespace, run.id, "completed");
    expect(done.output).toBe("Refunded 30.");
    // The graph went on after the interrupt with the answer (`Command({ resume })`), not from the start.
    expect(model.requests).toHaveLength(1);
    expect(JSON.stringify(model.requests[0]?.messages)).toContain(
      "The desk said: A person (ann) handed the conversation back: Yes, refund 30.",
    );
  });

  it("fails the run when interrupt() has no human queue in spec.handoffs", async () => {
    const { namespace } = await world([{ text: "unused" }], "asks");
    const run = await startRun(parts(), { namespace, agent: "front", input: "Refund my 30." });
    const failed = await waitForStatus(store, namespace, run.id, "failed");
    expect(failed.error?.code).toBe("adapter.langgraph.interrupt-no-queue");
    expect(failed.error?.message).toContain("add { humanQueue: <queue> } to spec.handoffs");
  });

  it("refuses an export that is not a graph, and the run fails with that error", async () => {
    const { namespace } = await world([{ text: "unused" }], "notAGraph");
    const run = await startRun(parts(), { namespace, agent: "front", input: "Hello." });
    const failed = await waitForStatus(store, namespace, run.id, "failed");
    expect(failed.error).toMatchObject({ code: "adapter.langgraph.code-invalid" });
    expect(failed.error?.message).toContain("is an object; export a compiled LangGraph graph");
  });
});
