/**
 * Status conditions as the operator computes them: a draft (type, status, reason, message) from a
 * translation, merged into the previous conditions so that `lastTransitionTime` moves only when the
 * status changes, and the transitions that deserve a Kubernetes Event.
 *
 * @module
 */
import type { Condition } from "@freehold/api";

/** A condition before it is stamped with a generation and a time. */
export interface ConditionDraft {
  readonly type: string;
  readonly status: "True" | "False" | "Unknown";
  /** CamelCase, for machines: `ModelNotFound`. */
  readonly reason: string;
  /** For people: what is missing and how to fix it. */
  readonly message: string;
}

/** A condition that holds. */
export function trueCondition(type: string, reason: string, message: string): ConditionDraft {
  return { type, status: "True", reason, message };
}

/** A condition that does not hold. */
export function falseCondition(type: string, reason: string, message: string): ConditionDraft {
  return { type, status: "False", reason, message };
}

/**
 * The new conditions: each draft stamped with `observedGeneration`, keeping the previous
 * `lastTransitionTime` when its status did not change. Conditions of types not drafted are dropped.
 *
 * @example
 * ```ts
 * mergeConditions(agent.status?.conditions, drafts, agent.metadata.generation, new Date());
 * ```
 */
export function mergeConditions(
  previous: readonly Condition[] | undefined,
  drafts: readonly ConditionDraft[],
  generation: number | undefined,
  now: Date,
): Condition[] {
  return drafts.map((draft) => {
    const before = previous?.find((condition) => condition.type === draft.type);
    const lastTransitionTime =
      before !== undefined && before.status === draft.status
        ? before.lastTransitionTime
        : now.toISOString().replace(/\.\d{3}Z$/, "Z");
    return {
      type: draft.type,
      status: draft.status,
      reason: draft.reason,
      message: draft.message,
      ...(generation === undefined ? {} : { observedGeneration: generation }),
      lastTransitionTime,
    };
  });
}

/** A change of a condition worth an Event. */
export interface ConditionTransition {
  readonly eventType: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
}

/**
 * The transitions between two sets of conditions: a condition whose status or reason changed.
 * False conditions give Warnings, the rest Normal events. A condition seen for the first time is
 * worth an Event only when it is False, or is Ready: a healthy new resource gets one Event, not one
 * per condition.
 */
export function conditionTransitions(
  previous: readonly Condition[] | undefined,
  next: readonly ConditionDraft[],
): ConditionTransition[] {
  return next.flatMap((condition) => {
    const before = previous?.find((candidate) => candidate.type === condition.type);
    if (before !== undefined && before.status === condition.status && before.reason === condition.reason) {
      return [];
    }
    if (before === undefined && condition.status !== "False" && condition.type !== "Ready") return [];
    return [
      {
        eventType: condition.status === "False" ? "Warning" : "Normal",
        reason: condition.reason,
        message: `${condition.type}=${condition.status}: ${condition.message}`,
      },
    ];
  });
}
