/**
 * The MCPServer reconciler: makes a stdio server's bridge token Secret, applies its bridge
 * Deployment, Service and NetworkPolicy, connects to the
 * server to list its tools, and writes `status.url`, `status.tools` and Ready. Tools are listed
 * again when the spec or its Secrets change, every `refreshMs` while it works, and with backoff
 * while it fails. In a namespace the operator does not serve it gets no bridge and no listing
 * (`NamespaceNotServed`).
 *
 * @module
 */
import { bridgeAuthorizationReference } from "./bridge-address.ts";
import { ensureBridgeToken, removeBridgeToken } from "./bridge-token.ts";
import { canonicalJson, digest } from "./canonical-json.ts";
import { parseStored } from "./cluster-view.ts";
import { splitObjectKey } from "./names.ts";
import { applyAll, pruneOwned, servingGate, type Reconcile, type ReconcileParts } from "./reconcile-parts.ts";
import { resourceTypes } from "./resource-types.ts";
import { updateStatus } from "./status-update.ts";
import { discoverTools } from "./tool-discovery.ts";
import { mcpServerReadyCondition, translateMcpServer, type ToolDiscovery } from "./translate-mcp-server.ts";

/** Options of {@link createMcpServerReconciler}. */
export interface McpServerReconcilerOptions {
  /** How often a working server's tools are listed again. Default: 5 minutes. */
  readonly refreshMs?: number;
  /** How soon a failing server is tried again. Default: 30 s. */
  readonly retryMs?: number;
  /** How long one listing may take. Default: 10 s. */
  readonly timeoutMs?: number;
  /**
   * Connect to loopback, link-local, cloud metadata and unspecified addresses too
   * (`FREEHOLD_DISCOVERY_ALLOW_INTERNAL=true`; development and tests). Default: false.
   */
  readonly allowInternalAddresses?: boolean;
}

interface Discovered {
  /** What the listing depended on: spec, URL and Secret values (hashed). */
  readonly fingerprint: string;
  readonly at: number;
  readonly result: ToolDiscovery;
}

/**
 * @example
 * ```ts
 * await createMcpServerReconciler(parts)("acme/billing-api");
 * ```
 */
export function createMcpServerReconciler(
  parts: ReconcileParts,
  options: McpServerReconcilerOptions = {},
): Reconcile {
  const refreshMs = options.refreshMs ?? 300_000;
  const retryMs = options.retryMs ?? 30_000;
  const discovered = new Map<string, Discovered>();
  return async (key) => {
    const { namespace, name } = splitObjectKey(key);
    const stored = parts.cache.mcpServers.get(namespace, name);
    const server = parseStored("MCPServer", stored);
    if (stored === undefined || server === undefined || stored.metadata.deletionTimestamp !== undefined) {
      discovered.delete(key);
      return {};
    }
    const gate = servingGate(parts, namespace);
    if (gate.kind === "waiting") return {};
    if (gate.kind === "not-served") {
      discovered.delete(key);
      await pruneOwned(parts, stored, []);
      await updateStatus(parts, resourceTypes.mcpServers, stored, [gate.condition], {}, parts.now());
      return {};
    }
    if (server.spec.stdio === undefined) await removeBridgeToken(parts, stored);
    else await ensureBridgeToken(parts, stored);
    const translation = translateMcpServer(server, parts.cache.view, parts.translate);
    await applyAll(parts, translation.objects);
    if (translation.complete) await pruneOwned(parts, stored, translation.objects);

    let result: ToolDiscovery | undefined;
    let requeueAfterMs: number | undefined;
    if (translation.problems.length === 0) {
      const secretValues = [
        ...(server.spec.http?.headers ?? []),
        ...(server.spec.sse?.headers ?? []),
        ...(server.spec.stdio === undefined ? [] : [{ secretKeyRef: bridgeAuthorizationReference(name) }]),
      ].map((header) =>
        header.secretKeyRef === undefined
          ? ""
          : digest(
              parts.cache.view.secret(namespace, header.secretKeyRef.name)?.data?.[header.secretKeyRef.key] ??
                "",
            ),
      );
      const fingerprint = canonicalJson([server.spec, translation.url, secretValues]);
      const previous = discovered.get(key);
      const age = previous === undefined ? Infinity : parts.now().getTime() - previous.at;
      const due =
        previous === undefined ||
        previous.fingerprint !== fingerprint ||
        age >= (previous.result.ok ? refreshMs : retryMs);
      if (due) {
        result = await discoverTools(server, {
          url: translation.url,
          resolveSecret: (reference) => {
            const value = parts.cache.view.secret(namespace, reference.name)?.data?.[reference.key];
            return value === undefined
              ? Promise.reject(new Error(`Secret ${reference.name} has no key ${reference.key}`))
              : Promise.resolve(Buffer.from(value, "base64").toString("utf8"));
          },
          ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
          ...(options.allowInternalAddresses === undefined
            ? {}
            : { allowInternalAddresses: options.allowInternalAddresses }),
          log: parts.log,
        });
        discovered.set(key, { fingerprint, at: parts.now().getTime(), result });
        requeueAfterMs = result.ok ? refreshMs : retryMs;
      } else {
        result = previous.result;
        requeueAfterMs = Math.max(1_000, (previous.result.ok ? refreshMs : retryMs) - age);
      }
    }
    const ready = mcpServerReadyCondition(translation, result);
    const tools = result?.ok === true ? result.tools : server.status?.tools;
    await updateStatus(
      parts,
      resourceTypes.mcpServers,
      stored,
      [ready],
      { url: translation.url, tools },
      parts.now(),
    );
    return requeueAfterMs === undefined ? {} : { requeueAfterMs };
  };
}
