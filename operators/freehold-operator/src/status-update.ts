/**
 * Writing a resource's status: conditions merged with the previous ones (lastTransitionTime kept
 * while a status holds), `observedGeneration`, and the kind's own fields, applied through the
 * status subresource only when something changed; an Event for each condition transition.
 *
 * @module
 */
import type { Condition } from "@freehold/api";
import { canonicalJson } from "./canonical-json.ts";
import { conditionTransitions, mergeConditions, type ConditionDraft } from "./conditions.ts";
import type { EventRecorder } from "./event-recorder.ts";
import type { KubernetesClient } from "./kubernetes-client.ts";
import type { KubernetesObject } from "./kubernetes-objects.ts";
import type { ResourceType } from "./resource-types.ts";

/** A stored resource with a status. */
export interface ObjectWithStatus extends KubernetesObject {
  readonly status?: { readonly conditions?: readonly Condition[] } & Readonly<Record<string, unknown>>;
}

/**
 * Writes the status when it differs from the stored one; returns whether it wrote.
 *
 * @example
 * ```ts
 * await updateStatus({ client, events }, resourceTypes.agents, stored, drafts, { model: "openai/gpt-4o" }, new Date());
 * ```
 */
export async function updateStatus(
  parts: { readonly client: KubernetesClient; readonly events: EventRecorder },
  resource: ResourceType,
  object: ObjectWithStatus,
  drafts: readonly ConditionDraft[],
  fields: Readonly<Record<string, unknown>>,
  now: Date,
): Promise<boolean> {
  const previous = object.status?.conditions;
  const generation = object.metadata.generation;
  const status = {
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    conditions: mergeConditions(previous, drafts, generation, now),
    ...Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)),
  };
  if (canonicalJson(status) === canonicalJson(object.status ?? {})) return false;
  await parts.client.applyStatus(resource, object.metadata.namespace ?? "", object.metadata.name, status);
  for (const transition of conditionTransitions(previous, drafts)) {
    await parts.events.record(object, transition.eventType, transition.reason, transition.message);
  }
  return true;
}
