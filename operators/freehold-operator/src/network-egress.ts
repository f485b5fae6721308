/**
 * Where a URL leads, as a NetworkPolicy egress rule: an in-cluster Service
 * (`<service>.<namespace>.svc[.cluster.local]`) is that namespace on the URL's port; an IP literal
 * is that address alone; any other host name is the internet (everything but private, loopback and
 * link-local ranges) on the URL's port, since its addresses are not known in advance. Rules with the
 * same peers are merged, so a policy stays short and its text stable.
 *
 * @module
 */
import { isIP } from "node:net";
import { canonicalJson } from "./canonical-json.ts";
import type { NetworkPolicyPeer, NetworkPolicyPort } from "./kubernetes-objects.ts";
import { labelKeys } from "./names.ts";

/** An egress rule: where to, on which ports (all ports when absent). */
export interface EgressRule {
  readonly to: readonly NetworkPolicyPeer[];
  readonly ports?: readonly NetworkPolicyPort[];
}

/** The IPv4 ranges that are not the internet: private, loopback, link-local, shared (CGNAT). */
export const nonPublicIpv4 = [
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.168.0.0/16",
];

/** The IPv6 ranges that are not the internet: loopback, unique local, link-local. */
export const nonPublicIpv6 = ["::1/128", "fc00::/7", "fe80::/10"];

const defaultPorts: Readonly<Record<string, number>> = {
  "http:": 80,
  "https:": 443,
  "ws:": 80,
  "wss:": 443,
  "redis:": 6379,
  "rediss:": 6379,
};

/** The peers of the internet: everything except {@link nonPublicIpv4} and {@link nonPublicIpv6}. */
export function internetPeers(): NetworkPolicyPeer[] {
  return [
    { ipBlock: { cidr: "0.0.0.0/0", except: nonPublicIpv4 } },
    { ipBlock: { cidr: "::/0", except: nonPublicIpv6 } },
  ];
}

/** The peer of every pod of one namespace. */
export function namespacePeer(namespace: string): NetworkPolicyPeer {
  return { namespaceSelector: { matchLabels: { [labelKeys.namespaceName]: namespace } } };
}

/**
 * The egress rule a URL needs, or undefined for a URL that stays in its own namespace (a bare
 * Service name) or cannot be read.
 *
 * @example
 * ```ts
 * egressRuleForUrl("http://vllm.models.svc:8000/v1");
 * // { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "models" } } }], ports: [{ protocol: "TCP", port: 8000 }] }
 * ```
 */
export function egressRuleForUrl(url: string): EgressRule | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const host = parsed.hostname
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "")
    .toLowerCase();
  const port = parsed.port === "" ? defaultPorts[parsed.protocol] : Number(parsed.port);
  if (host === "" || port === undefined) return undefined;
  const ports: NetworkPolicyPort[] = [{ protocol: "TCP", port }];
  const family = isIP(host);
  if (family !== 0) return { to: [{ ipBlock: { cidr: `${host}/${family === 4 ? 32 : 128}` } }], ports };
  const service = /^[a-z0-9-]+\.([a-z0-9-]+)\.svc(\.cluster\.local)?$/.exec(host);
  if (service?.[1] !== undefined) return { to: [namespacePeer(service[1])], ports };
  // A bare name resolves in the pod's own namespace, which the tenant's rule already allows.
  if (!host.includes(".")) return undefined;
  return { to: internetPeers(), ports };
}

function portKey(port: NetworkPolicyPort): string {
  return `${port.protocol}/${String(port.port).padStart(5, "0")}`;
}

/**
 * Merges rules with the same peers (their ports joined; a rule without ports allows every port),
 * sorted so that the same rules always give the same text.
 */
export function mergeEgressRules(rules: readonly EgressRule[]): EgressRule[] {
  const merged = new Map<
    string,
    { to: readonly NetworkPolicyPeer[]; ports: Map<string, NetworkPolicyPort> | undefined }
  >();
  for (const rule of rules) {
    const key = canonicalJson(rule.to);
    const existing = merged.get(key);
    const ports =
      rule.ports === undefined ? undefined : new Map(rule.ports.map((port) => [portKey(port), port]));
    if (existing === undefined) {
      merged.set(key, { to: rule.to, ports });
    } else if (existing.ports !== undefined) {
      if (ports === undefined) existing.ports = undefined;
      else for (const [portName, port] of ports) existing.ports.set(portName, port);
    }
  }
  return [...merged.entries()]
    .sort(([left], [right]) => left.localeCompare(right))
    .map(([, rule]) =>
      rule.ports === undefined
        ? { to: rule.to }
        : {
            to: rule.to,
            ports: [...rule.ports.entries()]
              .sort(([left], [right]) => left.localeCompare(right))
              .map(([, port]) => port),
          },
    );
}
