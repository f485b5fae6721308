/**
 * The `freehold` command this project installs, run as the README runs it, from the project's folder:
 * once to its end (`freehold build`), or as a server that runs until stopped (`freehold dev`,
 * `freehold gateway`, `freehold model serve`).
 */
import { execFile, spawn } from "node:child_process";
import { join } from "node:path";

/** The project's folder. */
export const project = join(import.meta.dirname, "..");
/** The `freehold` command the project installs (`node_modules/.bin`). */
export const freehold = join(project, "node_modules", ".bin", "freehold");

/** The environment of the commands: this process's, without the project's settings (see src/resources.ts). */
export function baseEnvironment(): NodeJS.ProcessEnv {
  const { MODEL_BASE_URL: _url, MODEL_NAME: _name, REFUNDS_FILE: _file, ...rest } = process.env;
  return { ...rest, NO_COLOR: "1" };
}

export interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `freehold <args>` to its end. */
export function runFreehold(args: readonly string[], environment = baseEnvironment()): Promise<Result> {
  return new Promise((resolve) => {
    execFile(freehold, args, { cwd: project, env: environment, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr });
    });
  });
}

/** A `freehold` server running in a child process. */
export interface FreeholdServer extends AsyncDisposable {
  /** What `ready` matched in its standard output. */
  readonly match: RegExpMatchArray;
  /** Its standard output and error so far. */
  output(): string;
  /** Stops it as Ctrl-C does and waits for it to end. */
  stop(): Promise<void>;
}

/** Starts `freehold <args>` and waits until its standard output matches `ready`. */
export async function startFreehold(
  args: readonly string[],
  ready: RegExp,
  environment = baseEnvironment(),
): Promise<FreeholdServer> {
  const child = spawn(freehold, args, { cwd: project, env: environment, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      resolve();
    });
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const output = (): string => `${stdout}${stderr}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
    await exited;
  };
  try {
    const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`freehold ${args.join(" ")} was not ready in 60 s:\n${output()}`));
      }, 60_000);
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        const found = ready.exec(stdout);
        if (found !== null) {
          clearTimeout(timer);
          resolve(found);
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`freehold ${args.join(" ")} exited with ${code} before it was ready:\n${output()}`));
      });
    });
    return { match, output, stop, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
