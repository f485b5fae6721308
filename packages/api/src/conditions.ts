/**
 * Status conditions, in the shape of Kubernetes' `metav1.Condition`, shared by every kind.
 *
 * @module
 */
import { z } from "zod";

/** One observation of an aspect of the resource's state. */
export const Condition = z
  .object({
    type: z
      .string()
      .min(1)
      .max(316)
      .regex(
        /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/,
      )
      .describe("The aspect this condition is about, in CamelCase: Ready, ModelResolved, ..."),
    status: z
      .enum(["True", "False", "Unknown"])
      .describe("Whether the condition holds: True, False or Unknown."),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .describe("A CamelCase word for the last transition, for machines: ModelNotFound, Reconciled, ..."),
    message: z.string().max(32768).describe("What happened, for people: what is missing and how to fix it."),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe("The metadata.generation this condition was computed from."),
    lastTransitionTime: z.iso.datetime({ offset: true }).describe("When the status last changed (RFC 3339)."),
  })
  .describe("A condition: type, status, reason, message, observedGeneration, lastTransitionTime.");
export type Condition = z.infer<typeof Condition>;

/** The status fields every kind has. */
export const statusBase = {
  observedGeneration: z
    .int()
    .min(0)
    .optional()
    .describe("The metadata.generation the operator last acted on."),
  conditions: z
    .array(Condition)
    .max(32)
    .optional()
    .meta({
      description: "The latest observations of the resource's state.",
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["type"],
    }),
};
