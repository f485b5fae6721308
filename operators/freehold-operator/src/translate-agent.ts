/**
 * `translate(Agent, cluster) → objects`: what an Agent becomes, as a pure function. While any
 * reference is missing, only the ServiceAccount and Service are desired: the last good ConfigMap and
 * Deployment are left alone (running workers are never taken down by a missing dependency), and the
 * conditions say what is missing.
 *
 * @module
 */
import type { Agent } from "@freehold/api";
import type { Deployment, KubernetesObject } from "./kubernetes-objects.ts";
import {
  agentConfigMap,
  agentDeployment,
  agentService,
  agentServiceAccount,
  redisUrlReference,
} from "./agent-workload.ts";
import {
  agentHorizontalPodAutoscaler,
  agentScaledObject,
  agentTriggerAuthentication,
} from "./autoscaling.ts";
import type { ClusterView } from "./cluster-view.ts";
import { falseCondition, trueCondition, type ConditionDraft } from "./conditions.ts";
import { podSecretReferences, renderRuntimeConfig } from "./render-runtime-config.ts";
import { resolveAgent, secretProblem, type AgentResolution } from "./resolve-agent.ts";
import type { TranslateOptions } from "./translate-options.ts";

/** What an Agent becomes. */
export interface AgentTranslation {
  /** The objects to apply, in order. */
  readonly objects: readonly KubernetesObject[];
  /** True when `objects` is the whole desired set, so owned objects not in it may be deleted. */
  readonly complete: boolean;
  /** ModelResolved, ToolsResolved, HandoffsResolved (Ready needs the Deployment: {@link agentReadyCondition}). */
  readonly conditions: readonly ConditionDraft[];
  readonly resolution: AgentResolution;
  /** The config hash on the pod template, when the config could be rendered. */
  readonly configHash: string | undefined;
}

/**
 * Resolves an Agent and, when workers read their Redis URL from the namespace's Secret
 * `freehold-redis`, checks that the Secret is there: until the operator has written it, the
 * workers are held like for any missing Secret.
 */
function resolveWithRedis(agent: Agent, cluster: ClusterView, options: TranslateOptions): AgentResolution {
  const resolution = resolveAgent(agent, cluster);
  if (options.workerRedisUrl === undefined) return resolution;
  const problem = secretProblem(
    cluster,
    agent.metadata.namespace ?? "default",
    redisUrlReference,
    "FREEHOLD_REDIS_URL of the workers; the operator writes it in every namespace it serves",
  );
  if (problem === undefined) return resolution;
  return { ...resolution, runtimeProblems: [...resolution.runtimeProblems, problem], resolved: false };
}

/**
 * Translates an Agent.
 *
 * @example
 * ```ts
 * const { objects, conditions } = translateAgent(agent, cluster, { runtimeImage: "ghcr.io/freehold/runtime:0.1.0" });
 * ```
 */
export function translateAgent(
  agent: Agent,
  cluster: ClusterView,
  options: TranslateOptions,
): AgentTranslation {
  const resolution = resolveWithRedis(agent, cluster, options);
  const conditions = [resolution.modelResolved, resolution.toolsResolved, resolution.handoffsResolved];
  const always = [agentServiceAccount(agent), agentService(agent, options)];
  if (!resolution.resolved) {
    return { objects: always, complete: false, conditions, resolution, configHash: undefined };
  }
  const rendered = renderRuntimeConfig(
    agent,
    resolution,
    cluster,
    options.workerRedisUrl === undefined ? [] : [redisUrlReference],
  );
  // KEDA: the TriggerAuthentication first, so the ScaledObject finds it.
  const autoscalers =
    cluster.kedaAvailable && options.workerRedisUrl !== undefined
      ? [agentTriggerAuthentication(agent), agentScaledObject(agent, options.workerRedisUrl)]
      : [agentHorizontalPodAutoscaler(agent)];
  return {
    objects: [
      always[0] as KubernetesObject,
      agentConfigMap(agent, rendered),
      agentDeployment(agent, rendered, podSecretReferences(agent, resolution), options),
      always[1] as KubernetesObject,
      ...autoscalers.filter((object) => object !== undefined),
    ],
    complete: true,
    conditions,
    resolution,
    configHash: rendered.hash,
  };
}

/**
 * The Ready condition: every reference resolved and, from the Deployment's status, at least one
 * worker ready (or none wanted).
 *
 * @example
 * ```ts
 * agentReadyCondition(translation, deployments.get(namespace, agentWorkloadName(name)));
 * ```
 */
export function agentReadyCondition(
  translation: AgentTranslation,
  deployment: Deployment | undefined,
): ConditionDraft {
  const { resolution } = translation;
  if (!resolution.resolved) {
    const problems = [
      ...[resolution.modelResolved, resolution.toolsResolved, resolution.handoffsResolved]
        .filter((condition) => condition.status !== "True")
        .map((condition) => ({ reason: condition.reason, message: condition.message })),
      ...resolution.runtimeProblems,
    ];
    return falseCondition(
      "Ready",
      problems[0]?.reason ?? "NotResolved",
      problems.map((problem) => problem.message).join("; "),
    );
  }
  if (deployment === undefined) {
    return falseCondition("Ready", "WorkersPending", "the workers' Deployment does not exist yet");
  }
  const name = deployment.metadata.name;
  const desired = deployment.spec.replicas ?? 1;
  const ready = deployment.status?.readyReplicas ?? 0;
  if (desired === 0) {
    return trueCondition(
      "Ready",
      "ScaledToZero",
      `Deployment ${name} has no workers; runs wait on the agent's queue until it scales up`,
    );
  }
  if (ready > 0) {
    return trueCondition("Ready", "WorkersReady", `${ready}/${desired} workers of Deployment ${name} ready`);
  }
  return falseCondition(
    "Ready",
    "WorkersNotReady",
    `0/${desired} workers of Deployment ${name} ready; see kubectl describe deployment ${name}`,
  );
}
