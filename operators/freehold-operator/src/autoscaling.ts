/**
 * Queue-depth autoscaling of an Agent's workers (`spec.runtime.autoscaling`): a KEDA ScaledObject
 * on the length of the agent's BullMQ wait list when KEDA is installed (it can scale to zero), with
 * a TriggerAuthentication that gives KEDA the namespace's Redis credential (Secret `freehold-redis`);
 * or else a HorizontalPodAutoscaler on the external metric `freehold_agent_queue_depth`, which the
 * workers export and a metrics adapter serves (the chart renders the prometheus-adapter rule).
 *
 * @module
 */
import type { Agent } from "@freehold/api";
import { agentQueueName, agentQueuePrefix, isClusterUrl, parseClusterUrl } from "@freehold/handoff";
import type { ObjectMeta, SpecObject } from "./kubernetes-objects.ts";
import { agentWorkloadName } from "./agent-workload.ts";
import { ownerLabels, ownerReference, redisSecretName } from "./names.ts";

/** The external metric an HPA scales agents on. */
export const queueDepthMetric = "freehold_agent_queue_depth";

/** The Redis list of an agent's waiting runs (BullMQ's `wait` list under the agent's queue). */
export function agentWaitList(namespace: string, agent: string): string {
  return `${agentQueuePrefix(namespace)}:${agentQueueName(namespace, agent)}:wait`;
}

function metadata(agent: Agent): ObjectMeta {
  return {
    name: agentWorkloadName(agent.metadata.name),
    namespace: agent.metadata.namespace ?? "default",
    labels: ownerLabels({ kind: "Agent", metadata: agent.metadata }),
    ownerReferences: [ownerReference({ kind: "Agent", metadata: agent.metadata })],
  };
}

/**
 * The HorizontalPodAutoscaler of an agent with autoscaling. An HPA cannot scale to zero without
 * a feature gate, so `minReplicas: 0` becomes 1 here.
 */
export function agentHorizontalPodAutoscaler(agent: Agent): SpecObject | undefined {
  const autoscaling = agent.spec.runtime.autoscaling;
  if (autoscaling === undefined) return undefined;
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: metadata(agent),
    spec: {
      scaleTargetRef: {
        apiVersion: "apps/v1",
        kind: "Deployment",
        name: agentWorkloadName(agent.metadata.name),
      },
      minReplicas: Math.max(1, autoscaling.minReplicas),
      maxReplicas: autoscaling.maxReplicas,
      metrics: [
        {
          type: "External",
          external: {
            metric: {
              name: queueDepthMetric,
              selector: {
                matchLabels: { namespace: agent.metadata.namespace ?? "default", agent: agent.metadata.name },
              },
            },
            target: { type: "AverageValue", averageValue: String(autoscaling.targetQueueDepth) },
          },
        },
      ],
    },
  };
}

/**
 * KEDA's trigger type and where it reaches Redis: `redis` with the host, port and database of a
 * `redis://` URL, or `redis-cluster` with the `addresses` of a `redis+cluster://` URL's nodes.
 */
function redisTrigger(url: string): { type: "redis" | "redis-cluster"; metadata: Record<string, string> } {
  if (isClusterUrl(url)) {
    const { tls, nodes } = parseClusterUrl(url);
    return {
      type: "redis-cluster",
      metadata: {
        addresses: nodes.map((node) => `${node.host}:${node.port}`).join(","),
        enableTLS: tls ? "true" : "false",
      },
    };
  }
  const parsed = new URL(url);
  const database = parsed.pathname.replace(/^\//, "");
  return {
    type: "redis",
    metadata: {
      address: `${parsed.hostname}:${parsed.port === "" ? "6379" : parsed.port}`,
      databaseIndex: database === "" ? "0" : database,
      enableTLS: parsed.protocol === "rediss:" ? "true" : "false",
    },
  };
}

/**
 * The KEDA TriggerAuthentication of an agent with autoscaling: the `username` and `password` of
 * KEDA's redis scaler, from the namespace's Secret `freehold-redis` (a tenant's ACL user, or the
 * workers' own credential), so KEDA reads the wait list as the workers do.
 */
export function agentTriggerAuthentication(agent: Agent): SpecObject | undefined {
  if (agent.spec.runtime.autoscaling === undefined) return undefined;
  return {
    apiVersion: "keda.sh/v1alpha1",
    kind: "TriggerAuthentication",
    metadata: metadata(agent),
    spec: {
      secretTargetRef: [
        { parameter: "username", name: redisSecretName, key: "username" },
        { parameter: "password", name: redisSecretName, key: "password" },
      ],
    },
  };
}

/**
 * The KEDA ScaledObject of an agent with autoscaling: a `redis` trigger on the agent's wait list
 * (`redis-cluster` when the workers' URL is a `redis+cluster://` one). Needs the workers' Redis URL
 * (host and port, or the cluster's nodes; database; TLS); the credential comes from the
 * agent's {@link agentTriggerAuthentication} (same name).
 */
export function agentScaledObject(agent: Agent, workerRedisUrl: string): SpecObject | undefined {
  const autoscaling = agent.spec.runtime.autoscaling;
  if (autoscaling === undefined) return undefined;
  const namespace = agent.metadata.namespace ?? "default";
  const trigger = redisTrigger(workerRedisUrl);
  return {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: metadata(agent),
    spec: {
      scaleTargetRef: { name: agentWorkloadName(agent.metadata.name) },
      minReplicaCount: autoscaling.minReplicas,
      maxReplicaCount: autoscaling.maxReplicas,
      triggers: [
        {
          type: trigger.type,
          metadata: {
            ...trigger.metadata,
            listName: agentWaitList(namespace, agent.metadata.name),
            listLength: String(autoscaling.targetQueueDepth),
          },
          authenticationRef: { name: agentWorkloadName(agent.metadata.name) },
        },
      ],
    },
  };
}
