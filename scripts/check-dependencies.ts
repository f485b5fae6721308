/**
 * Checks that workspace dependencies point one way, as the root README draws them:
 *   api  <-  models, mcp, handoff  <-  runtime  <-  adapters, gateway, sdk, cli, operator
 * A package may depend only on packages of a lower layer, with one exception: an adapter of a
 * framework that takes AI SDK language models (Mastra) builds on the Vercel AI SDK adapter, whose
 * `durableModel` is the run's model as one. Every `@freehold/*` import in a package's sources must be
 * declared in its package.json; and there is no cycle.
 */
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dirname, "..");

/** Layer of each workspace package; higher layers may depend on lower ones only. */
function layerOf(name: string): number | undefined {
  if (name === "@freehold/api") return 0;
  if (["@freehold/models", "@freehold/mcp", "@freehold/handoff"].includes(name)) return 1;
  if (name === "@freehold/runtime") return 2;
  if (name.startsWith("@freehold/adapter-")) return 3;
  if (["@freehold/gateway", "@freehold/sdk"].includes(name)) return 3;
  if (name === "freehold") return 4;
  if (name === "@freehold/operator") return 4;
  // The web console: a page on the SDK's client; the gateway serves its built files, not its code.
  if (name === "@freehold/console") return 4;
  if (["@freehold/test", "@freehold/bench"].includes(name)) return 5;
  return undefined;
}

/** The one edge inside a layer: another adapter on the Vercel AI SDK adapter's model (see above). */
function buildsOnAiSdkModel(name: string, dependency: string): boolean {
  return (
    name.startsWith("@freehold/adapter-") &&
    name !== "@freehold/adapter-vercel-ai" &&
    dependency === "@freehold/adapter-vercel-ai"
  );
}

interface WorkspacePackage {
  readonly name: string;
  readonly directory: string;
  readonly dependencies: string[];
}

function packagesIn(directory: string): WorkspacePackage[] {
  const found: WorkspacePackage[] = [];
  const manifest = join(directory, "package.json");
  if (existsSync(manifest) && directory !== root) {
    const json = JSON.parse(readFileSync(manifest, "utf8")) as {
      name: string;
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const dependencies = Object.keys({ ...json.dependencies, ...json.devDependencies }).filter(
      (dependency) => layerOf(dependency) !== undefined,
    );
    found.push({ name: json.name, directory, dependencies });
    return found;
  }
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name !== "node_modules" && !entry.name.startsWith(".")) {
      found.push(...packagesIn(join(directory, entry.name)));
    }
  }
  return found;
}

function sourceFiles(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter(
      (entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.parentPath.includes("node_modules"),
    )
    .map((entry) => join(entry.parentPath, entry.name));
}

const problems: string[] = [];
const packages = ["packages", "operators", "test", "bench"]
  .filter((folder) => existsSync(join(root, folder)))
  .flatMap((folder) => packagesIn(join(root, folder)));
const byName = new Map(packages.map((workspacePackage) => [workspacePackage.name, workspacePackage]));

for (const workspacePackage of packages) {
  const layer = layerOf(workspacePackage.name);
  if (layer === undefined) {
    problems.push(`${workspacePackage.name}: not placed in a layer; add it to scripts/check-dependencies.ts`);
    continue;
  }
  for (const dependency of workspacePackage.dependencies) {
    const dependencyLayer = layerOf(dependency) ?? Infinity;
    if (dependencyLayer >= layer && !buildsOnAiSdkModel(workspacePackage.name, dependency)) {
      problems.push(
        `${workspacePackage.name} (layer ${layer}) must not depend on ${dependency} (layer ${dependencyLayer})`,
      );
    }
  }
  for (const file of sourceFiles(workspacePackage.directory)) {
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/from\s+["']((?:@freehold\/[a-z-]+)|freehold)(?:\/[^"']*)?["']/g)) {
      const imported = match[1] ?? "";
      if (imported !== workspacePackage.name && !workspacePackage.dependencies.includes(imported)) {
        problems.push(
          `${relative(root, file)} imports ${imported}, which ${workspacePackage.name} does not declare`,
        );
      }
    }
  }
}

// Cycles, by depth-first search.
const state = new Map<string, "visiting" | "done">();
function visit(name: string, path: string[]): void {
  if (state.get(name) === "done") return;
  if (state.get(name) === "visiting") {
    problems.push(`dependency cycle: ${[...path, name].join(" -> ")}`);
    return;
  }
  state.set(name, "visiting");
  for (const dependency of byName.get(name)?.dependencies ?? []) visit(dependency, [...path, name]);
  state.set(name, "done");
}
for (const workspacePackage of packages) visit(workspacePackage.name, []);

if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  process.exitCode = 1;
} else {
  console.log(`dependencies point one way (${packages.length} packages, no cycles)`);
}
