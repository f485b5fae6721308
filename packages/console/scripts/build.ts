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
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";

const packageDirectory = join(import.meta.dirname, "..");
const root = join(packageDirectory, "..", "..");

/** The built console: the folder the gateway serves. */
export const consoleDirectory = join(packageDirectory, "dist");

/** What the build is made of: the console's files, the client it uses, the lockfile. */
function inputs(): string[] {
  const found: string[] = [];
  const walk = (directory: string): void => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) {
        if (!["node_modules", "dist", "test"].includes(entry.name)) walk(path);
      } else if (!entry.name.endsWith(".test.ts")) {
        found.push(relative(root, path));
      }
    }
  };
  walk(packageDirectory);
  walk(join(root, "packages", "sdk", "src", "client"));
  walk(join(root, "packages", "api", "src"));
  found.push("pnpm-lock.yaml");
  return found.sort();
}

function fingerprint(): string {
  const hash = createHash("sha256");
  for (const file of inputs())
    hash
      .update(file)
      .update("\0")
      .update(readFileSync(join(root, file)))
      .update("\0");
  return hash.digest("hex");
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
