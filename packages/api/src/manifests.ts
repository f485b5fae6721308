/**
 * Reading manifests: YAML or objects in, typed resources out, or a {@link FreeholdError} that names
 * the document, the resource and every offending field.
 *
 * @module
 */
import { parseAllDocuments } from "yaml";
import type { z } from "zod";
import type { Agent } from "./agent.ts";
import { FreeholdError } from "./errors.ts";
import type { HumanQueue } from "./human-queue.ts";
import type { McpServer } from "./mcp-server.ts";
import type { Model } from "./model.ts";
import { apiVersion } from "./names.ts";
import { findResourceKind, resourceKinds } from "./resources.ts";
import type { Tenant } from "./tenant.ts";

/** Any Freehold resource. */
export type Resource = Agent | Model | McpServer | HumanQueue | Tenant;

/** One problem in a manifest: where (`spec.tools[0].allow`) and what. */
export interface ManifestIssue {
  readonly path: string;
  readonly message: string;
}

/** `["spec", "tools", 0, "allow"]` → `spec.tools[0].allow`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, index) =>
      typeof segment === "number" ? `[${segment}]` : `${index === 0 ? "" : "."}${String(segment)}`,
    )
    .join("");
}

function issuesOf(error: z.ZodError): ManifestIssue[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        path: formatPath([...issue.path, key]),
        message: `unknown field "${key}"`,
      }));
    }
    return [{ path: formatPath(issue.path), message: issue.message }];
  });
}

function describe(value: unknown): string {
  if (typeof value !== "object" || value === null) return "the manifest";
  const { kind, metadata } = value as { kind?: unknown; metadata?: { name?: unknown } };
  const name = typeof metadata?.name === "string" ? ` "${metadata.name}"` : "";
  return typeof kind === "string" ? `${kind}${name}` : "the manifest";
}

/**
 * Parses one manifest object into a typed resource, with defaults applied.
 *
 * @throws FreeholdError `manifest.invalid` with `details.issues` (`{path, message}[]`), or
 *   `manifest.unknown-kind` when apiVersion or kind is not Freehold's.
 * @example
 * ```ts
 * const agent = parseManifest({ apiVersion: "freehold.dev/v1alpha1", kind: "Agent",
 *   metadata: { name: "billing" }, spec: { model: { ref: "default" }, instructions: "Help." } });
 * agent.spec.limits.maxSteps; // 20
 * ```
 */
export function parseManifest(value: unknown, source = "manifest"): Resource {
  const { apiVersion: version, kind } = (typeof value === "object" && value !== null ? value : {}) as {
    apiVersion?: unknown;
    kind?: unknown;
  };
  const resourceKind = typeof kind === "string" ? findResourceKind(kind) : undefined;
  if (version !== apiVersion || resourceKind === undefined) {
    throw new FreeholdError(
      "manifest.unknown-kind",
      `${source}: apiVersion ${JSON.stringify(version)} kind ${JSON.stringify(kind)} is not a Freehold resource; ` +
        `expected apiVersion ${apiVersion} and kind one of ${resourceKinds.map((known) => known.kind).join(", ")}`,
      { details: { source, apiVersion: version, kind } },
    );
  }
  const result = resourceKind.schema.safeParse(value);
  if (!result.success) {
    const issues = issuesOf(result.error);
    throw new FreeholdError(
      "manifest.invalid",
      `${source}: ${describe(value)} is invalid:\n${issues.map((issue) => `  ${issue.path}: ${issue.message}`).join("\n")}`,
      { details: { source, issues } },
    );
  }
  return result.data as Resource;
}

/**
 * Parses a YAML stream of one or more manifests. Empty documents are skipped.
 *
 * @throws FreeholdError `manifest.yaml` for YAML syntax errors (with line and column), or any error of
 *   {@link parseManifest}, naming the document.
 */
export function parseManifests(text: string, source = "manifest"): Resource[] {
  const resources: Resource[] = [];
  parseAllDocuments(text).forEach((document, index) => {
    const where = `${source} (document ${index + 1})`;
    const [error] = document.errors;
    if (error !== undefined) {
      const position = error.linePos?.[0];
      throw new FreeholdError(
        "manifest.yaml",
        `${source}${position === undefined ? "" : `:${position.line}:${position.col}`}: not valid YAML: ${error.message}`,
        { details: { source } },
      );
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) return;
    resources.push(parseManifest(value, where));
  });
  return resources;
}
