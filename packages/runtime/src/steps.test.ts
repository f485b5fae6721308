import type { AgentLimits, RunState } from "@freehold/api";
import type { McpTool } from "@freehold/mcp";
import type { GenerateResult } from "@freehold/models";
import { describe, expect, it } from "vitest";
import { applyToolResult, maxInvalidTurns } from "@freehold/handoff";
import { applyModelResult, nextStep } from "./steps.ts";
import { createToolset } from "./toolset.ts";

const limits: AgentLimits = {
  maxSteps: 5,
  timeoutSeconds: 60,
  maxHandoffs: 10,
  maxDelegationDepth: 5,
  maxChildRuns: 50,
  maxTokens: 1000,
};
const now = new Date("2026-01-01T00:00:00.000Z");

function run(overrides: Partial<RunState> = {}): RunState {
  return {
    schemaVersion: 1,
    id: "run-1",
    namespace: "acme",
    agent: "billing",
    status: "running",
    input: "hi",
    messages: [{ role: "user", content: "hi" }],
    pendingToolCalls: [],
    steps: 0,
    usage: { inputTokens: 0, outputTokens: 0 },
    activeMs: 0,
    invalidTurns: 0,
    hops: 0,
    revision: 3,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    ...overrides,
  };
}

const tools: McpTool[] = [
  {
    server: "math",
    name: "add",
    inputSchema: {
      type: "object",
      properties: { a: { type: "number" }, b: { type: "number" } },
      required: ["a", "b"],
    },
  },
  { server: "text", name: "echo", inputSchema: { type: "object", properties: { text: { type: "string" } } } },
];
const toolset = createToolset(tools, [{ mcpServer: "math" }, { mcpServer: "text" }]);

function modelResult(
  content: string,
  toolCalls?: { id: string; name: string; arguments: string }[],
): GenerateResult {
  return {
    message: { role: "assistant", content, ...(toolCalls === undefined ? {} : { toolCalls }) },
    usage: { inputTokens: 10, outputTokens: 5 },
    finishReason: toolCalls === undefined ? "stop" : "tool-calls",
    model: "scripted",
  };
}

describe("nextStep", () => {
  it("calls the model when nothing is pending and no limit is hit", () => {
    expect(nextStep(run(), limits)).toEqual({ kind: "call-model" });
  });

  it("finishes pending tool calls before anything else", () => {
    const pending = applyModelResult(
      run({ steps: 4 }),
      modelResult("", [{ id: "c1", name: "add", arguments: '{"a":1,"b":2}' }]),
      toolset,
      {
        now,
        durationMs: 1,
      },
    ).state;
    expect(pending.steps).toBe(5);
    expect(nextStep(pending, limits)).toMatchObject({
      kind: "call-tools",
      calls: [{ toolCall: { id: "c1" } }],
    });
  });

  it.each([
    ["maxSteps", run({ steps: 5 })],
    ["maxTokens", run({ usage: { inputTokens: 900, outputTokens: 100 } })],
    ["timeoutSeconds", run({ activeMs: 60_000 })],
    ["invalidOutput", run({ invalidTurns: maxInvalidTurns })],
  ])("stops at %s", (limit, state) => {
    expect(nextStep(state, limits)).toEqual({ kind: "stop", limit });
  });
});

