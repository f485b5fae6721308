import type { Condition } from "@freehold/api";
import { describe, expect, it } from "vitest";
import { conditionTransitions, falseCondition, mergeConditions, trueCondition } from "./conditions.ts";

const earlier = "2026-01-01T00:00:00Z";
const now = new Date("2026-02-02T10:00:00.123Z");
const previous: Condition[] = [
  {
    type: "Ready",
    status: "False",
    reason: "WorkersNotReady",
    message: "0/1",
    observedGeneration: 1,
    lastTransitionTime: earlier,
  },
  {
    type: "ModelResolved",
    status: "True",
    reason: "Resolved",
    message: "Model default",
    observedGeneration: 1,
    lastTransitionTime: earlier,
  },
];

describe("mergeConditions", () => {
  it("keeps lastTransitionTime while the status holds, and stamps the generation", () => {
    const merged = mergeConditions(
      previous,
      [
        trueCondition("ModelResolved", "Resolved", "Model other"),
        trueCondition("Ready", "WorkersReady", "1/1"),
      ],
      2,
      now,
    );
    expect(merged).toEqual([
      {
        type: "ModelResolved",
        status: "True",
        reason: "Resolved",
        message: "Model other",
        observedGeneration: 2,
        lastTransitionTime: earlier,
      },
      {
        type: "Ready",
        status: "True",
        reason: "WorkersReady",
        message: "1/1",
        observedGeneration: 2,
        lastTransitionTime: "2026-02-02T10:00:00Z",
      },
    ]);
  });
});

describe("conditionTransitions", () => {
  it("reports changed statuses and reasons only, False ones as warnings", () => {
    expect(
      conditionTransitions(previous, [
        falseCondition("ModelResolved", "ModelNotFound", "Model default not found"),
        falseCondition("Ready", "WorkersNotReady", "0/2"),
      ]),
    ).toEqual([
      {
        eventType: "Warning",
        reason: "ModelNotFound",
        message: "ModelResolved=False: Model default not found",
      },
    ]);
  });

  it("reports a new resource's False conditions and Ready only", () => {
    expect(
      conditionTransitions(undefined, [
        trueCondition("ModelResolved", "Resolved", "Model default"),
        falseCondition("ToolsResolved", "MCPServerNotFound", "MCPServer billing-api not found"),
        trueCondition("Ready", "WorkersReady", "1/1"),
      ]).map((transition) => transition.reason),
    ).toEqual(["MCPServerNotFound", "WorkersReady"]);
  });
});
