/**
 * What an MCPServer becomes. A stdio server runs in its own Deployment behind
 * `freehold mcp bridge`, with its own ServiceAccount, a Service, a bearer token (the Secret
 * `<server>-mcp-token`, which the reconciler makes) and a NetworkPolicy that lets only
 * the worker pods of the Agents using it (and the operator, to list its tools) reach the bridge
 * port; its URL is the Service's. An HTTP or SSE server needs
 * nothing run: its URL is its own. Ready comes from connecting to the server and listing its tools
 * ({@link mcpServerReadyCondition}), which the reconciler does.
 *
 * @module
 */
import type { McpServer, SecretKeySelector } from "@freehold/api";
import type {
  Deployment,
  EnvVar,
  KubernetesObject,
  NetworkPolicy,
  NetworkPolicyPeer,
  ObjectMeta,
  Service,
  ServiceAccount,
} from "./kubernetes-objects.ts";
import {
  bridgeName,
  bridgePort,
  bridgeTokenReference,
  bridgeTokenVariable,
  bridgeUrl,
} from "./bridge-address.ts";
import { canonicalJson, shortHash } from "./canonical-json.ts";
import type { ClusterView } from "./cluster-view.ts";
import { falseCondition, trueCondition, type ConditionDraft } from "./conditions.ts";
import { agentsUsingMcpServer } from "./dependents.ts";
import { annotationKeys, labelKeys, ownerLabels, ownerReference, ownerSelector } from "./names.ts";
import { containerSecurityContext, podSecurityContext, scratchMount, scratchVolume } from "./pod-security.ts";
import { secretDigests } from "./render-runtime-config.ts";
import { secretProblem, type Problem } from "./resolve-agent.ts";
import type { TranslateOptions } from "./translate-options.ts";

/** What an MCPServer becomes. */
export interface McpServerTranslation {
  readonly objects: readonly KubernetesObject[];
  /** True when `objects` is the whole desired set, so owned objects not in it may be deleted. */
  readonly complete: boolean;
  /** The URL agents use (`status.url`). */
  readonly url: string;
  /** Missing Secrets of headers, of the stdio command's environment, or the bridge's token. */
  readonly problems: readonly Problem[];
}

/** The result of connecting to a server and listing its tools. */
export type ToolDiscovery =
  | { readonly ok: true; readonly tools: readonly { readonly name: string; readonly description?: string }[] }
  | { readonly ok: false; readonly error: string };

function owner(server: McpServer): { kind: "MCPServer"; metadata: McpServer["metadata"] } {
  return { kind: "MCPServer", metadata: server.metadata };
}

function bridgeMetadata(server: McpServer): ObjectMeta & { readonly labels: Record<string, string> } {
  return {
    name: bridgeName(server.metadata.name),
    namespace: server.metadata.namespace ?? "default",
    labels: ownerLabels(owner(server)),
    ownerReferences: [ownerReference(owner(server))],
  };
}

function bridgeDeployment(
  server: McpServer,
  stdio: NonNullable<McpServer["spec"]["stdio"]>,
  hash: string,
  options: TranslateOptions,
): Deployment {
  const metadata = bridgeMetadata(server);
  const env: EnvVar[] = [
    { name: "HOME", value: "/tmp" },
    ...(stdio.env ?? []).map((variable): EnvVar =>
      variable.secretKeyRef === undefined
        ? { name: variable.name, value: variable.value ?? "" }
        : {
            name: variable.name,
            valueFrom: { secretKeyRef: { name: variable.secretKeyRef.name, key: variable.secretKeyRef.key } },
          },
    ),
    // Last, so spec.stdio.env cannot replace it; the bridge keeps it from the stdio command.
    { name: bridgeTokenVariable, valueFrom: { secretKeyRef: bridgeTokenReference(server.metadata.name) } },
  ];
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata,
    spec: {
      replicas: 1,
      selector: { matchLabels: ownerSelector(owner(server)) },
      template: {
        metadata: { labels: metadata.labels, annotations: { [annotationKeys.configHash]: hash } },
        spec: {
          serviceAccountName: metadata.name,
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(),
          containers: [
            {
              name: "bridge",
              image: stdio.image ?? options.runtimeImage,
              imagePullPolicy: options.imagePullPolicy ?? "IfNotPresent",
              command: [
                "freehold",
                "mcp",
                "bridge",
                "--host",
                "0.0.0.0",
                "--port",
                String(bridgePort),
                "--",
                stdio.command,
                ...(stdio.args ?? []),
              ],
              env: [...new Map(env.map((variable) => [variable.name, variable])).values()],
              ...(stdio.workingDir === undefined ? {} : { workingDir: stdio.workingDir }),
              ports: [{ name: "http", containerPort: bridgePort, protocol: "TCP" }],
              livenessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 10 },
              readinessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 5 },
              securityContext: containerSecurityContext(),
              volumeMounts: [scratchMount],
            },
          ],
          volumes: [scratchVolume],
        },
      },
    },
  };
}

/** The bridge's own ServiceAccount: no token, no permissions. */
function bridgeServiceAccount(server: McpServer): ServiceAccount {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: bridgeMetadata(server),
    automountServiceAccountToken: false,
  };
}

function bridgeService(server: McpServer): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: bridgeMetadata(server),
    spec: {
      selector: ownerSelector(owner(server)),
      ports: [{ name: "http", port: bridgePort, targetPort: "http", protocol: "TCP" }],
    },
  };
}

