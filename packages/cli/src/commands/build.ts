/**
 * `freehold build <entry.ts>`: the manifests of the definitions an entry module exports
 * (`defineAgent`, `defineModel`, `defineHumanQueue`, `defineMCPServer` of `@freehold/sdk`), as one
 * YAML stream: validated by the manifest parser, and deterministic (models, MCP servers, human
 * queues, then agents; each kind by namespace and name), so the same code gives the same text.
 *
 * Definitions are found by the mark the SDK puts on them (`Symbol.for("freehold.dev/definition")`),
 * so the entry's own copy of the SDK is used, whatever its version, and the CLI does not load it.
 *
 * @module
 */
import { existsSync, writeFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { FreeholdError, isFreeholdError, parseManifest, type Resource } from "@freehold/api";
import { stringify } from "yaml";
import type { Output } from "../output.ts";

/** The SDK's mark on a definition (`definitionMark` of `@freehold/sdk`). */
const definitionMark = Symbol.for("freehold.dev/definition");

/** The order kinds are written in: what others refer to first. */
const kindOrder = ["Model", "MCPServer", "HumanQueue", "Agent"];

/** Options of {@link buildCommand}. */
export interface BuildOptions {
  /** The entry module, relative to `cwd`. */
  readonly entry: string;
  readonly cwd: string;
  /** Write the YAML to this file instead of standard output. */
  readonly outputFile?: string;
}

/** A definition an entry module exports, and where. */
export interface Found {
  readonly where: string;
  readonly definition: object;
  readonly resource: Resource;
}

/**
 * The definitions an entry module exports, each parsed as its manifest; one resource defined twice
 * is refused.
 *
 * @throws FreeholdError `cli.path-not-found`, `build.entry-failed` (the module threw while loading),
 *   `manifest.invalid`, `build.no-definitions` or `build.duplicate-resource`.
 */
export async function loadDefinitions(entryPath: string, cwd: string): Promise<Found[]> {
  const path = resolve(cwd, entryPath);
  const entry = relative(cwd, path) || path;
  if (!existsSync(path)) throw new FreeholdError("cli.path-not-found", `${entry}: no such file`);
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    if (isFreeholdError(error)) throw error;
    throw new FreeholdError(
      "build.entry-failed",
      `failed to load ${entry}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, details: { entry } },
    );
  }

  const found: Found[] = [];
  const add = (where: string, value: unknown): void => {
    if (typeof value !== "object" || value === null || !(definitionMark in value)) return;
    if (found.some((earlier) => earlier.definition === value)) return; // one definition exported twice
    const { manifest } = value as { manifest?: unknown };
    found.push({ where, definition: value, resource: parseManifest(manifest, `${entry} (${where})`) });
  };
  for (const [name, value] of Object.entries(exports)) {
    if (!Array.isArray(value)) add(`export ${name}`, value);
    else
      value.forEach((item, index) => {
        add(`export ${name}[${index}]`, item);
      });
  }
  if (found.length === 0) {
    throw new FreeholdError(
      "build.no-definitions",
      `${entry} exports no definitions: export what defineAgent, defineModel, defineHumanQueue and ` +
        "defineMCPServer of @freehold/sdk return (or arrays of them)",
      { details: { entry } },
    );
  }

  const seen = new Map<string, string>();
  for (const { where, resource } of found) {
    const key = `${resource.kind} ${resource.metadata.namespace === undefined ? "" : `${resource.metadata.namespace}/`}${resource.metadata.name}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw new FreeholdError(
        "build.duplicate-resource",
        `${entry}: ${key} is defined by ${first} and again by ${where}; keep one definition per resource`,
        { details: { entry, resource: key, exports: [first, where] } },
      );
    }
    seen.set(key, where);
  }
  return found;
}

/**
 * Builds the manifests of an entry module's exported definitions and returns the resources.
 *
 * @throws FreeholdError as {@link loadDefinitions} does.
 * @example
 * ```ts
 * await buildCommand({ entry: "src/agents.ts", cwd: process.cwd() }, processOutput());
 * ```
 */
export async function buildCommand(options: BuildOptions, output: Output): Promise<Resource[]> {
  const path = resolve(options.cwd, options.entry);
  const entry = relative(options.cwd, path) || path;
  const found = await loadDefinitions(options.entry, options.cwd);
  const { yaml, resources } = manifestsOf(found);
  if (options.outputFile === undefined) output.stdout(yaml);
  else writeFileSync(resolve(options.cwd, options.outputFile), yaml);
  output.stderr(`built ${resources.length} manifests from ${entry}\n`);
  return resources;
}

/**
 * The definitions' manifests as one YAML stream, in a fixed order (models, MCP servers, human queues,
 * agents; each kind by namespace and name), and their resources in that order.
 */
export function manifestsOf(found: readonly Found[]): { yaml: string; resources: Resource[] } {
  const sorted = found.toSorted(
    (a, b) =>
      kindOrder.indexOf(a.resource.kind) - kindOrder.indexOf(b.resource.kind) ||
      compare(a.resource.metadata.namespace ?? "", b.resource.metadata.namespace ?? "") ||
      compare(a.resource.metadata.name, b.resource.metadata.name),
  );
  const yaml = sorted
    .map(({ definition }) => stringify((definition as { manifest: unknown }).manifest, { lineWidth: 0 }))
    .join("---\n");
  return { yaml, resources: sorted.map(({ resource }) => resource) };
}

/** Code-unit order: the same on every machine, whatever its locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
