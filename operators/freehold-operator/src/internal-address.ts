/**
 * Addresses the operator does not connect to on a manifest's say-so: loopback, link-local (where
 * cloud metadata services live), cloud metadata endpoints and unspecified addresses. An MCPServer
 * URL is written by whoever may create MCPServers; without this, the operator's tool discovery
 * would reach its own pod's ports, the node's metadata service and its credentials for them.
 * Private ranges (10/8, 172.16/12, 192.168/16, fc00::/7) stay allowed: in-cluster Services live there.
 *
 * @module
 */
import { BlockList, isIP } from "node:net";

/** Host names of cloud metadata services, refused before any lookup. */
const metadataHostNames = new Set(["metadata.google.internal", "metadata.goog", "metadata"]);

const refused = new BlockList();
refused.addSubnet("127.0.0.0", 8, "ipv4"); // loopback
refused.addSubnet("169.254.0.0", 16, "ipv4"); // link-local, 169.254.169.254 (AWS, GCP, Azure, ...) among them
refused.addSubnet("0.0.0.0", 8, "ipv4"); // unspecified, "this network"
refused.addAddress("::1", "ipv6"); // loopback
refused.addAddress("::", "ipv6"); // unspecified
refused.addSubnet("fe80::", 10, "ipv6"); // link-local
refused.addAddress("fd00:ec2::254", "ipv6"); // AWS metadata over IPv6

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`), else the address. */
function unmapped(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

/**
 * Whether the operator refuses to connect to an IP address.
 *
 * @example
 * ```ts
 * isInternalAddress("169.254.169.254"); // true
 * isInternalAddress("10.96.0.12"); // false: a ClusterIP
 * ```
 */
export function isInternalAddress(address: string): boolean {
  const plain = unmapped(address.replace(/^\[|\]$/g, "").replace(/%.*$/, ""));
  const family = isIP(plain);
  if (family === 0) return false;
  return refused.check(plain, family === 4 ? "ipv4" : "ipv6");
}

/**
 * Whether a host name is a cloud metadata service's, refused whatever it resolves to.
 *
 * @example
 * ```ts
 * isMetadataHostName("metadata.google.internal."); // true
 * ```
 */
export function isMetadataHostName(host: string): boolean {
  return metadataHostNames.has(host.toLowerCase().replace(/\.$/, ""));
}
