/**
 * The bearer token of a stdio MCPServer's bridge: a Secret `<server>-mcp-token` the operator makes
 * with 32 random bytes, owned by the MCPServer (it goes with it), read by the bridge
 * (`FREEHOLD_MCP_BRIDGE_TOKEN`) and by the workers of the agents that use the server (the
 * `Authorization` header). A token is never replaced while it is there; deleting the Secret rotates
 * it: a new one is made, and the config hashes of the bridge and the workers change, so both roll.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { isFreeholdError } from "@freehold/api";
import { bridgeTokenKeys, bridgeTokenSecretName } from "./bridge-address.ts";
import type { KubernetesObject, Secret } from "./kubernetes-objects.ts";
import { ownerLabels, ownerReference } from "./names.ts";
import type { ReconcileParts } from "./reconcile-parts.ts";
import { secretText } from "./redis-secret.ts";
import { resourceTypes } from "./resource-types.ts";

/** The shortest token the bridge accepts; a shorter one in the Secret is replaced. */
const minimumTokenLength = 16;

function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

function ownedBy(secret: KubernetesObject | undefined, server: KubernetesObject): boolean {
  return (secret?.metadata.ownerReferences ?? []).some(
    (reference) => reference.controller === true && reference.uid === server.metadata.uid,
  );
}

/**
 * Makes the token Secret of a stdio MCPServer when it is missing or holds no usable token. Returns
 * true when it wrote one (the cache sees it shortly and queues the server and its agents again).
 *
 * @example
 * ```ts
 * await ensureBridgeToken(parts, storedServer);
 * ```
 */
export async function ensureBridgeToken(parts: ReconcileParts, server: KubernetesObject): Promise<boolean> {
  const namespace = server.metadata.namespace ?? "default";
  const name = bridgeTokenSecretName(server.metadata.name);
  const cached = parts.cache.secrets.get(namespace, name);
  const token = secretText(cached, bridgeTokenKeys.token);
  const authorization = secretText(cached, bridgeTokenKeys.authorization);
  if (token !== undefined && token.length >= minimumTokenLength && authorization === `Bearer ${token}`) {
    return false;
  }
  const fresh = randomBytes(32).toString("base64url");
  const owner = { kind: "MCPServer" as const, metadata: server.metadata };
  const secret: Secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace, labels: ownerLabels(owner), ownerReferences: [ownerReference(owner)] },
    type: "Opaque",
    data: {
      [bridgeTokenKeys.token]: base64(fresh),
      [bridgeTokenKeys.authorization]: base64(`Bearer ${fresh}`),
    },
  };
  if (cached !== undefined) {
    await parts.client.apply(secret);
  } else {
    try {
      await parts.client.create(secret);
    } catch (error) {
      // Made meanwhile (the cache is behind the API server): the next reconcile sees it.
      if (isFreeholdError(error, "kubernetes.conflict")) return false;
      throw error;
    }
  }
  parts.log(`MCPServer ${namespace}/${server.metadata.name}: made the bridge token Secret ${name}`);
  return true;
}

/**
 * Deletes the token Secret of an MCPServer that no longer runs a bridge (it moved to HTTP or SSE),
 * when the server owns it.
 */
export async function removeBridgeToken(parts: ReconcileParts, server: KubernetesObject): Promise<void> {
  const namespace = server.metadata.namespace ?? "default";
  const name = bridgeTokenSecretName(server.metadata.name);
  if (!ownedBy(parts.cache.secrets.get(namespace, name), server)) return;
  await parts.client.delete(resourceTypes.secrets, namespace, name);
}
