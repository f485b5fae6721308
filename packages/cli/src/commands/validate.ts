/**
 * `freehold validate <path...>`: checks manifests (files or folders of .yaml/.yml) against the same
 * schemas and rules the API server enforces, without a cluster.
 *
 * @module
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { FreeholdError, isFreeholdError, parseManifests, type Resource } from "@freehold/api";
import type { Output } from "../output.ts";

/** The .yaml/.yml files under `folder`, outside `node_modules` (a code folder's packages carry YAML of their own). */
function yamlFilesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    const isFolder =
      entry.isDirectory() ||
      (entry.isSymbolicLink() && statSync(path, { throwIfNoEntry: false })?.isDirectory() === true);
    if (isFolder) return entry.name === "node_modules" ? [] : yamlFilesUnder(path);
    return entry.isFile() && /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

/** Every .yaml/.yml file under the given paths (not in `node_modules`), sorted. */
export function manifestFiles(paths: readonly string[]): string[] {
  return paths.flatMap((path) => {
    let stats;
    try {
      stats = statSync(path);
    } catch {
      throw new FreeholdError("cli.path-not-found", `${path}: no such file or folder`);
    }
    if (!stats.isDirectory()) return [path];
    return yamlFilesUnder(path).sort();
  });
}

/** The outcome of validating some files. */
export interface ValidationSummary {
  readonly resources: Resource[];
  readonly failures: number;
}

/**
 * Validates every manifest under `paths`, printing one line a resource and every problem found.
 *
 * @example
 * ```ts
 * const { failures } = validateCommand(["examples/"], processOutput());
 * ```
 */
export function validateCommand(
  paths: readonly string[],
  output: Output,
  cwd = process.cwd(),
): ValidationSummary {
  const resources: Resource[] = [];
  let failures = 0;
  for (const file of manifestFiles(paths)) {
    const name = relative(cwd, file) || file;
    try {
      const parsed = parseManifests(readFileSync(file, "utf8"), name);
      for (const resource of parsed) {
        const namespace = resource.metadata.namespace === undefined ? "" : `${resource.metadata.namespace}/`;
        output.stdout(`ok    ${name}: ${resource.kind} ${namespace}${resource.metadata.name}\n`);
      }
      resources.push(...parsed);
    } catch (error) {
      if (!isFreeholdError(error)) throw error;
      failures += 1;
      output.stdout(`error ${error.message}\n`);
    }
  }
  return { resources, failures };
}
