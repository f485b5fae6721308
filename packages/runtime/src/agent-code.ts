/**
 * Loads the team's own framework code that an agent is (`spec.code`, native mode of an adapter):
 * a module file inside the worker's code root, and one export of it. The path is checked after
 * symbolic links are followed, so a manifest cannot load a file outside the root; each module is
 * imported once per process.
 *
 * @module
 */
import { realpath } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { FreeholdError, type AgentCode } from "@freehold/api";

const modules = new Map<string, Promise<Record<string, unknown>>>();

/**
 * The export `code.export` of the module `code.module` under `root`.
 *
 * Errors: `agent.code-outside-root` (the path leaves the root), `agent.code-not-found` (no such
 * file), `agent.code-import-failed` (the module throws or does not parse), `agent.code-export-missing`.
 *
 * @example
 * ```ts
 * const agent = await loadAgentCode({ module: "agents/support.ts", export: "support" }, "/app");
 * ```
 */
export async function loadAgentCode(code: AgentCode, root: string): Promise<unknown> {
  const rootPath = await realpath(root).catch(() => {
    throw new FreeholdError(
      "agent.code-not-found",
      `the code root ${root} does not exist; start the worker with --code-root set to the folder that holds the agents' code`,
      { details: { root } },
    );
  });
  const wanted = resolve(rootPath, code.module);
  if (!inside(rootPath, wanted)) throw outside(code, rootPath);
  const file = await realpath(wanted).catch(() => {
    throw new FreeholdError(
      "agent.code-not-found",
      `spec.code.module ${code.module} is not a file under the code root ${rootPath}; check the path, or put the module in the worker's image (or the freehold dev folder)`,
      { details: { module: code.module, root: rootPath } },
    );
  });
  if (!inside(rootPath, file)) throw outside(code, rootPath);
  let loading = modules.get(file);
  if (loading === undefined) {
    loading = import(pathToFileURL(file).href) as Promise<Record<string, unknown>>;
    modules.set(file, loading);
  }
  let namespace: Record<string, unknown>;
  try {
    namespace = await loading;
  } catch (error) {
    modules.delete(file);
    throw new FreeholdError(
      "agent.code-import-failed",
      `importing ${code.module} failed: ${error instanceof Error ? error.message : String(error)}; fix the module (run it with node to see the whole error)`,
      { details: { module: code.module }, cause: error },
    );
  }
  if (!(code.export in namespace) || namespace[code.export] === undefined) {
    const exports = Object.keys(namespace).filter((key) => namespace[key] !== undefined);
    throw new FreeholdError(
      "agent.code-export-missing",
      `${code.module} has no export ${code.export} (its exports: ${exports.join(", ") || "none"}); set spec.code.export to one of them`,
      { details: { module: code.module, export: code.export, exports } },
    );
  }
  return namespace[code.export];
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel);
}

function outside(code: AgentCode, root: string): FreeholdError {
  return new FreeholdError(
    "agent.code-outside-root",
    `spec.code.module ${code.module} leads outside the code root ${root}; agents' code must be inside it`,
    { details: { module: code.module, root } },
  );
}
