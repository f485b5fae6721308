/**
 * Every resource kind, and the lookup by `kind` that manifest parsing uses.
 *
 * @module
 */
import { Agent } from "./agent.ts";
import { HumanQueue } from "./human-queue.ts";
import { McpServer } from "./mcp-server.ts";
import { Model } from "./model.ts";
import type { ResourceKind } from "./resource.ts";
import { Tenant } from "./tenant.ts";

/** Every kind, in the order CRDs are printed. */
export const resourceKinds: readonly ResourceKind[] = [Agent, Model, McpServer, HumanQueue, Tenant];

/** The kind with the given name (`Agent`), or undefined. */
export function findResourceKind(kind: string): ResourceKind | undefined {
  return resourceKinds.find((candidate) => candidate.kind === kind);
}
