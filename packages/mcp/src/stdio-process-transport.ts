/**
 * An MCP client transport over a child process's stdin and stdout, like the SDK's
 * `StdioClientTransport` but with the child in its own process group: closing the transport ends
 * stdin, then sends SIGTERM and at last SIGKILL to the whole group, so wrappers such as `npx` or a
 * shell script leave no orphaned server behind. When the child exits on its own, whatever it left
 * running in its group is killed too.
 *
 * The child's environment is exactly the `env` option: nothing is inherited implicitly.
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { setTimeout as delay } from "node:timers/promises";
import { ReadBuffer, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

/** Options of {@link StdioProcessTransport}. */
export interface StdioProcessOptions {
  readonly command: string;
  readonly args?: readonly string[];
  /** The child's whole environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** How long to wait after ending stdin, and again after SIGTERM, before escalating. Default: 2000 ms. */
  readonly killGraceMs?: number;
  /** Receives the child's stderr, decoded. By default it is only kept for error messages. */
  readonly onStderr?: (text: string) => void;
}

/** How many characters of the child's stderr are kept for error messages. */
const stderrTailLength = 2_000;

/** Process groups still running, killed if this process exits without closing them. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const group of liveGroups) killGroup(group, "SIGKILL");
  });
}

function ignore(): void {
  // Deliberately empty: a timer that was cancelled.
}

/** Sends a signal to a process group; false when the group no longer exists. */
function killGroup(group: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-group, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * A stdio transport whose child runs in its own process group.
 *
 * @example
 * ```ts
 * const transport = new StdioProcessTransport({ command: "node", args: ["server.js"], env: { PATH: "/usr/bin" } });
 * await new Client({ name: "freehold", version: "1" }).connect(transport);
 * ```
 */
export class StdioProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #options: StdioProcessOptions;
  readonly #readBuffer = new ReadBuffer();
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #closed = false;
  #stderrTail = "";
  #exitDescription: string | undefined;

  constructor(options: StdioProcessOptions) {
    this.#options = options;
  }

  /** The child's process id (the process group's id), once started. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** The end of what the child wrote to stderr, for error messages. */
  get stderrTail(): string {
    return this.#stderrTail.trim();
  }

  /** How the child ended ("exited with code 1", "killed by SIGKILL"), once it has. */
  get exitDescription(): string | undefined {
    return this.#exitDescription;
  }

  async start(): Promise<void> {
    if (this.#child !== undefined) throw new Error("StdioProcessTransport already started");
    const child = spawn(this.#options.command, [...(this.#options.args ?? [])], {
      env: { ...this.#options.env },
      cwd: this.#options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
      windowsHide: true,
    });
    this.#child = child;
    this.#exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.#exitDescription =
          signal === null ? `exited with code ${code ?? "unknown"}` : `killed by ${signal}`;
        if (child.pid !== undefined) {
          // The leader is gone; anything it left in its group is an orphan.
          killGroup(child.pid, "SIGKILL");
          liveGroups.delete(child.pid);
        }
        // Let the pipes drain so that the stderr tail is complete, but never wait on them for long.
        const drained = new AbortController();
        void Promise.race([
          new Promise((closed) => child.once("close", closed)),
          delay(1_000, undefined, { signal: drained.signal }).catch(ignore),
        ]).then(() => {
          drained.abort();
          resolve();
          this.#finish();
        });
      });
    });
    child.stdout.on("data", (chunk: Buffer) => {
      try {
        this.#readBuffer.append(chunk);
      } catch (error) {
        // A line longer than the SDK's buffer limit: the stream cannot be trusted any more.
        this.onerror?.(error instanceof Error ? error : new Error(String(error)));
        void this.close();
        return;
      }
      for (;;) {
        let message: JSONRPCMessage | null;
        try {
          message = this.#readBuffer.readMessage();
        } catch (error) {
          this.onerror?.(error instanceof Error ? error : new Error(String(error)));
          continue;
        }
        if (message === null) break;
        this.onmessage?.(message);
      }
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      this.#stderrTail = (this.#stderrTail + text).slice(-stderrTailLength);
      this.#options.onStderr?.(text);
    });
    for (const stream of [child.stdin, child.stdout, child.stderr]) {
      stream.on("error", (error) => {
        if (!this.#closed) this.onerror?.(error);
      });
    }
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", () => {
        if (child.pid !== undefined) {
          liveGroups.add(child.pid);
          installExitHook();
        }
        resolve();
      });
      child.once("error", (error) => {
        const failure = new Error(`could not start ${this.#options.command}: ${error.message}`, {
          cause: error,
        });
        reject(failure);
        this.onerror?.(failure);
        this.#finish();
      });
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#child?.stdin;
    if (this.#closed || !stdin || stdin.destroyed) throw new Error("Not connected");
    if (!stdin.write(serializeMessage(message))) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          stdin.off("close", onClose);
          resolve();
        };
        const onClose = (): void => {
          stdin.off("drain", onDrain);
          reject(new Error("Not connected"));
        };
        stdin.once("drain", onDrain);
        stdin.once("close", onClose);
      });
    }
  }

  /** Ends stdin, then SIGTERM to the group, then SIGKILL, waiting `killGraceMs` between steps. */
  async close(): Promise<void> {
    const child = this.#child;
    const exited = this.#exited;
    if (
      child?.pid !== undefined &&
      exited !== undefined &&
      child.exitCode === null &&
      child.signalCode === null
    ) {
      const group = child.pid;
      const grace = this.#options.killGraceMs ?? 2_000;
      const waitForExit = async (): Promise<boolean> => {
        const timer = new AbortController();
        const result = await Promise.race([
          exited.then(() => true),
          delay(grace, false, { signal: timer.signal }).catch(() => false),
        ]);
        timer.abort();
        return result;
      };
      child.stdin?.end();
      if (!(await waitForExit())) {
        killGroup(group, "SIGTERM");
        if (!(await waitForExit())) {
          killGroup(group, "SIGKILL");
          await exited;
        }
      }
      killGroup(group, "SIGKILL");
      liveGroups.delete(group);
    }
    this.#readBuffer.clear();
    this.#finish();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onclose?.();
  }
}
