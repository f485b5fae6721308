/**
 * Builds what the images run: the `freehold` command bundled into `packages/cli/bundle/` (ESM, split
 * by command, minified, source maps beside it). A worker started from the bundle loads a few files
 * instead of hundreds of modules, and never loads Node's type stripper: it reaches its first model
 * call in about half the time and idles in less memory than from the TypeScript sources.
 *
 *   node packages/cli/scripts/build.ts            build when a source, manifest or the lockfile changed
 *   node packages/cli/scripts/build.ts --force    build anyway
 *   node packages/cli/scripts/build.ts --out DIR  build into DIR
 *
 * The setup runs it; a second run with nothing changed takes a fraction of a second (a fingerprint
 * of the inputs is kept in `bundle/.fingerprint`). Left out of the bundle, loaded from node_modules at
 * run time: the in-process model runtime (native binaries, loaded only when a Model uses it),
 * prom-client (loaded only when metrics are served) and the frameworks the adapters drive (loaded
 * only for agents that ask for them). A framework must be one copy in the process: an agent that is
 * the team's own framework code (`spec.code`) builds its objects with the framework its module
 * resolves, and the adapter's runner checks them with `instanceof`. The `freehold` package depends
 * on all of them, so they resolve from the bundle's folder.
 *
 * @module
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { build } from "rolldown";
import { digestFiles, filesUnder } from "./fingerprint.ts";

const root = join(import.meta.dirname, "..", "..", "..");
const packagesDirectory = join(root, "packages");

/**
 * The bundle's folder, beside the CLI's sources: `bundle/` and `src/` are at the same depth. (`dist/`
 * holds the CLI compiled file by file, which its package runs when installed: scripts/build-packages.ts.)
 */
export const cliBundleDirectory = join(packagesDirectory, "cli", "bundle");
/** The bundled `freehold` executable. */
export const cliBundle = join(cliBundleDirectory, "bin.js");

/** Modules the bundle imports at run time instead of containing them (see the module comment). */
const external =
  /^(node-llama-cpp|prom-client|ai|@openai\/agents(-core)?|@langchain\/[^/]+|langsmith|@mastra\/core)(\/|$)/;

/**
 * Packages bundled from their ES module build (`module` in their package.json) instead of the
 * CommonJS one Node resolves (`main`): only an ES module build can be tree-shaken, and bullmq's
 * CommonJS build carries everything it exports (its PostgreSQL backend's SQL, the flow producer, the
 * sandboxed processors) into the chunk every worker parses and keeps in memory at start. Their
 * modules are declared free of side effects at import, as bullmq's are (its package.json does not
 * say so): a module none of whose exports is used is left out, whatever its classes extend.
 */
const bundledAsModules = new Set(["bullmq"]);

/** Every file the bundle is made from, relative to the root. */
function inputs(): string[] {
  return [
    ...filesUnder(root, packagesDirectory, {
      skipFolders: ["node_modules", "dist", "bundle", "test"],
      keep: (name) => (name.endsWith(".ts") && !name.endsWith(".test.ts")) || name === "package.json",
    }),
    "pnpm-lock.yaml",
    "package.json",
    relative(root, import.meta.filename),
    relative(root, join(import.meta.dirname, "fingerprint.ts")),
  ];
}

/** The folder of package `name` that the resolved file `file` is in. */
function packageRoot(file: string, name: string): string {
  const marker = `/node_modules/${name}/`;
  const at = file.lastIndexOf(marker);
  if (at < 0) throw new Error(`${file} is not in a node_modules/${name} folder`);
  return file.slice(0, at + marker.length - 1);
}

/** A digest of the inputs' names and contents: the build is current when it matches. */
function fingerprint(): string {
  return digestFiles(root, inputs());
}

export interface BuildResult {
  readonly built: boolean;
  readonly directory: string;
  readonly milliseconds: number;
}

