/**
 * The worker end to end on real parts: Redis (redis-server), the scripted OpenAI-compatible model
 * server over HTTP, and the counter MCP server over streamable HTTP.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FreeholdError, type RunEvent, type RunState } from "@freehold/api";
import {
  createAgentQueues,
  createRunStore,
  newRun,
  startRedisServer,
  startRun,
  type RedisServer,
  type RunStore,
} from "@freehold/handoff";
import { startScriptedModelServer, type ModelScriptInput, type ScriptedModelServer } from "@freehold/models";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { readLedger } from "../../../test/fixtures/mcp/ledger.ts";
import { startCounterServer, type CounterServer } from "../../../test/fixtures/mcp/counter-server.ts";
import { scriptedConfig } from "../../../test/fixtures/scripted-config.ts";
import { countToolCalls } from "../../../test/integration/tool-call-accounting.ts";
import {
  createRuntime,
  createRuntimeWorker,
  runLoop,
  withCodeTools,
  type LoopDriver,
  type ResolvedAgent,
  type Runtime,
  type RuntimeWorker,
} from "../src/index.ts";

let redis: RedisServer;
let connection: Redis;
let store: RunStore;
let counter: CounterServer;
let ledger: string;
const exporter = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer(
  "test",
);

beforeAll(async () => {
  redis = await startRedisServer();
  connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  store = createRunStore(connection);
  ledger = join(mkdtempSync(join(tmpdir(), "freehold-ledger-")), "ledger.jsonl");
  counter = await startCounterServer({ transport: "http", ledger });
});

afterAll(async () => {
  await counter.close();
  connection.disconnect();
  await redis.stop();
});

interface Harness {
  readonly model: ScriptedModelServer;
  readonly runtime: Runtime;
  readonly worker: RuntimeWorker;
  readonly run: (input: string) => Promise<{ state: RunState; events: RunEvent[] }>;
}
const harnesses: Harness[] = [];

afterEach(async () => {
  for (const harness of harnesses.splice(0)) {
    await harness.worker.close();
    await harness.runtime.close();
    await harness.model.close();
  }
});

/** A namespace of its own per test, one agent, the counter server, a scripted model. */
async function harness(
  script: ModelScriptInput,
  agentSpec: Record<string, unknown> = {},
  modelSpec: Record<string, unknown> = {},
  drivers: readonly LoopDriver[] = [],
): Promise<Harness> {
  const namespace = `t${Math.random().toString(36).slice(2, 10)}`;
  const model = await startScriptedModelServer({ script });
  const config = scriptedConfig({
    namespace,
    modelBaseUrl: model.baseUrl,
    model: { maxRetries: 0, ...modelSpec },
    agents: {
      calculator: {
        instructions: "You add numbers with the add tool.",
        tools: [{ mcpServer: "counter", allow: ["add", "record", "fail", "echo"] }],
        ...agentSpec,
      },
    },
    mcpServers: { counter: counter.url },
  });
  const runtime = await createRuntime(config, {
    resolveSecret: () => Promise.reject(new Error("no secrets here")),
  });
  const worker = createRuntimeWorker({ connection, store, agents: runtime.agents, tracer, drivers });
  await worker.ready();
  const queues = createAgentQueues(connection);
  const created: Harness = {
    model,
    runtime,
    worker,
    run: async (input) => {
      const run = await startRun(
        { redis: connection, store, queues },
        { namespace, agent: "calculator", input },
      );
      const events: RunEvent[] = [];
      for await (const { event } of store.followEvents(namespace, run.id)) events.push(event);
      return { state: await store.require(namespace, run.id), events };
    },
  };
  harnesses.push(created);
  return created;
}

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A driver of the built-in loop whose writes take 30 ms, recording in `timeline` how many writes
 * each model and tool call found in flight, and in `stored` each write once stored (its revision,
 * then the role of the run's last message), and in `peak.writes` the most writes ever in flight at
 * once. `withNotices: false`: the loop is not given the worker's cancel notices.
 */
function slowWrites(
  timeline: string[],
  {
    stored = [],
    withNotices = true,
    peak = { writes: 0 },
  }: { readonly stored?: string[]; readonly withNotices?: boolean; readonly peak?: { writes: number } } = {},
): LoopDriver {
  let inFlight = 0;
  return {
    framework: "mastra",
    run: (state, { cancelNotices, ...options }) => {
      const { agent } = options;
      const watched: ResolvedAgent = {
        ...agent,
        model: {
          ...agent.model,
          generate: (request) => {
            timeline.push(`model (writes in flight: ${inFlight})`);
            return agent.model.generate(request);
          },
        },
        broker: {
          listTools: () => agent.broker.listTools(),
          callTool: (server, name, args, callOptions) => {
            timeline.push(`tool ${name} (writes in flight: ${inFlight})`);
            return agent.broker.callTool(server, name, args, callOptions);
          },
        },
      };
      return runLoop(state, {
        ...options,
        ...(withNotices && cancelNotices !== undefined ? { cancelNotices } : {}),
        agent: watched,
        checkpoint: async (previous, next, events, extra) => {
          inFlight += 1;
          peak.writes = Math.max(peak.writes, inFlight);
          await settle(30);
          try {
            const written = await options.checkpoint(previous, next, events, extra);
            stored.push(`${written.revision}: ${next.messages.at(-1)?.role ?? "none"}`);
            return written;
          } finally {
            inFlight -= 1;
          }
        },
      });
    },
  };
}

/** A model's answer that makes tool calls. */
const makesCalls = (message: RunState["messages"][number] | undefined): boolean =>
  message?.role === "assistant" && message.toolCalls !== undefined;

/**
 * A driver of the built-in loop (the worker's cancel notices live) whose writes of a run whose last
 * message `refuses` are refused with `test.refused`, `afterMs` later (as Redis answers); the role of
 * the last message of every other write goes to `written`.
 */
function refusingWrites(
  refuses: (last: RunState["messages"][number] | undefined) => boolean,
  afterMs: number,
  written: string[],
): LoopDriver {
  return {
    framework: "mastra",
    run: (state, options) =>
      runLoop(state, {
        ...options,
        checkpoint: async (previous, next, events, extra) => {
          const last = next.messages.at(-1);
          if (refuses(last)) {
            if (afterMs > 0) await settle(afterMs);
            throw new FreeholdError("test.refused", "the write refused");
          }
          written.push(last?.role ?? "none");
          return options.checkpoint(previous, next, events, extra);
        },
      }),
  };
}

describe("the runtime worker", () => {
  it("drives an agent with the driver of its spec.framework", async () => {
    const driven: string[] = [];
    const driver: LoopDriver = {
      framework: "mastra",
      run: (state, options) => {
        driven.push(state.id);
        return runLoop(state, options);
      },
    };
    const { run } = await harness([{ text: "Driven." }], { framework: "mastra" }, {}, [driver]);
    const { state } = await run("Hello?");
    expect(state).toMatchObject({ status: "completed", output: "Driven." });
    expect(driven).toEqual([state.id]);
  });

  it("fails the runs of an agent whose framework no driver of this worker drives, saying what to do", async () => {
    const { run, model } = await harness([{ text: "never" }], { framework: "langgraph" });
    const { state } = await run("Hello?");
    expect(state.status).toBe("failed");
    expect(state.error?.code).toBe("runtime.framework-unavailable");
    expect(state.error?.message).toContain("framework langgraph");
    expect(state.error?.message).toContain("install the framework's adapter");
    expect(model.requests).toHaveLength(0);
  });

  it("fails the runs of framework code (spec.code) on a driver that cannot run code, saying what to do", async () => {
    const driver: LoopDriver = { framework: "mastra", run: (state, options) => runLoop(state, options) };
    const { run, model } = await harness(
      [{ text: "never" }],
      { framework: "mastra", code: { module: "agent.ts", export: "default" } },
      {},
      [driver],
    );
    const { state } = await run("Hello?");
    expect(state.status).toBe("failed");
    expect(state.error?.code).toBe("runtime.native-unsupported");
    expect(state.error?.message).toContain("remove spec.code");
    expect(model.requests).toHaveLength(0);
  });

  it("runs the tools of an agent's own code as durable tool calls beside its MCP tools", async () => {
    const calls: Record<string, unknown>[] = [];
    const driver: LoopDriver = {
      framework: "mastra",
      runsCode: true,
      run: (state, options) =>
        runLoop(state, {
          ...options,
          agent: withCodeTools(options.agent, [
            {
              name: "lookup",
              description: "Looks an invoice up.",
              inputSchema: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
              execute: (args) => {
                calls.push(args);
                return Promise.resolve({ id: args["id"], amount: 42 });
              },
            },
            {
              name: "explode",
              inputSchema: { type: "object" },
              execute: () => Promise.reject(new Error("the ledger is locked")),
            },
          ]),
        }),
    };
    const { run, model } = await harness(
      [
        {
          toolCalls: [
            { name: "lookup", arguments: { id: "INV-7" } },
            { name: "add", arguments: { a: 1, b: 2 } },
            { name: "explode", arguments: {} },
          ],
        },
        { text: "INV-7 is 42.", match: { role: "tool" } },
      ],
      { framework: "mastra" },
      {},
      [driver],
    );
    const { state, events } = await run("How much is INV-7?");
    expect(state).toMatchObject({ status: "completed", output: "INV-7 is 42." });
    expect(calls).toEqual([{ id: "INV-7" }]);
    expect(state.messages.filter((message) => message.role === "tool")).toEqual([
      expect.objectContaining({ name: "lookup", content: '{"id":"INV-7","amount":42}' }),
      expect.objectContaining({ name: "add", content: "3" }),
      expect.objectContaining({ name: "explode", content: "the ledger is locked" }),
    ]);
    expect(events.filter((event) => event.type === "tool-call-start")).toHaveLength(3);
    const offered = (model.requests[0] as unknown as { tools: { function: { name: string } }[] }).tools;
    expect(offered.map((tool) => tool.function.name)).toEqual(
      expect.arrayContaining(["lookup", "explode", "add"]),
    );
  });

  it("refuses two tools of one name in an agent's code", () => {
    const tool = { name: "lookup", inputSchema: { type: "object" }, execute: () => Promise.resolve("") };
    expect(() => withCodeTools({ name: "billing" } as ResolvedAgent, [tool, tool])).toThrow(
      expect.objectContaining({ code: "agent.code-tools-invalid" }),
    );
  });

  it("loops model → tools → model until the answer, checkpointing and tracing every step", async () => {
    exporter.reset();
    const { run, model } = await harness([
      {
        toolCalls: [
          { name: "add", arguments: { a: 2, b: 3 } },
          { name: "record", arguments: { value: "sum" } },
        ],
      },
      { text: "2 + 3 = 5", match: { role: "tool" } },
    ]);
    const { state, events } = await run("What is 2 + 3?");

    expect(state).toMatchObject({ status: "completed", output: "2 + 3 = 5", steps: 2, pendingToolCalls: [] });
    expect(events.map((event) => event.type)).toEqual([
      "run-start",
      "model-call-end",
      "tool-call-start",
      "tool-call-start",
      "tool-call-end",
      "tool-call-end",
      "model-call-end",
      "run-end",
    ]);
    const results = state.messages.filter((message) => message.role === "tool");
    expect(results).toEqual([
      expect.objectContaining({ name: "add", content: "5" }),
      expect.objectContaining({ name: "record" }),
    ]);
    // The model saw the instructions and the tool results, and the tools' schemas unchanged.
    const second = model.requests.at(-1) as unknown as {
      messages: { role: string; content: unknown }[];
      tools: { function: { name: string } }[];
    };
    expect(second.messages[0]).toMatchObject({
      role: "system",
      content: "You add numbers with the add tool.",
    });
    expect(second.tools.map((tool) => tool.function.name).sort()).toEqual(["add", "echo", "fail", "record"]);
    // The idempotency key reached the MCP server.
    expect(readLedger(ledger).some((entry) => entry.idempotencyKey === `${state.id}-1-1`)).toBe(true);
    // GenAI spans: one agent span, two chat spans, two tool spans (the agent span ends just after run-end).
    await vi.waitFor(() => {
      expect(exporter.getFinishedSpans()).toHaveLength(5);
    });
    const spans = exporter
      .getFinishedSpans()
      .map((span) => span.name)
      .sort();
    expect(spans).toEqual([
      "chat scripted-model",
      "chat scripted-model",
      "execute_tool add",
      "execute_tool record",
      "invoke_agent calculator",
    ]);
    const chat = exporter.getFinishedSpans().find((span) => span.name.startsWith("chat"));
    expect(chat?.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.request.model": "scripted-model",
    });
    expect(chat?.attributes["gen_ai.usage.input_tokens"]).toBeGreaterThan(0);
  });

  it("without cancel notices, asks the model and calls tools only once every write before them is stored", async () => {
    const timeline: string[] = [];
    // Slow writes: a step that did not wait for one would be seen in the timeline.
    const driver = slowWrites(timeline, { withNotices: false });
    const { run } = await harness(
      [
        { toolCalls: [{ name: "add", arguments: { a: 1, b: 1 } }] },
        { toolCalls: [{ name: "add", arguments: { a: 2, b: 2 } }], match: { role: "tool" } },
        { text: "done", match: { role: "tool" } },
      ],
      { framework: "mastra" },
      {},
      [driver],
    );
    const { state } = await run("Add twice.");
    expect(state).toMatchObject({ status: "completed", output: "done", steps: 3 });
    expect(
      state.messages.filter((message) => message.role === "tool").map((message) => message.content),
    ).toEqual(["2", "4"]);
    // Slow writes, and yet no step began before the write of the one before it was stored.
    expect(timeline).toEqual([
      "model (writes in flight: 0)",
      "tool add (writes in flight: 0)",
      "model (writes in flight: 0)",
      "tool add (writes in flight: 0)",
      "model (writes in flight: 0)",
    ]);
  });

  it("asks the model again while a tool result's write is in flight (onInterrupt: fail), and writes its answer after it", async () => {
    const script: ModelScriptInput = [
      { toolCalls: [{ name: "echo", arguments: { text: "one" } }] },
      { toolCalls: [{ name: "echo", arguments: { text: "two" } }], match: { role: "tool" } },
      { text: "done", match: { role: "tool" } },
    ];

    // With cancel notices: the model call goes out while the result's write is in flight.
    const timeline: string[] = [];
    const stored: string[] = [];
    const ahead = await harness(script, { framework: "mastra" }, {}, [slowWrites(timeline, { stored })]);
    const { state } = await ahead.run("Echo twice.");
    expect(state).toMatchObject({ status: "completed", output: "done", steps: 3 });
    expect(
      state.messages.filter((message) => message.role === "tool").map((message) => message.content),
    ).toEqual(["one", "two"]);
    expect(timeline).toEqual([
      "model (writes in flight: 0)",
      "tool echo (writes in flight: 0)",
      "model (writes in flight: 1)",
      "tool echo (writes in flight: 0)",
      "model (writes in flight: 1)",
    ]);
    // Every write in order, the result before the answer that follows it; each call marked as
    // started (with the answer that makes it) before it left.
    expect(stored.map((line) => line.split(": ")[1])).toEqual([
      "assistant",
      "tool",
      "assistant",
      "tool",
      "assistant",
    ]);
    expect(stored.map((line) => Number(line.split(": ")[0]))).toEqual([1, 2, 3, 4, 5]);

    // Without them: the result is stored before the model is asked again.
    const waited: string[] = [];
    const waiting = await harness(script, { framework: "mastra" }, {}, [
      slowWrites(waited, { withNotices: false }),
    ]);
    expect((await waiting.run("Echo twice.")).state.status).toBe("completed");
    expect(waited.filter((line) => line.startsWith("model"))).toEqual([
      "model (writes in flight: 0)",
      "model (writes in flight: 0)",
      "model (writes in flight: 0)",
    ]);
  });

  it("sends a read-only tool's call (onInterrupt: retry) while the answer that makes it is being written, one write in flight at a time, every write stored in order", async () => {
    const script: ModelScriptInput = [
      { toolCalls: [{ name: "add", arguments: { a: 1, b: 1 } }] },
      { toolCalls: [{ name: "add", arguments: { a: 2, b: 2 } }], match: { role: "tool" } },
      { text: "done", match: { role: "tool" } },
    ];
    const timeline: string[] = [];
    const stored: string[] = [];
    const peak = { writes: 0 };
    const { run } = await harness(script, { framework: "mastra" }, {}, [
      slowWrites(timeline, { stored, peak }),
    ]);
    const { state } = await run("Add twice.");
    expect(state).toMatchObject({ status: "completed", output: "done", steps: 3 });
    expect(
      state.messages.filter((message) => message.role === "tool").map((message) => message.content),
    ).toEqual(["2", "4"]);
    // Each call left with its answer's write (calls marked started) in flight, never more than it.
    expect(timeline.filter((line) => line.startsWith("tool"))).toEqual([
      "tool add (writes in flight: 1)",
      "tool add (writes in flight: 1)",
    ]);
    expect(peak.writes).toBe(1);
    // One write per step, in order: each answer with the calls it makes and the results before it.
    expect(stored).toEqual(["1: assistant", "2: assistant", "3: assistant"]);
    const calls = state.messages.filter((message) => message.role === "assistant" && message.toolCalls);
    expect(calls).toHaveLength(2);
  });

  it.each([
    {
      tool: "record",
      args: { value: "kept" },
      spec: {},
      why: "idempotent, not read-only: a call the run never recorded would have changed something",
    },
    {
      tool: "add",
      args: { a: 1, b: 2 },
      spec: { tools: [{ mcpServer: "counter", allow: ["add"], onInterrupt: { tools: { add: "fail" } } }] },
      why: "read-only, but the agent sets its policy to fail",
    },
  ])("waits for the answer's write before sending a call of $tool ($why)", async ({ tool, args, spec }) => {
    const timeline: string[] = [];
    const { run } = await harness(
      [{ toolCalls: [{ name: tool, arguments: args }] }, { text: "done", match: { role: "tool" } }],
      { framework: "mastra", ...spec },
      {},
      [slowWrites(timeline)],
    );
    const { state } = await run("Once.");
    expect(state).toMatchObject({ status: "completed", output: "done" });
    expect(timeline.filter((line) => line.startsWith("tool"))).toEqual([
      `tool ${tool} (writes in flight: 0)`,
    ]);
  });

  it("fails the run when the write of an answer whose read-only call has left is refused: the call reached the server once, nothing after it written", async () => {
    const a = Math.floor(Math.random() * 1e9);
    const written: string[] = [];
    // Refused as Redis answers: the read-only call has left meanwhile.
    const driver = refusingWrites(makesCalls, 50, written);
    const { run, model } = await harness(
      [
        { toolCalls: [{ name: "add", arguments: { a, b: 1 } }] },
        { toolCalls: [{ name: "add", arguments: { a, b: 2 } }], match: { role: "tool" } },
        { text: "done", match: { role: "tool" } },
      ],
      { framework: "mastra" },
      {},
      [driver],
    );
    const { state } = await run("Add.");
    expect(state.status).toBe("failed");
    expect(state.error?.code).toBe("test.refused");
    // The call went out once, while its answer was being written; no later call did, and the run
    // holds nothing of the refused answer (the model's second answer, if asked, was dropped).
    expect(counter.calls().filter((call) => call.tool === "add" && call.arguments.a === a)).toHaveLength(1);
    expect(model.requests.length).toBeLessThanOrEqual(2);
    expect(written).toEqual([]);
    expect(state.messages.map((message) => message.role)).toEqual(["user"]);
  });

  it("leaves a read-only call unrecorded when its worker stops before the answer that makes it is stored: the resumed run asks the model again and sends it once more, under the same key", async () => {
    const a = Math.floor(Math.random() * 1e9);
    const { runtime, model } = await harness(
      [{ toolCalls: [{ name: "add", arguments: { a, b: 1 } }] }, { text: "done", match: { role: "tool" } }],
      { framework: "mastra" },
    );
    const agent = runtime.agent("calculator");
    const run = newRun({
      id: randomUUID(),
      namespace: runtime.namespace,
      agent: "calculator",
      input: "Add.",
    });
    await store.create(run, []);
    // Cancels reach both loops as the worker's notices would (none comes): read-only calls go ahead.
    const cancelNotices = { live: () => true, cancelled: () => false };
    const arrivals = () => counter.calls().filter((call) => call.tool === "add" && call.arguments.a === a);
    // The first worker stops for good while the answer's write is in flight: it never lands.
    void runLoop(run, {
      agent,
      cancelNotices,
      checkpoint: (previous, next, events, extra) =>
        makesCalls(next.messages.at(-1))
          ? new Promise<never>(() => undefined)
          : store.checkpoint(previous, next, events, extra),
    });
    await vi.waitFor(() => {
      expect(arrivals()).toHaveLength(1);
    });
    const stored = await store.require(runtime.namespace, run.id);
    expect(stored.messages.map((message) => message.role)).toEqual(["user"]);

    // Another worker resumes the run as stored: the model is asked again, and the call it makes
    // reaches the server a second time, under the same idempotency key. (The stopped loop may have
    // asked the model once more meanwhile: nothing of it is stored either.)
    const askedBefore = model.requests.length;
    const resumed = await runLoop(stored, {
      agent,
      cancelNotices,
      checkpoint: (previous, next, events, extra) => store.checkpoint(previous, next, events, extra),
    });
    expect(resumed.state).toMatchObject({ status: "completed", output: "done" });
    expect(model.requests.length - askedBefore).toBe(2);
    expect(arrivals()).toHaveLength(2);
    expect(new Set(arrivals().map((call) => call.idempotencyKey)).size).toBe(1);
    const history = resumed.state.messages.filter((message) => message.role === "tool");
    expect(history.map((message) => message.content)).toEqual([String(a + 1)]);

    // The crash suites' accounting counts it apart for a read-only tool, and flags it for any other.
    const counted = { store, namespace: runtime.namespace, runIds: [run.id], counter, tools: ["add"] };
    const lenient = await countToolCalls({ ...counted, readOnly: ["add"] });
    expect([lenient.problems, lenient.unrecorded]).toEqual([[], 1]);
    const strict = await countToolCalls(counted);
    expect(strict.problems.join("\n")).toContain(
      "(add) reached the server before the answer that makes it was stored",
    );
  });

  it.each([
    { refusedAfterMs: 50, modelCalls: 2, when: "as Redis answers: the model call has gone out meanwhile" },
    { refusedAfterMs: 0, modelCalls: 1, when: "at once: the loop knows before its next step" },
  ])(
    "fails the run at a tool result whose write is refused while the loop goes on ($when): nothing after it written or sent",
    async ({ refusedAfterMs, modelCalls }) => {
      const text = `refused ${Math.random().toString(36).slice(2)}`;
      const written: string[] = [];
      // The worker's cancel notices are live: the model call does not wait for the result's write.
      const driver = refusingWrites((last) => last?.role === "tool", refusedAfterMs, written);
      const { run, model } = await harness(
        [
          { toolCalls: [{ name: "echo", arguments: { text } }] },
          { toolCalls: [{ name: "echo", arguments: { text } }], match: { role: "tool" } },
          { text: "done", match: { role: "tool" } },
        ],
        { framework: "mastra" },
        {},
        [driver],
      );
      const { state } = await run("Echo.");
      expect(state.status).toBe("failed");
      expect(state.error?.code).toBe("test.refused");
      // A model call may have gone out (the cost of not waiting), but nothing after the refused write
      // was written or sent: the run holds the model's first answer, and the call (stored as started,
      // its result refused) reached the server once.
      expect(model.requests).toHaveLength(modelCalls);
      expect(written).toEqual(["assistant"]);
      expect(state.output).toBeUndefined();
      expect(state.messages.map((message) => message.role)).toEqual(["user", "assistant"]);
      expect(
        counter.calls().filter((call) => call.tool === "echo" && call.arguments.text === text),
      ).toHaveLength(1);
    },
  );

  it("writes a result of a call that may run again (onInterrupt: retry) with the model's next answer: one write per step", async () => {
    const writes = { loop: 0 };
    const driver: LoopDriver = {
      framework: "mastra",
      run: (state, options) =>
        runLoop(state, {
          ...options,
          checkpoint: (previous, next, events, extra) => {
            writes.loop += 1;
            return options.checkpoint(previous, next, events, extra);
          },
        }),
    };
    const threeCalls = (tool: string, args: (index: number) => Record<string, unknown>): ModelScriptInput => [
      { toolCalls: [{ name: tool, arguments: args(0) }] },
      { toolCalls: [{ name: tool, arguments: args(1) }], match: { role: "tool" } },
      { toolCalls: [{ name: tool, arguments: args(2) }], match: { role: "tool" } },
      { text: "done", match: { role: "tool" } },
    ];
    // `add` is read-only (its policy: retry): its result goes with the next model answer's write.
    const adder = await harness(
      threeCalls("add", (index) => ({ a: index, b: 1 })),
      { framework: "mastra" },
      {},
      [driver],
    );
    const added = await adder.run("Add three times.");
    expect(added.state).toMatchObject({ status: "completed", output: "done", steps: 4 });
    expect(
      added.state.messages.filter((message) => message.role === "tool").map((message) => message.content),
    ).toEqual(["1", "2", "3"]);
    expect(added.events.filter((event) => event.type === "tool-call-end")).toHaveLength(3);
    // One write per model call: the answer, the calls it makes (as started) and the results before it.
    expect(writes.loop).toBe(4);

    // `echo` says nothing of being safe to repeat (its policy: fail): its result is written before
    // the model is asked again, so a worker that dies then does not lose a result it had.
    writes.loop = 0;
    const echoer = await harness(
      threeCalls("echo", (index) => ({ text: `echo ${index}` })),
      { framework: "mastra" },
      {},
      [driver],
    );
    const echoed = await echoer.run("Echo three times.");
    expect(echoed.state).toMatchObject({ status: "completed", output: "done", steps: 4 });
    expect(writes.loop).toBe(7);
  });

  it("fails the run at a tool result whose write is refused, without asking the model again", async () => {
    let writes = 0;
    const driver: LoopDriver = {
      framework: "mastra",
      run: (state, { cancelNotices: _pushed, ...options }) =>
        runLoop(state, {
          // Without cancel notices, every tool result is written before the next model call.
          ...options,
          checkpoint: (previous, next, events, extra) => {
            // The write of the first tool result: the run was cancelled meanwhile, say.
            writes += 1;
            if (next.messages.at(-1)?.role === "tool") {
              return Promise.reject(new FreeholdError("test.refused", `write ${writes} refused`));
            }
            return options.checkpoint(previous, next, events, extra);
          },
        }),
    };
    const { run, model } = await harness(
      [
        { toolCalls: [{ name: "add", arguments: { a: 1, b: 1 } }] },
        { text: "done", match: { role: "tool" } },
      ],
      { framework: "mastra" },
      {},
      [driver],
    );
    const { state } = await run("Add.");
    // The run ends failed with the write's error (not one to retry), and nothing after it ran: a
    // run cancelled while its tool ran (the write's conflict) spends no model call.
    expect(state.status).toBe("failed");
    expect(state.error?.code).toBe("test.refused");
    expect(state.error?.message).toContain("refused");
    expect(model.requests).toHaveLength(1);
  });

  it("gives bad model output back to the model as tool errors, and stops when it persists", async () => {
    const { run } = await harness({
      turns: [{ toolCalls: [{ name: "multiply", arguments: {} }] }],
      loop: true,
    });
    const { state, events } = await run("What is 2 * 3?");
    expect(state).toMatchObject({ status: "limit_exceeded", limit: "invalidOutput", steps: 3 });
    const errors = events.filter((event) => event.type === "tool-call-end" && event.isError);
    expect(errors).toHaveLength(3);
    const [first] = errors;
    expect(first?.type === "tool-call-end" && first.content).toContain('there is no tool named "multiply"');
  });

  it("stops at maxSteps with a clear status", async () => {
    const { run } = await harness(
      { turns: [{ toolCalls: [{ name: "add", arguments: { a: 1, b: 1 } }] }], loop: true },
      { limits: { maxSteps: 2 } },
    );
    const { state, events } = await run("Keep adding.");
    expect(state).toMatchObject({ status: "limit_exceeded", limit: "maxSteps", steps: 2 });
    expect(events.at(-1)).toMatchObject({
      type: "run-end",
      status: "limit_exceeded",
      error: { code: "limit.maxSteps" },
    });
  });

  it("returns a tool's error result to the model and goes on", async () => {
    const { run } = await harness([
      { toolCalls: [{ name: "fail", arguments: { message: "the ledger is locked" } }] },
      { text: "Sorry, the ledger is locked.", match: { role: "tool" } },
    ]);
    const { state, events } = await run("Record something.");
    expect(state.status).toBe("completed");
    const ended = events.find((event) => event.type === "tool-call-end");
    expect(ended?.type === "tool-call-end" && ended.isError).toBe(true);
    expect(ended?.type === "tool-call-end" && ended.content).toContain("the ledger is locked");
  });

  it("fails the run with the model's error when the model server is down", async () => {
    const { run } = await harness([{ text: "unused" }], {}, { baseUrl: "http://127.0.0.1:9/v1" });
    const { state } = await run("Hello?");
    expect(state.status).toBe("failed");
    expect(state.error?.code).toBe("model.unreachable");
    expect(state.error?.message).toContain("127.0.0.1:9");
  });
});
