import type { RunState } from "@freehold/api";
import { newRun } from "@freehold/handoff";
import { describe, expect, it } from "vitest";
import { handToPeople, recordPeopleRequest } from "./handoff-transitions.ts";

const now = new Date("2026-01-01T00:00:00.000Z");

/** A run of `support` at its second step, as a worker has it. */
function run(overrides: Partial<RunState> = {}): RunState {
  const queued = newRun({ id: "run-1", namespace: "acme", agent: "support", input: "Refund my 30.", now });
  return { ...queued, status: "running", steps: 2, revision: 3, ...overrides };
}

describe("recordPeopleRequest", () => {
  it("records the code's request as a pending handoff call that handToPeople turns into an inbox item", () => {
    const { state, events } = recordPeopleRequest(
      run(),
      { queue: "desk", summary: "May I refund 30?", priority: "high", ref: "interrupt-a" },
      now,
    );
    const toolCall = {
      id: "interrupt_1",
      name: "transfer_to_human_desk",
      arguments: JSON.stringify({
        summary: "May I refund 30?",
        reason: "May I refund 30?",
        priority: "high",
        ref: "interrupt-a",
      }),
    };
    expect(state.messages.at(-1)).toEqual({ role: "assistant", content: "", toolCalls: [toolCall] });
    expect(state.pendingToolCalls).toEqual([
      { toolCall, idempotencyKey: "run-1-2-1", status: "pending", special: { kind: "human", queue: "desk" } },
    ]);
    expect(events).toEqual([{ type: "tool-call-start", runId: "run-1", time: now.toISOString(), toolCall }]);
    const [record] = state.pendingToolCalls;
    if (record === undefined) throw new Error("no call recorded");
    const handed = handToPeople(state, record, {
      agent: { namespace: "acme", name: "support", humanQueues: new Map() },
      queue: "desk",
      time: now.toISOString(),
    });
    expect(handed.state.waiting).toEqual({ kind: "human", queue: "desk", itemId: "run-1-2-1" });
    expect(handed.events[0]).toMatchObject({
      type: "human-handoff",
      summary: "May I refund 30?",
      priority: "high",
    });
  });

  it("refuses while calls of the last answer wait for results", () => {
    const pending = run({
      pendingToolCalls: [
        {
          toolCall: { id: "call_1", name: "add", arguments: "{}" },
          idempotencyKey: "run-1-2-0",
          status: "pending",
        },
      ],
    });
    expect(() => recordPeopleRequest(pending, { queue: "desk", summary: "?" }, now)).toThrow(
      expect.objectContaining({ code: "runtime.calls-pending" }),
    );
  });
});
