import { describe, expect, it } from "vitest";
import { ActorGroups, maxActorGroups, recordedActor } from "./actor.ts";
import { InboxItem } from "./inbox.ts";
import { RunEvent } from "./run.ts";

describe("recordedActor", () => {
  it("keeps a name alone as it is, and an identity's groups bounded", () => {
    expect(recordedActor("ann")).toEqual({ user: "ann" });
    expect(recordedActor({ user: "ann", groups: ["billing-desk"] })).toEqual({
      user: "ann",
      groups: ["billing-desk"],
    });
    const many = Array.from({ length: 100 }, (_, index) => `g${index}`);
    const recorded = recordedActor({ user: "bob", groups: ["", "x".repeat(257), ...many] });
    expect(recorded.groups).toEqual(many.slice(0, maxActorGroups));
    expect(ActorGroups.safeParse(recorded.groups).success).toBe(true);
  });
});

describe("ActorGroups on records", () => {
  const action = {
    type: "human-action",
    runId: "r1",
    time: "2026-12-03T08:00:00.000Z",
    action: "claim",
    actor: "ann",
    queue: "billing-desk",
    itemId: "i1",
  };
  const item = {
    schemaVersion: 1,
    id: "i1",
    namespace: "acme",
    queue: "billing-desk",
    runId: "r1",
    agent: "billing",
    summary: "s",
    reason: "r",
    priority: "high",
    conversation: [],
    status: "claimed",
    createdAt: "2026-12-03T08:00:00.000Z",
    queuedAt: "2026-12-03T08:00:00.000Z",
    claimedBy: "ann",
    escalations: 0,
    leaseSeconds: 60,
  };

  it("reads records written before the field (none), and records with it", () => {
    expect(RunEvent.parse(action)).toEqual(action);
    expect(InboxItem.parse(item)).toEqual(item);
    expect(RunEvent.parse({ ...action, actorGroups: ["billing-desk"] })).toMatchObject({
      actorGroups: ["billing-desk"],
    });
    expect(InboxItem.parse({ ...item, claimedByGroups: ["billing-desk"] })).toMatchObject({
      claimedByGroups: ["billing-desk"],
    });
  });

  it("refuses more groups, or longer ones, than records keep", () => {
    const many = Array.from({ length: maxActorGroups + 1 }, (_, index) => `g${index}`);
    expect(RunEvent.safeParse({ ...action, actorGroups: many }).success).toBe(false);
    expect(InboxItem.safeParse({ ...item, claimedByGroups: ["x".repeat(257)] }).success).toBe(false);
  });
});
