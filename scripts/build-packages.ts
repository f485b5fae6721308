/**
 * Builds every public workspace package (each one not `"private": true`, as `pnpm ls -r` lists them) to
 * JavaScript in its `dist/`: ESM, declarations, declaration maps and source maps, compiled from `src/`
 * by the workspace's TypeScript with the root tsconfig (`rewriteRelativeImportExtensions` turns
 * `./x.ts` into `./x.js`). Inside the workspace the packages still run from source (`exports` point at
 * `src/`); their tarballs point at `dist/` (`publishConfig`, which `pnpm pack` puts in their place).
 *
 *   node scripts/build-packages.ts            build each package whose inputs changed
 *   node scripts/build-packages.ts --force    build them all anyway
 *
 * A package is current when `dist/.fingerprint` matches a digest of its sources and manifest, those
 * of the workspace packages it depends on (their types can reach its declarations), the lockfile,
 * the root tsconfig and this script: a second run with nothing changed takes a fraction of a second.
 * A new package that keeps the layout (`src/`, `exports` into it) is built without any change here;
 * its manifest needs the `files` and `publishConfig` that `publishedFields` derives from its
 * `exports` and `bin` (scripts/build-packages.test.ts checks every public package's, and prints them).
 * The build only emits (`noCheck`): `tsc -p tsconfig.json` type-checks the workspace.
 *
 * @module
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";

const root = join(import.meta.dirname, "..");

/** A workspace package that is published: its name, version, folder and workspace dependencies. */
export interface PublicPackage {
  readonly name: string;
  readonly version: string;
  readonly directory: string;
  /** The names of the public workspace packages it depends on (`workspace:` dependencies). */
  readonly workspaceDependencies: readonly string[];
}

interface Manifest {
  readonly name: string;
  readonly version?: string;
  readonly private?: boolean;
  readonly dependencies?: Record<string, string>;
}

/** The workspace's public packages, as pnpm lists them (sorted by name). */
export function publicPackages(): PublicPackage[] {
  const listed = JSON.parse(
    execFileSync("pnpm", ["ls", "--recursive", "--depth", "-1", "--json"], { cwd: root, encoding: "utf8" }),
  ) as { name: string; path: string; private?: boolean }[];
  const found = listed
    .filter((entry) => entry.private !== true && entry.path !== root)
    .map((entry) => ({
      directory: entry.path,
      manifest: JSON.parse(readFileSync(join(entry.path, "package.json"), "utf8")) as Manifest,
    }));
  const names = new Set(found.map((entry) => entry.manifest.name));
  return found
    .map(({ directory, manifest }) => ({
      name: manifest.name,
      version: manifest.version ?? "0.0.0",
      directory,
      workspaceDependencies: Object.entries(manifest.dependencies ?? {})
        .filter(([name, range]) => range.startsWith("workspace:") && names.has(name))
        .map(([name]) => name)
        .sort(),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The parts of a manifest that decide what its tarball holds and runs. */
export interface PublishedFields {
  readonly files: readonly string[];
  readonly publishConfig: {
    readonly exports: Record<string, unknown>;
    readonly bin?: Record<string, string>;
  };
}

/**
 * The `files` and `publishConfig` a public package's manifest must carry: its `exports` and `bin`
 * with each `./src/X.ts` turned into the compiled `./dist/X.js` (and `./dist/X.d.ts` for types), and
 * the files its tarball holds (`dist/`, and `src/` without tests, which the declaration maps point at).
 */
export function publishedFields(manifest: {
  readonly exports?: Record<string, unknown>;
  readonly bin?: Record<string, string>;
}): PublishedFields {
  const compiled = (path: string): string => path.replace(/^\.\/src\/(.*)\.ts$/, "./dist/$1.js");
  const exportsEntry = (target: unknown): unknown =>
    typeof target === "string" && /^\.\/src\/.*\.ts$/.test(target)
      ? { types: compiled(target).replace(/\.js$/, ".d.ts"), default: compiled(target) }
      : target;
  return {
    files: ["dist", "!dist/.fingerprint", "src", "!src/**/*.test.ts", "!src/**/testdata"],
    publishConfig: {
      exports: Object.fromEntries(
        Object.entries(manifest.exports ?? {}).map(([subpath, target]) => [subpath, exportsEntry(target)]),
      ),
      ...(manifest.bin === undefined
        ? {}
        : {
            bin: Object.fromEntries(
              Object.entries(manifest.bin).map(([name, path]) => [name, compiled(path)]),
            ),
          }),
    },
  };
}

/** Files under `directory`, relative to the root, sorted (no node_modules, dist or tests). */
function sourceFiles(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter(
      (entry) =>
        entry.isFile() &&
        !entry.name.endsWith(".test.ts") &&
        !relative(directory, entry.parentPath)
          .split("/")
          .some((part) => part === "node_modules" || part === "dist" || part === "testdata"),
    )
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

/** The digest of what a package's `dist/` is made of (see the module comment). */
function fingerprint(target: PublicPackage, byName: ReadonlyMap<string, PublicPackage>): string {
  const included = new Set<PublicPackage>();
  const visit = (workspacePackage: PublicPackage): void => {
    if (included.has(workspacePackage)) return;
    included.add(workspacePackage);
    for (const name of workspacePackage.workspaceDependencies) {
      const dependency = byName.get(name);
      if (dependency !== undefined) visit(dependency);
    }
  };
  visit(target);
  const files = [
    ...[...included].flatMap((workspacePackage) => [
      relative(root, join(workspacePackage.directory, "package.json")),
      ...sourceFiles(join(workspacePackage.directory, "src")),
    ]),
    "pnpm-lock.yaml",
    "tsconfig.json",
    relative(root, import.meta.filename),
  ].sort();
  const hash = createHash("sha256");
  for (const file of files)
    hash
      .update(file)
      .update("\0")
      .update(readFileSync(join(root, file)))
      .update("\0");
  return hash.digest("hex");
}

/**
 * The tsconfig a package is compiled with: the root one, emitting from its `src/` into its `dist/`.
 * It is written under the root's node_modules/.cache (absolute paths), never into the package.
 */
function writeBuildConfig(target: PublicPackage): string {
  const folder = join(root, "node_modules", ".cache", "freehold-packages");
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `${target.name.replace(/^@/, "").replace("/", "__")}.tsconfig.json`);
  const source = join(target.directory, "src");
  const config = {
    extends: join(root, "tsconfig.json"),
    compilerOptions: {
      noEmit: false,
      allowImportingTsExtensions: false,
      rootDir: source,
      outDir: join(target.directory, "dist"),
      declaration: true,
      declarationMap: true,
      sourceMap: true,
      // Checked by the workspace's typecheck; the build only emits.
      noCheck: true,
    },
    include: [source],
    exclude: [join(source, "**", "*.test.ts"), join(source, "**", "testdata")],
  };
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

function compile(configFile: string): Promise<void> {
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, "-p", configFile], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`tsc -p ${configFile} exited with ${code}:\n${output}`));
    });
  });
}

