/**
 * `HumanQueue`: a human team's inbox. Agents hand conversations to it; people claim, answer or hand
 * back; items not claimed within the SLA escalate.
 *
 * @module
 */
import { z } from "zod";
import { statusBase } from "./conditions.ts";
import { DnsLabel, ResourceName } from "./names.ts";
import { defineResource } from "./resource.ts";
import { withRules } from "./validation-rule.ts";

/** A person or a group, as the cluster's authentication names them. */
export const Subject = withRules(
  z
    .strictObject({
      user: z.string().min(1).max(256).optional().describe("A user name, as authentication reports it."),
      group: z.string().min(1).max(256).optional().describe("A group name, as authentication reports it."),
    })
    .describe("A user or a group: exactly one."),
  [
    {
      rule: "[has(self.user), has(self.group)].exists_one(set, set)",
      message: "a subject names exactly one of user or group",
      check: (subject) => (subject.user === undefined) !== (subject.group === undefined),
    },
  ],
);
export type Subject = z.infer<typeof Subject>;

export const HumanQueueSpec = withRules(
  z
    .strictObject({
      description: z
        .string()
        .min(1)
        .max(1024)
        .describe("What the team handles; agents see it in their transfer_to_human_<queue> tool."),
      sla: z
        .strictObject({
          claimWithinSeconds: z
            .int()
            .min(1)
            .max(2_592_000)
            .describe("How long an item may wait unclaimed before it escalates."),
          resolveWithinSeconds: z
            .int()
            .min(1)
            .max(2_592_000)
            .optional()
            .describe("How long a claimed item may stay open before it escalates."),
        })
        .optional()
        .describe("Service level: how soon items must be claimed and resolved."),
      escalateTo: withRules(
        z
          .strictObject({
            humanQueue: DnsLabel.optional().describe("Another HumanQueue in the namespace."),
            agent: ResourceName.optional().describe("An Agent in the namespace that takes the item over."),
          })
          .describe("Where an item goes when the SLA is breached: exactly one of humanQueue or agent."),
        [
          {
            rule: "[has(self.humanQueue), has(self.agent)].exists_one(set, set)",
            message: "escalateTo names exactly one of humanQueue or agent",
            check: (target) => (target.humanQueue === undefined) !== (target.agent === undefined),
          },
        ],
      ).optional(),
      members: z
        .array(Subject)
        .max(256)
        .optional()
        .describe(
          "Who may list, claim and answer items. Absent: anyone who may read the namespace's queues.",
        ),
      leaseSeconds: z
        .int()
        .min(10)
        .max(86_400)
        .default(900)
        .describe("How long a claim lasts without renewal; an abandoned claim returns to the queue."),
    })
    .describe("The desired state of a HumanQueue."),
  [
    {
      rule: "!has(self.escalateTo) || has(self.sla)",
      message: "escalateTo needs an sla that says when to escalate",
      fieldPath: ".sla",
      reason: "FieldValueRequired",
      check: (spec) => spec.escalateTo === undefined || spec.sla !== undefined,
    },
    {
      rule: "!has(self.sla) || !has(self.sla.resolveWithinSeconds) || self.sla.resolveWithinSeconds >= self.sla.claimWithinSeconds",
      message: "sla.resolveWithinSeconds must not be shorter than sla.claimWithinSeconds",
      fieldPath: ".sla.resolveWithinSeconds",
      check: (spec) =>
        spec.sla?.resolveWithinSeconds === undefined ||
        spec.sla.resolveWithinSeconds >= spec.sla.claimWithinSeconds,
    },
  ],
);
export type HumanQueueSpec = z.infer<typeof HumanQueueSpec>;

export const HumanQueueStatus = z
  .strictObject({
    ...statusBase,
    waiting: z.int().min(0).optional().describe("Items waiting to be claimed."),
    claimed: z.int().min(0).optional().describe("Items claimed and not yet resolved."),
    oldestWaitSeconds: z.int().min(0).optional().describe("How long the oldest waiting item has waited."),
  })
  .describe("The observed state of a HumanQueue.");

export const HumanQueue = defineResource({
  kind: "HumanQueue",
  plural: "humanqueues",
  shortNames: ["hq"],
  scope: "Namespaced",
  description: "A human team's inbox: agents hand conversations to it and people answer or hand back.",
  spec: HumanQueueSpec,
  status: HumanQueueStatus,
  printerColumns: [
    { name: "Waiting", type: "integer", jsonPath: ".status.waiting" },
    { name: "Claimed", type: "integer", jsonPath: ".status.claimed" },
    { name: "Oldest", type: "integer", jsonPath: ".status.oldestWaitSeconds", description: "Seconds" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
  nameRule: "label",
  rules: [
    {
      rule: "!has(self.spec.escalateTo) || !has(self.spec.escalateTo.humanQueue) || self.spec.escalateTo.humanQueue != self.metadata.name",
      message: "a queue cannot escalate to itself",
      fieldPath: ".spec.escalateTo.humanQueue",
      check: (name, spec) => spec.escalateTo?.humanQueue !== name,
    },
  ],
});
export type HumanQueue = z.infer<typeof HumanQueue.schema>;
