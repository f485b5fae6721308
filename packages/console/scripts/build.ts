/**
 * Builds the console into `packages/console/dist/`: `index.html` and hashed assets under `assets/`,
 * which the gateway serves at `/` (`createGateway({ console: { directory } })`). No CDN, no inline
 * script: the page runs under the gateway's `script-src 'self'` policy.
 *
 *   node packages/console/scripts/build.ts            build when a source, manifest or the lockfile changed
 *   node packages/console/scripts/build.ts --force    build anyway
 *
 * The setup runs it; with nothing changed it takes a fraction of a second (`dist/.fingerprint`).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
// The build scripts' one way to say what a build is made of (packages/ is in every image's context).
import { digestFiles, filesUnder } from "../../cli/scripts/fingerprint.ts";

const packageDirectory = join(import.meta.dirname, "..");
const root = join(packageDirectory, "..", "..");

/** The built console: the folder the gateway serves. */
export const consoleDirectory = join(packageDirectory, "dist");

/** What the build is made of: the console's files, the client and schemas it uses, the lockfile. */
function fingerprint(): string {
  const skipFolders = ["node_modules", "dist", "test"];
  const keep = (name: string): boolean => !name.endsWith(".test.ts");
  return digestFiles(root, [
    ...filesUnder(root, packageDirectory, { skipFolders, keep }),
    ...filesUnder(root, join(root, "packages", "sdk", "src", "client"), { skipFolders, keep }),
    ...filesUnder(root, join(root, "packages", "api", "src"), { skipFolders, keep }),
    relative(root, join(root, "packages", "cli", "scripts", "fingerprint.ts")),
    "pnpm-lock.yaml",
  ]);
}

/**
 * `vite build` in a process of its own, for production whatever the caller's NODE_ENV (a test
 * runner's `test` would give React's development build).
 */
function viteBuild(): Promise<void> {
  const vite = join(packageDirectory, "node_modules", "vite", "bin", "vite.js");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [vite, "build", "--logLevel", "warn"], {
      cwd: packageDirectory,
      env: { ...process.env, NODE_ENV: "production" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`vite build exited with ${code}:\n${output}`));
    });
  });
}

/**
 * Builds the console unless `dist/` is current.
 *
 * @returns whether it built, and how long it took.
 */
export async function buildConsole(
  options: { force?: boolean } = {},
): Promise<{ built: boolean; milliseconds: number }> {
  const started = performance.now();
  const stamp = join(consoleDirectory, ".fingerprint");
  const current = fingerprint();
  if (options.force !== true && existsSync(stamp) && readFileSync(stamp, "utf8") === current) {
    return { built: false, milliseconds: performance.now() - started };
  }
  rmSync(consoleDirectory, { recursive: true, force: true });
  await viteBuild();
  // Written last: a build that stopped half-way is never taken for a current one.
  writeFileSync(stamp, current);
  return { built: true, milliseconds: performance.now() - started };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { force: { type: "boolean", default: false } } });
  const { built, milliseconds } = await buildConsole({ force: values.force });
  process.stderr.write(
    built
      ? `build: built the console into ${relative(root, consoleDirectory)} in ${(milliseconds / 1000).toFixed(1)} s\n`
      : "build: the console's dist/ is current (nothing changed)\n",
  );
}