describe("applyModelResult", () => {
  it("completes the run on a final answer, with run-end", () => {
    const { state, events } = applyModelResult(run(), modelResult("Your invoice is paid."), toolset, {
      now,
      durationMs: 7,
    });
    expect(state).toMatchObject({
      status: "completed",
      output: "Your invoice is paid.",
      steps: 1,
      activeMs: 7,
    });
    expect(state.usage).toEqual({ inputTokens: 10, outputTokens: 5 });
    expect(events.map((event) => event.type)).toEqual(["model-call-end", "run-end"]);
  });

  it("makes valid calls pending with stable idempotency keys and answers invalid ones at once", () => {
    const { state, events } = applyModelResult(
      run({ steps: 1 }),
      modelResult("", [
        { id: "c1", name: "add", arguments: '{"a":1,"b":2}' },
        { id: "c2", name: "subtract", arguments: "{}" },
        { id: "c3", name: "add", arguments: '{"a":1' },
        { id: "c4", name: "add", arguments: '{"a":"one","b":2}' },
      ]),
      toolset,
      { now, durationMs: 1 },
    );
    expect(
      state.pendingToolCalls.map((call) => [call.toolCall.id, call.status, call.server, call.idempotencyKey]),
    ).toEqual([
      ["c1", "pending", "math", "run-1-2-0"],
      ["c2", "done", undefined, "run-1-2-1"],
      ["c3", "done", undefined, "run-1-2-2"],
      ["c4", "done", undefined, "run-1-2-3"],
    ]);
    const [, unknown, badJson, badSchema] = state.pendingToolCalls;
    expect(unknown?.content).toBe('there is no tool named "subtract"; the tools are: add, echo');
    expect(badJson?.content).toMatch(/^the arguments of add are not valid JSON/);
    expect(badSchema?.content).toBe("the arguments of add do not match its schema: /a must be number");
    expect(state.invalidTurns).toBe(0);
    expect(events.map((event) => event.type)).toEqual([
      "model-call-end",
      "tool-call-start",
      "tool-call-start",
      "tool-call-end",
      "tool-call-start",
      "tool-call-end",
      "tool-call-start",
      "tool-call-end",
    ]);
  });

  it("counts a turn of only invalid calls and returns the errors to the model at once", () => {
    const { state } = applyModelResult(
      run({ invalidTurns: 1 }),
      modelResult("", [{ id: "c1", name: "nope", arguments: "{}" }]),
      toolset,
      {
        now,
        durationMs: 1,
      },
    );
    expect(state.invalidTurns).toBe(2);
    expect(state.pendingToolCalls).toEqual([]);
    expect(state.messages.at(-1)).toMatchObject({ role: "tool", toolCallId: "c1", isError: true });
  });

  it("gives repeated or missing call ids unique ones", () => {
    const { state } = applyModelResult(
      run(),
      modelResult("", [
        { id: "call", name: "echo", arguments: "{}" },
        { id: "call", name: "echo", arguments: "{}" },
        { id: "", name: "echo", arguments: "{}" },
      ]),
      toolset,
      { now, durationMs: 1 },
    );
    expect(state.pendingToolCalls.map((call) => call.toolCall.id)).toEqual(["call", "call_1_1", "call_1_2"]);
  });
});

describe("applyToolResult", () => {
  const afterModel = applyModelResult(
    run(),
    modelResult("", [
      { id: "c1", name: "add", arguments: '{"a":1,"b":2}' },
      { id: "c2", name: "echo", arguments: '{"text":"x"}' },
    ]),
    toolset,
    { now, durationMs: 1 },
  ).state;

  it("adds the results to the conversation, in the model's order, once every call is done", () => {
    const later = new Date(now.getTime() + 50);
    const first = applyToolResult(
      afterModel,
      "c2",
      { content: "x", isError: false },
      { now: later, startedAt: now },
    );
    expect(first.state.messages).toHaveLength(2);
    expect(first.events).toMatchObject([{ type: "tool-call-end", toolCallId: "c2", durationMs: 50 }]);
    const second = applyToolResult(
      first.state,
      "c1",
      { content: "3", isError: false },
      { now: later, startedAt: now },
    );
    expect(second.state.pendingToolCalls).toEqual([]);
    expect(second.state.messages.slice(-2)).toEqual([
      { role: "tool", toolCallId: "c1", name: "add", content: "3" },
      { role: "tool", toolCallId: "c2", name: "echo", content: "x" },
    ]);
    expect(second.state.activeMs).toBeGreaterThanOrEqual(50);
  });

  it("ignores a result for a call that is already done", () => {
    const first = applyToolResult(
      afterModel,
      "c1",
      { content: "3", isError: false },
      { now, startedAt: now },
    );
    const again = applyToolResult(
      first.state,
      "c1",
      { content: "4", isError: false },
      { now, startedAt: now },
    );
    expect(again.state).toBe(first.state);
    expect(again.events).toEqual([]);
  });
});
