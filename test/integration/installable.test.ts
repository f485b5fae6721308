/**
 * The packages as a user gets them: every public package built (scripts/build-packages.ts) and packed
 * (`pnpm pack`), the tarballs installed with npm into a fresh project outside the workspace, and
 * there, under `node_modules`, on the Node the setup installs:
 * - each package points at JavaScript and declarations it contains, with real versions for its
 *   dependencies, and imports nothing it does not declare;
 * - an app (test/fixtures/installable-app) defines an agent and a tool with `@freehold/sdk` and runs
 *   them on the scripted model through the installed `freehold` command (`freehold run --dev
 *   agents.ts`, the tool in that process);
 * - the app, and every entry point of every package, type-check against the installed declarations.
 * npm's cache is kept in `${FREEHOLD_CACHE_DIR:-~/.cache/freehold}/npm`, so a second run installs the
 * third-party packages from it. The install's time and size are printed.
 */
import { execFile, execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { builtinModules } from "node:module";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPackages, publicPackages, type PublicPackage } from "../../scripts/build-packages.ts";

const root = join(import.meta.dirname, "..", "..");
const appSources = join(import.meta.dirname, "..", "fixtures", "installable-app");
const npmCache = join(process.env.FREEHOLD_CACHE_DIR ?? join(homedir(), ".cache", "freehold"), "npm");
/** Child processes find this Node first: npm, the `freehold` command and the app run on it. */
const environment = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}` };

let temporary: string | undefined;
let project: string;
let packages: PublicPackage[];
let installStarted: number;

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], cwd: string, timeout = 120_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, timeout, env: environment, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === "number" ? error.code : 1,
          stdout,
          stderr,
        });
      },
    );
  });
}

function report(line: string): void {
  process.stderr.write(`[installable] ${line}\n`);
}

/** Kilobytes under a folder, as `du -sk` counts them (disk use, symlinks not followed). */
function kilobytes(...paths: string[]): number {
  return execFileSync("du", ["-skc", ...paths], { encoding: "utf8" })
    .trim()
    .split("\n")
    .reduce((total, line) => (line.endsWith("\ttotal") ? Number(line.split("\t")[0]) : total), 0);
}

function megabytes(kb: number): string {
  return `${(kb / 1024).toFixed(1)} MB`;
}

interface InstalledManifest {
  readonly name: string;
  readonly version: string;
  readonly exports?: Record<string, unknown>;
  readonly bin?: Record<string, string>;
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
}

function installedManifest(name: string): InstalledManifest {
  return JSON.parse(
    readFileSync(join(project, "node_modules", name, "package.json"), "utf8"),
  ) as InstalledManifest;
}

/** The files an `exports` entry points at, through its conditions. */
function targets(entry: unknown): string[] {
  if (typeof entry === "string") return [entry];
  if (entry !== null && typeof entry === "object") return Object.values(entry).flatMap(targets);
  return [];
}

/** The packages a compiled module imports at run time (static, dynamic and createRequire'd). */
function importedPackages(source: string): string[] {
  const specifiers = [
    ...source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"/gm),
    ...source.matchAll(/^\s*import\s*"([^"]+)"/gm),
    ...source.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g),
    ...source.matchAll(/\bcreateRequire\([^)]*\)\(\s*"([^"]+)"\s*\)/g),
  ].map((match) => match[1] ?? "");
  return specifiers
    .filter((specifier) => !specifier.startsWith(".") && !specifier.startsWith("node:"))
    .map((specifier) =>
      specifier
        .split("/")
        .slice(0, specifier.startsWith("@") ? 2 : 1)
        .join("/"),
    )
    .filter((name) => !builtinModules.includes(name));
}

function javascriptFiles(directory: string): string[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".js"))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** A module that re-exports every entry point of every public package: type-checking it checks them all. */
function everyEntryPoint(): string {
  const lines = packages.flatMap((workspacePackage, index) =>
    Object.keys(installedManifest(workspacePackage.name).exports ?? {})
      .filter((subpath) => subpath !== "./package.json")
      .map(
        (subpath, entry) =>
          `export * as package${index}entry${entry} from "${workspacePackage.name}${subpath.slice(1)}";`,
      ),
  );
  return `// Every entry point of every public package, for the type-check.\n${lines.join("\n")}\n`;
}

