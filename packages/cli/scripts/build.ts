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
 * Beside it, the worker's startup snapshot (src/worker-snapshot.ts): `worker-snapshot.cjs`, the
 * worker alone bundled into one CommonJS script, and `worker.blob`, the V8 heap of that script once
 * run, built by the Node that runs this build (a snapshot starts only the Node binary that built
 * it). `freehold` (scripts/freehold.sh, copied here) starts `freehold worker` from the snapshot and
 * every other command from `bin.js`; the runtime image puts it on PATH.
 *
 * The setup runs it; a second run with nothing changed takes a fraction of a second (a fingerprint
 * of the inputs and of the Node that built it is kept in `bundle/.fingerprint`). Left out of the
 * bundle, loaded from node_modules at run time: the in-process model runtime (native binaries,
 * loaded only when a Model uses it), prom-client (loaded only when metrics are served) and the
 * frameworks the adapters drive (loaded only for agents that ask for them). A framework must be
 * one copy in the process: an agent that is the team's own framework code (`spec.code`) builds its
 * objects with the framework its module resolves, and the adapter's runner checks them with
 * `instanceof`. The `freehold` package depends on all of them, so they resolve from the bundle's
 * folder.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { parseArgs } from "node:util";
import { build, type Plugin } from "rolldown";
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
/**
 * `freehold` as the runtime image runs it (scripts/freehold.sh): `freehold worker` from the worker's
 * startup snapshot, other commands from {@link cliBundle}.
 */
export const imageCommand = imageCommandIn(cliBundleDirectory);

function imageCommandIn(directory: string): string {
  return join(directory, "freehold");
}

/**
 * This process's environment, with the folder of the Node running it first on PATH: the `node` that
 * {@link imageCommand} starts is the one that built the snapshot.
 */
export function imageCommandEnvironment(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}` };
}

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

/** Resolves the packages of {@link bundledAsModules} to their ES module build. */
const moduleBuilds: Plugin = {
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
};

/** Their modules, declared free of side effects at import. */
const treeshake = {
  moduleSideEffects: (id: string): boolean =>
    ![...bundledAsModules].some((name) => id.includes(`/node_modules/${name}/`)),
};

/**
 * For the startup snapshot: `node:tls`, required when ioredis loads, is loaded by its first use
 * instead (a snapshot cannot hold it: Node aborts building one that has loaded it). ioredis reads
 * its exports when it connects (`tls.connect(...)` for a `rediss://` URL), through this object.
 */
const deferredTls: Plugin = {
  name: "deferred-tls",
  resolveId: (source) => (source === "tls" || source === "node:tls" ? "\0deferred-tls" : null),
  load: (id) =>
    id === "\0deferred-tls"
      ? `const tls = () => process.getBuiltinModule("node:tls");
module.exports = new Proxy({}, {
  get: (_, name) => tls()[name],
  has: (_, name) => name in tls(),
  ownKeys: () => Reflect.ownKeys(tls()),
  getOwnPropertyDescriptor: (_, name) => ({ ...Reflect.getOwnPropertyDescriptor(tls(), name), configurable: true }),
});`
      : null,
};

/**
 * Bundles `input` and every module it imports (but {@link external}'s and the framework adapters)
 * into `script`, one CommonJS file: what a startup snapshot is built from (it holds a single script).
 */
export async function bundleSnapshotScript(input: string, script: string): Promise<void> {
  await build({
    input,
    cwd: join(packagesDirectory, "cli"),
    platform: "node",
    // The adapters stay outside with their frameworks: a worker that needs one starts from the bundle.
    external: (id) => external.test(id) || /^@freehold\/adapter-/.test(id),
    plugins: [moduleBuilds, deferredTls],
    treeshake,
    logLevel: "warn",
    output: {
      file: script,
      format: "cjs",
      minify: true,
      charset: "ascii",
      sourcemap: true,
      codeSplitting: false,
    },
  });
}

/**
 * Runs `script` and writes the heap it leaves to `blob`, with the Node that runs this (`node
 * --snapshot-blob <blob> --build-snapshot <script>`); throws with Node's output when it fails.
 */
export function buildSnapshot(script: string, blob: string): void {
  const built = spawnSync(process.execPath, ["--snapshot-blob", blob, "--build-snapshot", script], {
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  if (built.status !== 0) {
    // Node also warns of each built-in module it has not verified for snapshots.
    throw new Error(
      `building the startup snapshot of ${script} failed (exit ${built.status ?? built.signal}):\n${built.stderr}`,
    );
  }
}

/**
 * Builds the worker's startup snapshot into `directory` (`worker-snapshot.cjs`, `worker.blob`), and
 * the image's `freehold` script that starts a worker from it.
 */
async function buildWorkerSnapshot(directory: string): Promise<void> {
  const script = join(directory, "worker-snapshot.cjs");
  await bundleSnapshotScript(join(packagesDirectory, "cli", "src", "worker-snapshot.ts"), script);
  buildSnapshot(script, join(directory, "worker.blob"));
  copyFileSync(join(import.meta.dirname, "freehold.sh"), imageCommandIn(directory));
  chmodSync(imageCommandIn(directory), 0o755);
}

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
    relative(root, join(import.meta.dirname, "freehold.sh")),
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
  // The Node that builds: the snapshot is its heap, and starts no other binary.
  return `${digestFiles(root, inputs())} ${process.version} ${process.arch} ${process.execPath}`;
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
    plugins: [moduleBuilds],
    treeshake,
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
  // An executable (its first line is `#!/usr/bin/env node`).
  chmodSync(join(directory, "bin.js"), 0o755);
  await buildWorkerSnapshot(directory);
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
