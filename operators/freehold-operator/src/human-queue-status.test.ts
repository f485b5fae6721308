import { parseManifest, type HumanQueue } from "@freehold/api";
import { describe, expect, it } from "vitest";
import { clusterViewFromObjects } from "./cluster-view.ts";
import { humanQueueStatus } from "./human-queue-status.ts";

const queue = parseManifest({
  apiVersion: "freehold.dev/v1alpha1",
  kind: "HumanQueue",
  metadata: { name: "billing-desk", namespace: "acme" },
  spec: {
    description: "Billing.",
    sla: { claimWithinSeconds: 60 },
    escalateTo: { humanQueue: "support-desk" },
  },
}) as HumanQueue;

describe("humanQueueStatus", () => {
  it("reports the numbers", () => {
    const support = {
      ...queue,
      metadata: { name: "support-desk", namespace: "acme" },
      spec: { description: "Support.", leaseSeconds: 900 },
    };
    const status = humanQueueStatus(queue, clusterViewFromObjects([queue, support]), {
      waiting: 2,
      claimed: 1,
      oldestWaitSeconds: 75,
    });
    expect(status).toEqual({
      conditions: [{ type: "Ready", status: "True", reason: "Serving", message: "2 waiting, 1 claimed" }],
      waiting: 2,
      claimed: 1,
      oldestWaitSeconds: 75,
    });
  });

  it("names a missing escalation target", () => {
    const status = humanQueueStatus(queue, clusterViewFromObjects([queue]), {
      waiting: 0,
      claimed: 0,
      oldestWaitSeconds: 0,
    });
    expect(status.conditions[0]).toMatchObject({
      status: "False",
      reason: "EscalationTargetNotFound",
      message: "HumanQueue support-desk (spec.escalateTo) not found in namespace acme",
    });
  });

  it("says when Redis cannot be read", () => {
    const status = humanQueueStatus(queue, clusterViewFromObjects([queue]), {
      error: "connect ECONNREFUSED",
    });
    expect(status).toEqual({
      conditions: [
        {
          type: "Ready",
          status: "False",
          reason: "QueueUnreadable",
          message: "cannot read the queue from Redis: connect ECONNREFUSED",
        },
      ],
    });
  });
});
