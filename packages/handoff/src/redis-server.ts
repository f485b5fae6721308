/**
 * Starts a real `redis-server` as a child process on a free loopback port: for `freehold dev` and
 * for tests. Data lives in a temporary folder unless one is given; with `appendOnly` it survives a
 * restart, and a kill too: `appendFsync: "always"` fsyncs every write before it is acknowledged;
 * with `"everysec"` (the default) a killed process loses nothing while the machine lives (short of
 * an fsync slower than a second, when Redis holds writes back for up to 2 s), and losing the
 * machine loses about the last second of acknowledged writes.
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FreeholdError } from "@freehold/api";

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** Default: a free port. */
  readonly port?: number;
  /** Where Redis keeps its files. Default: a temporary folder, removed on stop. */
  readonly dataDirectory?: string;
  /** Write an append-only file, so data survives a restart. Default: false. */
  readonly appendOnly?: boolean;
  /**
   * With `appendOnly`, when the file is fsynced (`--appendfsync`): `"always"` before every write is
   * acknowledged, `"everysec"` once a second. Default: `"everysec"`.
   */
  readonly appendFsync?: "always" | "everysec";
  /** The binary. Default: `redis-server` on the PATH. */
  readonly binary?: string;
  /** The default user's password (`--requirepass`); `url` carries it. Default: none. */
  readonly password?: string;
  /** Refuse writes past this much memory (`--maxmemory`, e.g. `"2mb"`), never evicting. Default: no limit. */
  readonly maxMemory?: string;
  /** More `redis-server` arguments, after the others (e.g. `["--enable-debug-command", "yes"]`). */
  readonly extraArguments?: readonly string[];
}

/** A running Redis. */
export interface RedisServer extends AsyncDisposable {
  /** `redis://127.0.0.1:<port>`, with the default user's password when one is set. */
  readonly url: string;
  readonly port: number;
  readonly dataDirectory: string;
  /** Stops Redis (SIGTERM: with appendOnly, data is flushed) and removes a temporary data folder. */
  stop(): Promise<void>;
  /** Kills Redis at once (SIGKILL) without removing data, to test recovery; `start()` brings it back. */
  kill(): Promise<void>;
  /** Starts Redis again on the same port and data folder after `kill()`; does nothing while it runs. */
  start(): Promise<void>;
  /** Stops Redis gracefully (SIGTERM) and starts it again on the same port and data folder. */
  restart(): Promise<void>;
  /** Kills Redis at once (SIGKILL) and starts it again on the same port and data folder. */
  crash(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === "object" && address !== null) resolve(address.port);
        else reject(new Error("could not get a free port"));
      });
    });
  });
}

/**
 * Starts `redis-server` and waits until it accepts connections.
 *
 * @example
 * ```ts
 * await using redis = await startRedisServer();
 * const connection = new Redis(redis.url);
 * await using guarded = await startRedisServer({ password: "admin-secret", maxMemory: "4mb" });
 * ```
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  // A free port can be taken by another process between the check and redis-server's bind: a port
  // of our choosing is chosen again.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startRedisServerOnce(options);
    } catch (error) {
      if (options.port !== undefined || attempt >= 5 || !isAddressInUse(error)) throw error;
    }
  }
}

/** A redis-server that exited at start because a port it was given is taken. */
export function isAddressInUse(error: unknown): boolean {
  return (
    error instanceof FreeholdError &&
    error.code === "redis.start-failed" &&
    error.message.includes("Address already in use")
  );
}

async function startRedisServerOnce(options: RedisServerOptions): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const temporary = options.dataDirectory === undefined;
  const dataDirectory = options.dataDirectory ?? mkdtempSync(join(tmpdir(), "freehold-redis-"));
  mkdirSync(dataDirectory, { recursive: true });
  const binary = options.binary ?? "redis-server";
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dataDirectory,
    "--save",
    "",
    "--appendonly",
    options.appendOnly === true ? "yes" : "no",
    "--appendfsync",
    options.appendFsync ?? "everysec",
    "--daemonize",
    "no",
    "--protected-mode",
    "yes",
    "--maxmemory-policy",
    "noeviction",
    ...(options.password === undefined ? [] : ["--requirepass", options.password]),
    ...(options.maxMemory === undefined ? [] : ["--maxmemory", options.maxMemory]),
    ...(options.extraArguments ?? []),
  ];
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const started = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    child = started;
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes("Ready to accept connections")) {
          started.stdout.off("data", onData);
          resolve();
        }
      };
      started.stdout.on("data", onData);
      started.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      started.once("error", (error: NodeJS.ErrnoException) => {
        reject(
          new FreeholdError(
            "redis.not-installed",
            error.code === "ENOENT"
              ? `${binary} was not found; install Redis (Debian: apt-get install redis-server) or run scripts/setup.sh`
              : `could not start ${binary}: ${error.message}`,
            { cause: error },
          ),
        );
      });
      started.once("exit", (code) => {
        reject(
          new FreeholdError("redis.start-failed", `${binary} exited with code ${code}:\n${output.trim()}`),
        );
      });
    });
    started.removeAllListeners("exit");
    started.stdout.resume();
  };

  const running = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const current = child;
    if (current === undefined || !running()) return;
    const exited = new Promise<void>((resolve) =>
      current.once("exit", () => {
        resolve();
      }),
    );
    current.kill(signal);
    await exited;
  };

  await launch();
  const stop = async (): Promise<void> => {
    await terminate("SIGTERM");
    if (temporary) rmSync(dataDirectory, { recursive: true, force: true });
  };
  return {
    url:
      options.password === undefined
        ? `redis://127.0.0.1:${port}`
        : `redis://:${encodeURIComponent(options.password)}@127.0.0.1:${port}`,
    port,
    dataDirectory,
    stop,
    kill: () => terminate("SIGKILL"),
    start: async () => {
      if (!running()) await launch();
    },
    restart: async () => {
      await terminate("SIGTERM");
      await launch();
    },
    crash: async () => {
      await terminate("SIGKILL");
      await launch();
    },
    [Symbol.asyncDispose]: stop,
  };
}
