/**
 * `freehold build <entry.ts>`: the manifests of the definitions an entry module exports
 * (`defineAgent`, `defineModel`, `defineHumanQueue`, `defineMCPServer` of `@freehold/sdk`), as one
 * YAML stream: validated by the manifest parser, and deterministic (models, MCP servers, human
 * queues, then agents; each kind by namespace and name), so the same code gives the same text.
 *
 * Definitions are found by the mark the SDK puts on them (`Symbol.for("freehold.dev/definition")`),
 * so the entry's own copy of the SDK is used, whatever its version, and the CLI does not load it.
 *
 * Tool servers (`defineToolServer`) are MCPServers reached at their `http.url`, where you serve
 * them (`serveTools`); with `--tool-image <image>` each is written instead as a stdio MCPServer the
 * operator runs in that image: `freehold tools serve <entry> --server <name>` behind its bridge,
 * with the Service, token and NetworkPolicy the operator makes for every stdio server. The image is
 * the project (in `--tool-workdir`, default `/app`, with its `node_modules`) on Freehold's runtime
 * image; the entry's path in it is its path from the folder `freehold build` runs in.
 *
 * @module
 */
import { existsSync, writeFileSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { FreeholdError, isFreeholdError, parseManifest, type Resource } from "@freehold/api";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
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
  /** Write tool servers as stdio MCPServers the operator runs from this image. */
  readonly toolImage?: { readonly image: string; readonly workingDir: string };
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

/** A tool server an entry defines: an MCPServer definition that can serve its tools in this process. */
export interface FoundToolServer extends Found {
  readonly connectInProcess: () => Promise<Transport>;
}

/** The tool servers (`defineToolServer` of `@freehold/sdk`) among an entry's definitions. */
export function toolServersOf(found: readonly Found[]): FoundToolServer[] {
  return found.flatMap((item) => {
    const connect = (item.definition as { connectInProcess?: unknown }).connectInProcess;
    if (item.resource.kind !== "MCPServer" || typeof connect !== "function") return [];
    return [{ ...item, connectInProcess: () => (connect as () => Promise<Transport>).call(item.definition) }];
  });
}

/**
 * The definitions with each tool server replaced by its stdio form, which the operator runs from
 * `image` (`deployable` of the SDK's tool server definition).
 *
 * @throws FreeholdError `build.entry-outside-project` (the entry is not under `cwd`, so it has no
 *   path in the image), `build.tool-image-unsupported` (an SDK without `deployable`), `manifest.invalid`.
 */
function deployedToolServers(
  found: readonly Found[],
  entry: string,
  toolImage: NonNullable<BuildOptions["toolImage"]>,
): Found[] {
  if (entry.startsWith(`..${sep}`) || isAbsolute(entry)) {
    throw new FreeholdError(
      "build.entry-outside-project",
      `${entry} is outside the folder freehold build runs in, so it has no path in the tool image: run freehold build from the project's root`,
      { details: { entry } },
    );
  }
  const servers = new Set<object>(toolServersOf(found).map((server) => server.definition));
  return found.map((item) => {
    if (!servers.has(item.definition)) return item;
    const { deployable } = item.definition as { deployable?: unknown };
    if (typeof deployable !== "function") {
      throw new FreeholdError(
        "build.tool-image-unsupported",
        `${entry} (${item.where}): this tool server's @freehold/sdk cannot be deployed with --tool-image; update @freehold/sdk`,
        { details: { entry } },
      );
    }
    const definition = (deployable as (options: object) => object).call(item.definition, {
      image: toolImage.image,
      entry: entry.split(sep).join("/"),
      workingDir: toolImage.workingDir,
    });
    const { manifest } = definition as { manifest?: unknown };
    return { where: item.where, definition, resource: parseManifest(manifest, `${entry} (${item.where})`) };
  });
}

/**
 * Builds the manifests of an entry module's exported definitions and returns the resources.
 *
 * @throws FreeholdError as {@link loadDefinitions} does, and `build.entry-outside-project` with
 *   `toolImage` when the entry is not under `cwd`.
 * @example
 * ```ts
 * await buildCommand({ entry: "src/agents.ts", cwd: process.cwd() }, processOutput());
 * ```
 */
export async function buildCommand(options: BuildOptions, output: Output): Promise<Resource[]> {
  const path = resolve(options.cwd, options.entry);
  const entry = relative(options.cwd, path) || path;
  const loaded = await loadDefinitions(options.entry, options.cwd);
  const servers = toolServersOf(loaded);
  const found =
    options.toolImage === undefined ? loaded : deployedToolServers(loaded, entry, options.toolImage);
  const { yaml, resources } = manifestsOf(found);
  if (options.outputFile === undefined) output.stdout(yaml);
  else writeFileSync(resolve(options.cwd, options.outputFile), yaml);
  output.stderr(`built ${resources.length} manifests from ${entry}\n`);
  if (options.toolImage !== undefined && servers.length === 0) {
    output.stderr(
      `--tool-image: ${entry} defines no tool servers (defineToolServer); nothing was run from the image\n`,
    );
  }
  if (options.toolImage === undefined) {
    for (const server of servers) {
      const { http } = server.resource.spec as { http?: { url: string } };
      output.stderr(
        `tool server ${server.resource.metadata.name}: agents reach it at ${http?.url ?? "its URL"}; serve its tools there (serveTools), or build with --tool-image <image> to have the operator run them\n`,
      );
    }
  }
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
