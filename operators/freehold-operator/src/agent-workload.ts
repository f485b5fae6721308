/**
 * The objects that run an Agent's workers: a ServiceAccount, the ConfigMap with the rendered
 * runtime configuration, a Deployment of `freehold worker` pods and a headless Service over them.
 * Secret values are never copied: the worker reads each one from a `FREEHOLD_SECRET_*` variable
 * filled by a `secretKeyRef`, and its Redis URL (with the namespace's credential) from the Secret
 * `freehold-redis` the operator writes.
 *
 * @module
 */
import { secretEnvName, type Agent, type SecretKeySelector } from "@freehold/api";
import type {
  ConfigMap,
  Container,
  Deployment,
  EnvVar,
  ObjectMeta,
  Service,
  ServiceAccount,
} from "./kubernetes-objects.ts";
import {
  annotationKeys,
  childName,
  ownerLabels,
  ownerReference,
  ownerSelector,
  redisSecretName,
} from "./names.ts";
import { containerSecurityContext, podSecurityContext, scratchMount, scratchVolume } from "./pod-security.ts";
import type { RenderedRuntimeConfig } from "./render-runtime-config.ts";
import type { TranslateOptions } from "./translate-options.ts";

/** Where the ConfigMap is mounted in the worker, and the file the worker reads. */
export const configDirectory = "/etc/freehold";
export const configFile = "config.json";

/** The name of an Agent's Deployment, Service, ServiceAccount and ConfigMap. */
export function agentWorkloadName(agent: string): string {
  return childName(agent, "agent");
}

function metadata(
  agent: Agent,
): ObjectMeta & { readonly namespace: string; readonly labels: Record<string, string> } {
  return {
    name: agentWorkloadName(agent.metadata.name),
    namespace: agent.metadata.namespace ?? "default",
    labels: ownerLabels({ kind: "Agent", metadata: agent.metadata }),
    ownerReferences: [ownerReference({ kind: "Agent", metadata: agent.metadata })],
  };
}

/** The ServiceAccount of the workers; they never call the Kubernetes API, so no token is mounted. */
export function agentServiceAccount(agent: Agent): ServiceAccount {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: metadata(agent),
    automountServiceAccountToken: false,
  };
}

/** The ConfigMap holding `config.json`. */
export function agentConfigMap(agent: Agent, rendered: RenderedRuntimeConfig): ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      ...metadata(agent),
      annotations: { [annotationKeys.configHash]: rendered.hash },
    },
    data: { [configFile]: rendered.json },
  };
}

/** The key of the namespace's Redis credential that workers read as `FREEHOLD_REDIS_URL`. */
export const redisUrlReference: SecretKeySelector = { name: redisSecretName, key: "url" };

/**
 * The worker's environment: `FREEHOLD_REDIS_URL` from the Secret `freehold-redis` (when the operator
 * has Redis), `FREEHOLD_RUN_RETENTION` (when configured), the Secret keys it reads, then
 * `spec.runtime.env` (which wins).
 */
export function agentEnvironment(
  agent: Agent,
  secretReferences: readonly SecretKeySelector[],
  options: TranslateOptions,
): EnvVar[] {
  const variables = new Map<string, EnvVar>();
  if (options.workerRedisUrl !== undefined) {
    variables.set("FREEHOLD_REDIS_URL", {
      name: "FREEHOLD_REDIS_URL",
      valueFrom: { secretKeyRef: { name: redisUrlReference.name, key: redisUrlReference.key } },
    });
  }
  if (options.runRetention !== undefined) {
    variables.set("FREEHOLD_RUN_RETENTION", { name: "FREEHOLD_RUN_RETENTION", value: options.runRetention });
  }
  for (const reference of secretReferences) {
    const name = secretEnvName(reference);
    variables.set(name, { name, valueFrom: { secretKeyRef: { name: reference.name, key: reference.key } } });
  }
  for (const variable of agent.spec.runtime.env ?? []) {
    variables.set(
      variable.name,
      variable.secretKeyRef === undefined
        ? { name: variable.name, value: variable.value ?? "" }
        : {
            name: variable.name,
            valueFrom: { secretKeyRef: { name: variable.secretKeyRef.name, key: variable.secretKeyRef.key } },
          },
    );
  }
  return [...variables.values()];
}

function workerContainer(
  agent: Agent,
  secretReferences: readonly SecretKeySelector[],
  options: TranslateOptions,
): Container {
  const runtime = agent.spec.runtime;
  const healthPort = options.workerHealthPort;
  return {
    name: "worker",
    image: runtime.image ?? options.runtimeImage,
    imagePullPolicy: options.imagePullPolicy ?? "IfNotPresent",
    command: [
      "freehold",
      "worker",
      "--config",
      `${configDirectory}/${configFile}`,
      "--concurrency",
      String(runtime.concurrency),
      ...(healthPort === undefined ? [] : ["--health-port", String(healthPort)]),
    ],
    env: agentEnvironment(agent, secretReferences, options),
    ...(runtime.resources === undefined ? {} : { resources: runtime.resources }),
    ...(healthPort === undefined
      ? {}
      : {
          ports: [{ name: "health", containerPort: healthPort, protocol: "TCP" }],
          livenessProbe: {
            httpGet: { path: "/healthz", port: "health" },
            periodSeconds: 10,
            failureThreshold: 3,
          },
          readinessProbe: {
            httpGet: { path: "/readyz", port: "health" },
            periodSeconds: 5,
            failureThreshold: 3,
          },
        }),
    securityContext: containerSecurityContext(),
    volumeMounts: [{ name: "config", mountPath: configDirectory, readOnly: true }, scratchMount],
  };
}

/**
 * The Deployment of workers. With autoscaling, `replicas` is left out so the autoscaler owns it.
 * The pod template carries the config hash: a change of the config or of a Secret value rolls it.
 * With a health port, the workers serve `/metrics` there, and the `prometheus.io/*` annotations
 * tell an annotation-driven Prometheus to scrape it.
 */
export function agentDeployment(
  agent: Agent,
  rendered: RenderedRuntimeConfig,
  secretReferences: readonly SecretKeySelector[],
  options: TranslateOptions,
): Deployment {
  const base = metadata(agent);
  const selector = ownerSelector({ kind: "Agent", metadata: agent.metadata });
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: base,
    spec: {
      ...(agent.spec.runtime.autoscaling === undefined ? { replicas: agent.spec.runtime.replicas } : {}),
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: base.labels,
          annotations: {
            [annotationKeys.configHash]: rendered.hash,
            ...(options.workerHealthPort === undefined
              ? {}
              : {
                  "prometheus.io/scrape": "true",
                  "prometheus.io/port": String(options.workerHealthPort),
                  "prometheus.io/path": "/metrics",
                }),
          },
        },
        spec: {
          serviceAccountName: base.name,
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(),
          containers: [workerContainer(agent, secretReferences, options)],
          volumes: [
            {
              name: "config",
              configMap: { name: base.name, items: [{ key: configFile, path: configFile }] },
            },
            scratchVolume,
          ],
        },
      },
    },
  };
}

/** A headless Service over the workers: DNS for each pod, and the health port when there is one. */
export function agentService(agent: Agent, options: TranslateOptions): Service {
  const port = options.workerHealthPort;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadata(agent),
    spec: {
      clusterIP: "None",
      selector: ownerSelector({ kind: "Agent", metadata: agent.metadata }),
      ...(port === undefined
        ? {}
        : { ports: [{ name: "health", port, targetPort: "health", protocol: "TCP" }] }),
    },
  };
}
