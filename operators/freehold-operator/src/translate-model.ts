/**
 * What a Model becomes: no objects, only status. `SecretResolved` says whether its API key Secret
 * exists with the key; `Ready` also needs every fallback Model to exist.
 *
 * @module
 */
import type { Model } from "@freehold/api";
import type { ClusterView } from "./cluster-view.ts";
import { trueCondition, type ConditionDraft } from "./conditions.ts";
import { conditionOf, secretProblem, type Problem } from "./resolve-agent.ts";

/**
 * The conditions of a Model: SecretResolved and Ready.
 *
 * @example
 * ```ts
 * translateModel(model, cluster); // [{ type: "SecretResolved", status: "False", reason: "SecretNotFound", ... }, ...]
 * ```
 */
export function translateModel(model: Model, cluster: ClusterView): ConditionDraft[] {
  const namespace = model.metadata.namespace ?? "default";
  const key = model.spec.apiKeySecretRef;
  const secret: ConditionDraft =
    key === undefined
      ? trueCondition(
          "SecretResolved",
          "NoSecretNeeded",
          `provider ${model.spec.provider} takes no API key here`,
        )
      : conditionOf(
          "SecretResolved",
          [secretProblem(cluster, namespace, key, "spec.apiKeySecretRef")].filter(
            (problem): problem is Problem => problem !== undefined,
          ),
          `API key from Secret ${key.name} key ${key.key}`,
        );
  const fallbackProblems = (model.spec.fallbacks ?? []).flatMap((fallback): Problem[] =>
    cluster.model(namespace, fallback.ref) === undefined
      ? [
          {
            reason: "FallbackModelNotFound",
            message: `Model ${fallback.ref} (in spec.fallbacks) not found in namespace ${namespace}`,
          },
        ]
      : [],
  );
  const problems = [
    ...(secret.status === "True" ? [] : [{ reason: secret.reason, message: secret.message }]),
    ...fallbackProblems,
  ];
  const ready = conditionOf(
    "Ready",
    problems,
    `${model.spec.provider} ${model.spec.model}${model.spec.baseUrl === undefined ? "" : ` at ${model.spec.baseUrl}`}`,
  );
  return [secret, ready.status === "True" ? { ...ready, reason: "Valid" } : ready];
}
