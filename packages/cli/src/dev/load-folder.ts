/**
 * Reads a folder of manifests into one {@link RuntimeConfig} per namespace, the same configuration
 * the operator renders for a cluster. Manifests without a namespace go to `default`.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { FreeholdError, parseManifests, RuntimeConfig, type Resource } from "@freehold/api";
import type { InProcessMcpConnection } from "@freehold/mcp";
import { loadDefinitions, manifestsOf, toolServersOf } from "../commands/build.ts";
import { manifestFiles } from "../commands/validate.ts";

/**
 * Every resource of the folder, parsed; the first bad manifest throws, naming file and field. A
 * stdio MCPServer's relative `workingDir` is taken relative to its manifest's folder.
 */
export function loadResources(directory: string, cwd: string): Resource[] {
  const files = manifestFiles([resolve(cwd, directory)]);
  if (files.length === 0) {
    throw new FreeholdError(
      "dev.empty-folder",
      `${directory} holds no .yaml manifests; point freehold dev at a folder of manifests`,
    );
  }
  const seen = new Map<string, string>();
  return files.flatMap((file) =>
    parseManifests(readFileSync(file, "utf8"), relative(cwd, file) || file).map((resource) => {
      // Two definitions of one resource: the cluster keeps the last applied, freehold dev would run both.
      const key = `${resource.kind} ${resource.metadata.namespace ?? "default"}/${resource.metadata.name}`;
      const where = relative(cwd, file) || file;
      const first = seen.get(key);
      if (first !== undefined) {
        throw new FreeholdError(
          "dev.duplicate-resource",
          `${key} is defined in ${first} and again in ${where}; keep one definition per resource in the folder (move manifests for another place, such as a cluster, out of it)`,
          { details: { resource: key, files: [first, where] } },
        );
      }
      seen.set(key, where);
      return withWorkingDirFrom(resource, dirname(file));
    }),
  );
}

/** A stdio MCPServer's relative `workingDir` taken relative to `folder`; other resources as they are. */
function withWorkingDirFrom(resource: Resource, folder: string): Resource {
  const stdio = resource.kind === "MCPServer" ? resource.spec.stdio : undefined;
  if (resource.kind !== "MCPServer" || stdio?.workingDir === undefined || isAbsolute(stdio.workingDir)) {
    return resource;
  }
  const workingDir = resolve(folder, stdio.workingDir);
  return { ...resource, spec: { ...resource.spec, stdio: { ...stdio, workingDir } } };
}

/** Whether `path` names a module (`.ts`, `.mts`, `.js`, `.mjs`) rather than a folder of manifests. */
export function isEntryModule(path: string): boolean {
  return /\.(ts|mts|js|mjs)$/.test(path);
}

/** The folder relative paths of `freehold dev <path>` start from: the folder, or the entry module's. */
export function devRoot(path: string, cwd: string): string {
  return isEntryModule(path) ? dirname(resolve(cwd, path)) : resolve(cwd, path);
}

/**
 * What `freehold dev` runs: a folder of manifests, or a TypeScript (or JavaScript) entry module whose
 * exported `@freehold/sdk` definitions it loads (as `freehold build` does). `root` is the folder
 * relative paths start from: the folder, or the entry's own folder (code of `spec.code`, stdio
 * servers' working folders, their npm binaries).
 */
export async function loadDevResources(path: string, cwd: string): Promise<DevResources> {
  const root = devRoot(path, cwd);
  if (!isEntryModule(path)) return { resources: loadResources(path, cwd), root, inProcessServers: new Map() };
  const found = await loadDefinitions(path, cwd);
  const { yaml, resources } = manifestsOf(found);
  // Tool servers (`defineToolServer`): their tools run here, reached in memory, not at their URL.
  const inProcessServers = new Map<string, Record<string, InProcessConnect>>();
  for (const { resource, connectInProcess } of toolServersOf(found)) {
    const namespace = resource.metadata.namespace ?? "default";
    const servers = inProcessServers.get(namespace) ?? {};
    servers[resource.metadata.name] = connectInProcess;
    inProcessServers.set(namespace, servers);
  }
  return {
    resources: resources.map((resource) => withWorkingDirFrom(resource, root)),
    root,
    yaml,
    inProcessServers,
  };
}

/** Starts a session with a server of this process (see `defineToolServer` of `@freehold/sdk`). */
type InProcessConnect = InProcessMcpConnection["connect"];

/** What {@link loadDevResources} found. */
export interface DevResources {
  readonly resources: Resource[];
  readonly root: string;
  /** From an entry module: its definitions' manifests, as YAML. */
  readonly yaml?: string;
  /** By namespace, then MCPServer name: the tool servers that run in this process. */
  readonly inProcessServers: ReadonlyMap<string, Readonly<Record<string, InProcessConnect>>>;
}

/**
 * The `node_modules/.bin` folders of a folder and its parents, nearest first: where `freehold dev`
 * finds the commands of stdio MCP servers installed with npm, as `npx` would.
 */
export function binFolders(directory: string): string[] {
  const folders: string[] = [];
  for (let current = resolve(directory); ; current = dirname(current)) {
    const bin = join(current, "node_modules", ".bin");
    if (existsSync(bin)) folders.push(bin);
    if (dirname(current) === current) return folders;
  }
}

/** The runtime configuration of each namespace that has agents. */
export function runtimeConfigs(resources: readonly Resource[]): RuntimeConfig[] {
  const namespaces = new Map<string, Resource[]>();
  for (const resource of resources) {
    if (resource.kind === "Tenant") continue;
    const namespace = resource.metadata.namespace ?? "default";
    namespaces.set(namespace, [...(namespaces.get(namespace) ?? []), resource]);
  }
  const configs: RuntimeConfig[] = [];
  for (const [namespace, members] of namespaces) {
    const agents = members.filter((resource) => resource.kind === "Agent");
    if (agents.length === 0) continue;
    configs.push(
      RuntimeConfig.parse({
        schemaVersion: 1,
        namespace,
        agents,
        peers: agents.map((agent) => ({ name: agent.metadata.name, description: agent.spec.description })),
        models: members.filter((resource) => resource.kind === "Model"),
        mcpServers: members.filter((resource) => resource.kind === "MCPServer"),
        humanQueues: members.filter((resource) => resource.kind === "HumanQueue"),
      }),
    );
  }
  if (configs.length === 0) {
    throw new FreeholdError(
      "dev.no-agents",
      "the folder defines no Agent; add an Agent manifest (see examples/)",
    );
  }
  return configs;
}
