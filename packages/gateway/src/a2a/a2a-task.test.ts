import { runStatuses, type RunState } from "@freehold/api";
import { describe, expect, it } from "vitest";
import { messageInput, runTask, taskState } from "./a2a-task.ts";

const run: RunState = {
  schemaVersion: 1,
  id: "r1",
  namespace: "acme",
  agent: "billing",
  status: "waiting_for_human",
  input: "Refund?",
  messages: [
    { role: "user", content: "Refund?" },
    {
      role: "assistant",
      content: "",
      toolCalls: [{ id: "c1", name: "transfer_to_human_desk", arguments: "{}" }],
    },
    { role: "tool", toolCallId: "c1", name: "transfer_to_human_desk", content: "handed over" },
  ],
  pendingToolCalls: [],
  steps: 1,
  usage: { inputTokens: 10, outputTokens: 5 },
  activeMs: 12,
  invalidTurns: 0,
  hops: 0,
  waiting: { kind: "human", queue: "desk", itemId: "i1" },
  revision: 3,
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:01.000Z",
};

describe("taskState", () => {
  it("maps every run status to an A2A task state", () => {
    expect(Object.fromEntries(runStatuses.map((status) => [status, taskState(status)]))).toEqual({
      queued: "submitted",
      running: "working",
      waiting_for_human: "input-required",
      waiting_for_approval: "input-required",
      waiting_for_agent: "working",
      completed: "completed",
      failed: "failed",
      cancelled: "canceled",
      limit_exceeded: "failed",
    });
  });
});

describe("runTask", () => {
  it("shows the run as a task: id and context are the run's, history without tool traffic, why it waits", () => {
    expect(runTask(run)).toEqual({
      kind: "task",
      id: "r1",
      contextId: "r1",
      status: {
        state: "input-required",
        timestamp: "2026-01-01T00:00:01.000Z",
        message: {
          kind: "message",
          role: "agent",
          parts: [{ kind: "text", text: "A person in human queue desk will continue this conversation." }],
          messageId: "r1-status-3",
          taskId: "r1",
          contextId: "r1",
        },
      },
      history: [
        {
          kind: "message",
          role: "user",
          parts: [{ kind: "text", text: "Refund?" }],
          messageId: "r1-0",
          taskId: "r1",
          contextId: "r1",
        },
      ],
      metadata: {
        "freehold.dev/run": {
          namespace: "acme",
          agent: "billing",
          status: "waiting_for_human",
          steps: 1,
          usage: run.usage,
        },
      },
    });
    const done = runTask({ ...run, status: "completed", output: "Refunded." }, { historyLength: 0 });
    expect(done.artifacts).toEqual([
      { artifactId: "answer", name: "answer", parts: [{ kind: "text", text: "Refunded." }] },
    ]);
    expect(done.history).toEqual([]);
  });
});

describe("messageInput", () => {
  it("joins text and data parts, and refuses files", () => {
    const message = { kind: "message" as const, role: "user" as const, messageId: "m" };
    expect(
      messageInput({
        ...message,
        parts: [
          { kind: "text", text: "Order:" },
          { kind: "data", data: { id: 7 } },
        ],
      }),
    ).toBe('Order:\n{"id":7}');
    expect(() =>
      messageInput({ ...message, parts: [{ kind: "file", file: { uri: "https://x/y.pdf" } }] }),
    ).toThrow(/file parts are not supported/);
    expect(() => messageInput({ ...message, parts: [{ kind: "text", text: "  " }] })).toThrow(/has no text/);
  });
});