/**
 * Bundles the CLI into `out` (default `packages/cli/bundle`) unless the bundle there was built from
 * the same inputs. `out` must sit two levels below the root, as `packages/cli/bundle` does: the CLI finds
 * the bundled examples relative to itself.
 */
export async function buildCli(options: { out?: string; force?: boolean } = {}): Promise<BuildResult> {
  const started = performance.now();
  const directory = options.out ?? cliBundleDirectory;
  const stampFile = join(directory, ".fingerprint");
  const current = fingerprint();
  if (
    options.force !== true &&
    existsSync(join(directory, "bin.js")) &&
    existsSync(stampFile) &&
    readFileSync(stampFile, "utf8") === current
  ) {
    return { built: false, directory, milliseconds: performance.now() - started };
  }
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true });
  /** The packages the bundle imports at run time: each must be a dependency of the CLI to resolve. */
  const imported = new Set<string>();
  await build({
    input: { bin: join(packagesDirectory, "cli", "src", "bin.ts") },
    cwd: join(packagesDirectory, "cli"),
    platform: "node",
    external: (id) => {
      if (!external.test(id)) return false;
      imported.add(
        id
          .split("/")
          .slice(0, id.startsWith("@") ? 2 : 1)
          .join("/"),
      );
      return true;
    },
    plugins: [
      {
        name: "module-builds",
        async resolveId(source, importer, extra) {
          if (!bundledAsModules.has(source)) return null;
          const resolved = await this.resolve(source, importer, { ...extra, skipSelf: true });
          if (resolved === null) return null;
          const manifest = JSON.parse(
            readFileSync(join(packageRoot(resolved.id, source), "package.json"), "utf8"),
          ) as {
            module?: string;
          };
          if (manifest.module === undefined) throw new Error(`${source} has no ES module build ("module")`);
          return join(packageRoot(resolved.id, source), manifest.module);
        },
      },
    ],
    treeshake: {
      moduleSideEffects: (id) => ![...bundledAsModules].some((name) => id.includes(`/node_modules/${name}/`)),
    },
    logLevel: "warn",
    // A dependency's direct eval (gray-matter, under Mastra) only keeps its scope's names unminified.
    onLog: (level, log, handler) => {
      if (log.code === "EVAL" && log.id?.includes("/node_modules/") === true) return;
      handler(level, log);
    },
    output: {
      dir: directory,
      format: "esm",
      minify: true,
      // Non-ASCII characters escaped: V8 then keeps each chunk's source one byte a character, not two.
      charset: "ascii",
      sourcemap: true,
    },
  });
  const { dependencies = {} } = JSON.parse(
    readFileSync(join(packagesDirectory, "cli", "package.json"), "utf8"),
  ) as {
    dependencies?: Record<string, string>;
  };
  const unresolvable = [...imported].filter((name) => !(name in dependencies)).sort();
  if (unresolvable.length > 0) {
    rmSync(directory, { recursive: true, force: true });
    throw new Error(
      `the bundle imports ${unresolvable.join(", ")} at run time, which packages/cli/package.json does not depend on: ` +
        "add each to its dependencies (catalog:), or bundle it (the external pattern in packages/cli/scripts/build.ts)",
    );
  }
  // An executable (its first line is `#!/usr/bin/env node`): the images link it as `freehold`.
  chmodSync(join(directory, "bin.js"), 0o755);
  // Written last: a build that stopped half-way is never taken for a current one.
  writeFileSync(stampFile, current);
  return { built: true, directory, milliseconds: performance.now() - started };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { force: { type: "boolean", default: false }, out: { type: "string" } },
  });
  const result = await buildCli({
    force: values.force,
    ...(values.out === undefined ? {} : { out: values.out }),
  });
  const where = relative(process.cwd(), result.directory) || ".";
  process.stderr.write(
    result.built
      ? `build: bundled freehold into ${where} in ${Math.round(result.milliseconds)} ms\n`
      : `build: ${where} is current (nothing changed)\n`,
  );
}