/**
 * Who may reach the bridge: ingress only on the bridge port, only from the worker pods of the
 * Agents in this namespace whose `spec.tools` name the server, and from the operator's pods (it
 * lists the tools) when the operator's namespace is known. No Agent uses it: no workers at all.
 * A CNI must enforce it.
 */
function bridgeNetworkPolicy(
  server: McpServer,
  cluster: ClusterView,
  options: TranslateOptions,
): NetworkPolicy {
  const metadata = bridgeMetadata(server);
  const users = agentsUsingMcpServer(cluster, metadata.namespace ?? "default", server.metadata.name).sort();
  const peers: NetworkPolicyPeer[] = [
    ...(users.length === 0
      ? []
      : [
          {
            podSelector: {
              matchExpressions: [{ key: labelKeys.agent, operator: "In" as const, values: users }],
            },
          },
        ]),
    ...(options.operatorNamespace === undefined
      ? []
      : [
          {
            namespaceSelector: { matchLabels: { [labelKeys.namespaceName]: options.operatorNamespace } },
            podSelector: {
              matchLabels: { [labelKeys.partOf]: "freehold", [labelKeys.component]: "operator" },
            },
          },
        ]),
  ];
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata,
    spec: {
      podSelector: { matchLabels: ownerSelector(owner(server)) },
      policyTypes: ["Ingress"],
      ingress: peers.length === 0 ? [] : [{ from: peers, ports: [{ protocol: "TCP", port: bridgePort }] }],
    },
  };
}

/**
 * Translates an MCPServer.
 *
 * @example
 * ```ts
 * const { objects, url } = translateMcpServer(server, cluster, { runtimeImage: "ghcr.io/freehold/runtime:0.1.0" });
 * ```
 */
export function translateMcpServer(
  server: McpServer,
  cluster: ClusterView,
  options: TranslateOptions,
): McpServerTranslation {
  const namespace = server.metadata.namespace ?? "default";
  const name = server.metadata.name;
  const valued = [
    ...(server.spec.http?.headers ?? []).map((header) => ({ ...header, what: `header ${header.name}` })),
    ...(server.spec.sse?.headers ?? []).map((header) => ({ ...header, what: `header ${header.name}` })),
    ...(server.spec.stdio?.env ?? []).map((variable) => ({
      ...variable,
      what: `environment variable ${variable.name}`,
    })),
  ];
  const references: SecretKeySelector[] = [];
  const problems: Problem[] = [];
  for (const item of valued) {
    if (item.secretKeyRef === undefined) continue;
    const problem = secretProblem(cluster, namespace, item.secretKeyRef, `${item.what} of MCPServer ${name}`);
    if (problem === undefined) references.push(item.secretKeyRef);
    else problems.push(problem);
  }
  const stdio = server.spec.stdio;
  if (stdio === undefined) {
    return { objects: [], complete: true, url: (server.spec.http ?? server.spec.sse)?.url ?? "", problems };
  }
  const url = bridgeUrl(namespace, name);
  // The bridge's token: the reconciler makes the Secret; until it is cached the bridge waits.
  const token = bridgeTokenReference(name);
  const tokenProblem = secretProblem(
    cluster,
    namespace,
    token,
    `the bridge token of MCPServer ${name}, made by the operator`,
  );
  if (tokenProblem === undefined) references.push(token);
  else problems.push(tokenProblem);
  if (problems.length > 0) {
    return {
      objects: [
        bridgeServiceAccount(server),
        bridgeService(server),
        bridgeNetworkPolicy(server, cluster, options),
      ],
      complete: false,
      url,
      problems,
    };
  }
  const hash = shortHash([canonicalJson(stdio), ...secretDigests(cluster, namespace, references)]);
  return {
    objects: [
      bridgeServiceAccount(server),
      bridgeDeployment(server, stdio, hash, options),
      bridgeService(server),
      bridgeNetworkPolicy(server, cluster, options),
    ],
    complete: true,
    url,
    problems,
  };
}

/**
 * The Ready condition of an MCPServer: its Secrets resolve and the operator could list its tools.
 *
 * @example
 * ```ts
 * mcpServerReadyCondition(translation, { ok: false, error: "could not discover tools at http://billing-mcp:8080/mcp" });
 * ```
 */
export function mcpServerReadyCondition(
  translation: McpServerTranslation,
  discovery: ToolDiscovery | undefined,
): ConditionDraft {
  const [first] = translation.problems;
  if (first !== undefined) {
    return falseCondition(
      "Ready",
      first.reason,
      translation.problems.map((problem) => problem.message).join("; "),
    );
  }
  if (discovery === undefined) {
    return {
      type: "Ready",
      status: "Unknown",
      reason: "Connecting",
      message: `connecting to ${translation.url}`,
    };
  }
  if (!discovery.ok) {
    // The error is generic by design (tool-discovery.ts): the detail is in the operator's log.
    return falseCondition("Ready", "Unreachable", discovery.error);
  }
  const names = discovery.tools.map((tool) => tool.name);
  return trueCondition(
    "Ready",
    "ToolsDiscovered",
    `${names.length} tool${names.length === 1 ? "" : "s"}${names.length === 0 ? "" : `: ${names.join(", ")}`}`,
  );
}