beforeAll(async () => {
  const built = await buildPackages({ log: report });
  packages = publicPackages();
  expect(built.map((result) => result.name)).toEqual(
    packages.map((workspacePackage) => workspacePackage.name),
  );
  report(`public packages: ${packages.map((workspacePackage) => workspacePackage.name).join(", ")}`);

  const folder = mkdtempSync(join(tmpdir(), "freehold-installable-"));
  temporary = folder;
  const tarballs = join(folder, "tarballs");
  project = join(folder, "app");
  mkdirSync(tarballs);
  mkdirSync(project);
  const dependencies: Record<string, string> = {};
  for (const workspacePackage of packages) {
    const packed = await run(
      "pnpm",
      ["pack", "--pack-destination", tarballs, "--json"],
      workspacePackage.directory,
    );
    expect(packed.code, packed.stderr).toBe(0);
    const { filename } = JSON.parse(packed.stdout) as { filename: string };
    dependencies[workspacePackage.name] = `file:${filename}`;
  }
  // The app's own dependency besides the packages: zod, for its tool's input (the version they use).
  const zod = JSON.parse(
    readFileSync(join(root, "packages", "sdk", "node_modules", "zod", "package.json"), "utf8"),
  ) as { version: string };
  dependencies.zod = zod.version;
  const typesNode = JSON.parse(
    readFileSync(join(root, "node_modules", "@types", "node", "package.json"), "utf8"),
  ) as { version: string };
  writeFileSync(
    join(project, "package.json"),
    `${JSON.stringify(
      {
        name: "installable-app",
        private: true,
        type: "module",
        dependencies,
        devDependencies: { "@types/node": typesNode.version },
      },
      null,
      2,
    )}\n`,
  );
  cpSync(appSources, project, { recursive: true });

  const versions = await run("npm", ["--version"], project);
  report(`npm ${versions.stdout.trim()} on node ${process.version}; npm cache ${npmCache}`);
  installStarted = performance.now();
  const installed = await run(
    "npm",
    ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", "--cache", npmCache],
    project,
    900_000,
  );
  expect(installed.code, installed.stderr).toBe(0);
  const seconds = (performance.now() - installStarted) / 1000;
  const freeholdPackages = packages.map((workspacePackage) =>
    join(project, "node_modules", workspacePackage.name),
  );
  report(`npm install took ${seconds.toFixed(1)} s`);
  report(
    `installed size: node_modules ${megabytes(kilobytes(join(project, "node_modules")))}, ` +
      `the ${packages.length} Freehold packages alone ${megabytes(kilobytes(...freeholdPackages))}`,
  );
}, 1_000_000);

afterAll(() => {
  if (temporary !== undefined) rmSync(temporary, { recursive: true, force: true });
});

describe("the packages installed from their tarballs with npm", () => {
  it("run an agent through the installed freehold command on the scripted model", async () => {
    const answer = "Hello from the installed packages.";
    const result = await run(process.execPath, ["main.ts", "Say hello.", answer], project);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      "events: run-start, model-call-end, tool-call-start, tool-call-end, model-call-end, run-end\n",
    );
    // The tool written with defineTool ran in the freehold process, from the installed packages.
    expect(result.stdout).toContain("tool: Hello, Ada!\n");
    expect(result.stdout).toContain(`answer: ${answer}\n`);
    report(
      `the first run completed ${((performance.now() - installStarted) / 1000).toFixed(1)} s after npm install started`,
    );
  }, 120_000);

  it("type-check an app and every package's entry points against the installed declarations", async () => {
    writeFileSync(join(project, "every-entry-point.ts"), everyEntryPoint());
    writeFileSync(
      join(project, "tsconfig.json"),
      `${JSON.stringify(
        {
          compilerOptions: {
            target: "es2024",
            lib: ["es2024", "esnext.disposable"],
            module: "nodenext",
            moduleResolution: "nodenext",
            types: ["node"],
            strict: true,
            verbatimModuleSyntax: true,
            erasableSyntaxOnly: true,
            noEmit: true,
          },
          include: ["*.ts"],
        },
        null,
        2,
      )}\n`,
    );
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    const checked = await run(process.execPath, [tsc, "-p", "tsconfig.json"], project, 300_000);
    // Declarations are checked too (no skipLibCheck, which would also hide errors in Freehold's own):
    // the errors of third-party declarations (Mastra's and the AI SDK's name DOM types, absent from
    // a Node program) are theirs; every other one fails the test.
    const errors = (checked.stdout + checked.stderr)
      .split("\n")
      .filter(
        (line) => /\berror TS\d+/.test(line) && !/^node_modules\/(?!@freehold\/|freehold\/)/.test(line),
      );
    expect(errors).toEqual([]);
  }, 300_000);

  it("point at JavaScript they contain, with real versions, importing only what they declare", () => {
    for (const workspacePackage of packages) {
      const manifest = installedManifest(workspacePackage.name);
      const directory = join(project, "node_modules", workspacePackage.name);
      expect(manifest.version).toBe(workspacePackage.version);
      const declared = {
        ...manifest.dependencies,
        ...manifest.peerDependencies,
        ...manifest.optionalDependencies,
      };
      for (const [dependency, range] of Object.entries(declared)) {
        expect(range, `${workspacePackage.name} depends on ${dependency}@${range}`).toMatch(
          /^[\^~]?\d+\.\d+\.\d+/,
        );
      }
      const files = [...targets(manifest.exports), ...Object.values(manifest.bin ?? {})];
      expect(files.length, `${workspacePackage.name} exports nothing`).toBeGreaterThan(0);
      for (const file of files) {
        expect(
          file,
          `${workspacePackage.name}: ${file} (its package.json needs "files" and "publishConfig" as the other public packages have)`,
        ).toMatch(/^\.\/(dist\/.*\.(js|d\.ts)|package\.json)$/);
        expect(existsSync(join(directory, file)), `${workspacePackage.name}: ${file} is in its tarball`).toBe(
          true,
        );
      }
      for (const bin of Object.values(manifest.bin ?? {})) {
        expect(readFileSync(join(directory, bin), "utf8")).toMatch(/^#!\/usr\/bin\/env node\n/);
      }
      const undeclared = new Set<string>();
      for (const file of javascriptFiles(join(directory, "dist"))) {
        for (const name of importedPackages(readFileSync(file, "utf8"))) {
          if (!(name in declared) && name !== manifest.name) undeclared.add(name);
        }
      }
      expect([...undeclared], `${workspacePackage.name} imports packages it does not depend on`).toEqual([]);
    }
  });
});
