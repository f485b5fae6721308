/**
 * The NetworkPolicy `freehold-tenant` of one tenant namespace. Ingress only from the tenant's own
 * namespaces and from Freehold's gateway and operator pods (and, when configured, from Prometheus's
 * namespaces on the workers' health port, for `/metrics`). Egress only to the tenant's own
 * namespaces, DNS in kube-system, Redis, and the endpoints of the namespace's Models and
 * MCPServers ({@link egressRuleForUrl}). Policies need a CNI that enforces them.
 *
 * @module
 */
import type { McpServer, Model } from "@freehold/api";
import type { NetworkPolicy, NetworkPolicyPeer } from "./kubernetes-objects.ts";
import { labelKeys, tenantObjectNames } from "./names.ts";
import {
  egressRuleForUrl,
  internetPeers,
  mergeEgressRules,
  namespacePeer,
  type EgressRule,
} from "./network-egress.ts";
import { redisEndpoints } from "./redis-url.ts";

/** What one namespace's policy is made from. */
export interface TenantNetworkPolicyInput {
  readonly namespace: string;
  /** The namespaces the tenant owns (this one among them). */
  readonly tenantNamespaces: readonly string[];
  /** Where the gateway, the operator and the chart's Redis run. */
  readonly operatorNamespace: string;
  /** Where workers reach Redis; absent: no Redis rule. */
  readonly redisUrl: string | undefined;
  readonly models: readonly Model[];
  readonly mcpServers: readonly McpServer[];
  readonly labels: Readonly<Record<string, string>>;
  /** Prometheus: the namespaces it scrapes from and the workers' health port, where `/metrics` is. */
  readonly metricsScrapers?: { readonly namespaces: readonly string[]; readonly port: number };
}

function freeholdPods(namespace: string, components: readonly string[]): NetworkPolicyPeer {
  return {
    namespaceSelector: { matchLabels: { [labelKeys.namespaceName]: namespace } },
    podSelector: {
      matchLabels: { [labelKeys.partOf]: "freehold" },
      matchExpressions: [{ key: labelKeys.component, operator: "In", values: [...components] }],
    },
  };
}

/** A rule to each endpoint of the workers' Redis: its one endpoint, or every node a cluster URL names. */
function redisRules(url: string, operatorNamespace: string): (EgressRule | undefined)[] {
  return redisEndpoints(url).map(({ host, port }) => redisRule(host, port, operatorNamespace));
}

function redisRule(host: string, port: number, operatorNamespace: string): EgressRule | undefined {
  const service = /^[a-z0-9-]+\.([a-z0-9-]+)\.svc(\.cluster\.local)?\.?$/.exec(host.toLowerCase());
  if (service?.[1] === operatorNamespace) {
    return { to: [freeholdPods(operatorNamespace, ["redis"])], ports: [{ protocol: "TCP", port }] };
  }
  return egressRuleForUrl(`redis://${host.includes(":") ? `[${host}]` : host}:${port}`);
}

const hostedProviders = new Set(["openai", "anthropic", "gemini"]);

function modelRule(model: Model): EgressRule | undefined {
  if (model.spec.baseUrl !== undefined) return egressRuleForUrl(model.spec.baseUrl);
  // A hosted provider's public API, over HTTPS.
  if (hostedProviders.has(model.spec.provider)) {
    return { to: internetPeers(), ports: [{ protocol: "TCP", port: 443 }] };
  }
  return undefined;
}

function serverRule(server: McpServer): EgressRule | undefined {
  const url = (server.spec.http ?? server.spec.sse)?.url;
  return url === undefined ? undefined : egressRuleForUrl(url);
}

/**
 * The policy of one tenant namespace.
 *
 * @example
 * ```ts
 * tenantNetworkPolicy({ namespace: "acme", tenantNamespaces: ["acme"], operatorNamespace: "freehold-system",
 *   redisUrl: "redis://freehold-redis.freehold-system.svc:6379", models, mcpServers, labels });
 * ```
 */
export function tenantNetworkPolicy(input: TenantNetworkPolicyInput): NetworkPolicy {
  const own = new Set(input.tenantNamespaces);
  const tenantPeer: NetworkPolicyPeer = {
    namespaceSelector: {
      matchExpressions: [
        { key: labelKeys.namespaceName, operator: "In", values: [...input.tenantNamespaces].sort() },
      ],
    },
  };
  const needed = [
    ...input.models.map(modelRule),
    ...input.mcpServers.map(serverRule),
    ...(input.redisUrl === undefined ? [] : redisRules(input.redisUrl, input.operatorNamespace)),
  ].filter((rule): rule is EgressRule => rule !== undefined);
  // The tenant's own namespaces are open on every port already.
  const outside = needed.filter(
    (rule) =>
      !rule.to.every((peer) => {
        const name = peer.namespaceSelector?.matchLabels?.[labelKeys.namespaceName];
        return name !== undefined && peer.podSelector === undefined && own.has(name);
      }),
  );
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: tenantObjectNames.tenant, namespace: input.namespace, labels: input.labels },
    spec: {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        { from: [tenantPeer, freeholdPods(input.operatorNamespace, ["gateway", "operator"])] },
        ...(input.metricsScrapers === undefined || input.metricsScrapers.namespaces.length === 0
          ? []
          : [
              {
                from: [
                  {
                    namespaceSelector: {
                      matchExpressions: [
                        {
                          key: labelKeys.namespaceName,
                          operator: "In" as const,
                          values: [...input.metricsScrapers.namespaces].sort(),
                        },
                      ],
                    },
                  },
                ],
                ports: [{ protocol: "TCP" as const, port: input.metricsScrapers.port }],
              },
            ]),
      ],
      egress: mergeEgressRules([
        { to: [tenantPeer] },
        {
          to: [namespacePeer("kube-system")],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
        ...outside,
      ]),
    },
  };
}