export interface PackageBuild {
  readonly name: string;
  readonly directory: string;
  readonly built: boolean;
  readonly milliseconds: number;
}

/**
 * Builds each public package whose `dist/` is not current (all of them with `force`), two at a time
 * at most, and says what it does through `log`.
 */
export async function buildPackages(
  options: { force?: boolean; log?: (line: string) => void } = {},
): Promise<PackageBuild[]> {
  const log = options.log ?? (() => undefined);
  const packages = publicPackages();
  const byName = new Map(packages.map((workspacePackage) => [workspacePackage.name, workspacePackage]));
  const results: PackageBuild[] = [];
  const pending = [...packages];
  const worker = async (): Promise<void> => {
    for (let target = pending.shift(); target !== undefined; target = pending.shift()) {
      const started = performance.now();
      const distDirectory = join(target.directory, "dist");
      const stampFile = join(distDirectory, ".fingerprint");
      const current = fingerprint(target, byName);
      if (options.force !== true && existsSync(stampFile) && readFileSync(stampFile, "utf8") === current) {
        results.push({ name: target.name, directory: distDirectory, built: false, milliseconds: 0 });
        continue;
      }
      log(`building ${target.name} (${relative(root, target.directory)}/dist)`);
      rmSync(distDirectory, { recursive: true, force: true });
      await compile(writeBuildConfig(target));
      // Written last: a build that stopped half-way is never taken for a current one.
      writeFileSync(stampFile, current);
      const milliseconds = performance.now() - started;
      log(`built ${target.name} in ${(milliseconds / 1000).toFixed(1)} s`);
      results.push({ name: target.name, directory: distDirectory, built: true, milliseconds });
    }
  };
  await Promise.all(Array.from({ length: Math.min(2, availableParallelism()) }, worker));
  return results.sort((a, b) => a.name.localeCompare(b.name));
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { force: { type: "boolean", default: false } } });
  const started = performance.now();
  const results = await buildPackages({
    force: values.force,
    log: (line) => process.stderr.write(`build: ${line}\n`),
  });
  const built = results.filter((result) => result.built).length;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(
    built === 0
      ? `build: ${results.length} packages' dist/ are current (nothing changed; ${seconds} s)\n`
      : `build: built ${built} of ${results.length} packages in ${seconds} s\n`,
  );
}
