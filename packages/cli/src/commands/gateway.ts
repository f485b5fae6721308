/**
 * The gateway from the command line: `freehold gateway` serves the HTTP API on a Redis, and the
 * commands that talk to a running gateway (`inbox`, `approvals`) share its options here:
 * `--gateway-url` (FREEHOLD_GATEWAY_URL), `--user` (FREEHOLD_USER, else the OS user name) and
 * `-n/--namespace` (FREEHOLD_NAMESPACE, else `default`), and print tables the same way.
 *
 * @module
 */
import { userInfo } from "node:os";
import { FreeholdError } from "@freehold/api";
import { createGateway, createGatewayClient, type GatewayClient } from "@freehold/gateway";
import type { Command } from "commander";
import { Redis } from "ioredis";
import type { Output } from "../output.ts";

/** What the gateway commands need from the program. */
export interface GatewayCommandContext {
  readonly output: Output;
  readonly environment: Readonly<Record<string, string | undefined>>;
  /** Resolves when a long-running command should stop (SIGINT, SIGTERM). */
  readonly stopped: () => Promise<void>;
}

export interface GatewayServeOptions {
  readonly redisUrl: string;
  readonly port: number;
  readonly host: string;
  /** The URL callers reach the gateway at, for A2A agent cards. */
  readonly publicUrl?: string;
}

/**
 * Serves the gateway until stopped.
 *
 * @example
 * ```ts
 * await gatewayCommand({ redisUrl: "redis://127.0.0.1:6379", port: 8080, host: "127.0.0.1" }, processOutput(), stopped);
 * ```
 */
export async function gatewayCommand(
  options: GatewayServeOptions,
  output: Output,
  stopped: Promise<void>,
): Promise<void> {
  const connection = new Redis(options.redisUrl, {
    // A Redis that is down or stuck fails requests with a 503 instead of holding them.
    maxRetriesPerRequest: 3,
    commandTimeout: 10_000,
    lazyConnect: true,
  });
  try {
    await connection.connect();
  } catch (error) {
    connection.disconnect();
    throw new FreeholdError(
      "cli.redis-unreachable",
      `cannot reach Redis at ${options.redisUrl}: ${(error as Error).message}; start it or pass --redis-url`,
      { cause: error },
    );
  }
  const gateway = createGateway({
    redis: connection,
    log: (line) => {
      output.stderr(`${line}\n`);
    },
    ...(options.publicUrl === undefined ? {} : { publicUrl: options.publicUrl }),
  });
  try {
    const { url } = await gateway.listen(options.port, options.host);
    output.stdout(`gateway at ${url} (OpenAPI: ${url}/openapi.json)\n`);
    output.stderr(
      "no authentication yet: X-Freehold-User names the acting person and is trusted; keep the gateway on a private network\n",
    );
    await stopped;
  } finally {
    await gateway.close();
    connection.disconnect();
  }
}

/** The options every gateway client command takes, as commander parses them. */
export interface GatewayClientFlags {
  readonly gatewayUrl?: string;
  readonly user?: string;
  readonly namespace: string;
}

function osUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

/** Adds `--gateway-url`, `--user` and `-n/--namespace` to a command. */
export function withGatewayOptions(
  command: Command,
  environment: Readonly<Record<string, string | undefined>>,
): Command {
  return command
    .option("--gateway-url <url>", "the gateway (FREEHOLD_GATEWAY_URL)", environment.FREEHOLD_GATEWAY_URL)
    .option(
      "--user <name>",
      "who you are (FREEHOLD_USER; default: your user name)",
      environment.FREEHOLD_USER ?? osUser(),
    )
    .option("-n, --namespace <namespace>", "the namespace", environment.FREEHOLD_NAMESPACE ?? "default");
}

/** The client of the gateway the flags name. */
export function gatewayClient(flags: GatewayClientFlags): GatewayClient {
  if (flags.gatewayUrl === undefined || flags.gatewayUrl === "") {
    throw new FreeholdError(
      "cli.no-gateway",
      "no gateway to talk to: pass --gateway-url or set FREEHOLD_GATEWAY_URL (start one with `freehold gateway --redis-url ...`)",
    );
  }
  return createGatewayClient({
    url: flags.gatewayUrl,
    ...(flags.user === undefined ? {} : { user: flags.user }),
  });
}

/** Text cut to `width` characters, on one line. */
export function clip(text: string, width: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`;
}

/** How long ago an ISO time was, shortly: `45s`, `12m`, `3h`, `2d`. */
export function age(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/**
 * Rows as a table with a header line, columns padded to their widest cell; the last column is not
 * padded.
 *
 * @example
 * ```ts
 * table(["ITEM", "AGENT"], [["a1", "billing"]]); // "ITEM  AGENT\na1    billing\n"
 * ```
 */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join("\n")}\n`;
}

function port(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    throw new FreeholdError(
      "cli.invalid-option",
      `--port must be a port number (0 to 65535), not ${JSON.stringify(text)}`,
    );
  }
  return value;
}

/**
 * Adds `freehold gateway` to the program.
 *
 * @example
 * ```ts
 * registerGatewayCommand(program, context); // in createProgram
 * ```
 */
export function registerGatewayCommand(program: Command, context: GatewayCommandContext): void {
  program
    .command("gateway")
    .description("serve the HTTP API (runs, events, inbox, approvals, A2A, OpenAPI) until Ctrl-C")
    .option("--redis-url <url>", "Redis (FREEHOLD_REDIS_URL)", context.environment.FREEHOLD_REDIS_URL)
    .option("--host <host>", "the address to listen on (0.0.0.0 in a container)", "127.0.0.1")
    .option("-p, --port <port>", "the port (0: a free one)", "8080")
    .option("--public-url <url>", "the URL callers reach the gateway at, for A2A agent cards")
    .action(async (options: { redisUrl?: string; host: string; port: string; publicUrl?: string }) => {
      if (options.redisUrl === undefined) {
        throw new FreeholdError("cli.no-redis", "freehold gateway needs --redis-url or FREEHOLD_REDIS_URL");
      }
      await gatewayCommand(
        {
          redisUrl: options.redisUrl,
          host: options.host,
          port: port(options.port),
          ...(options.publicUrl === undefined ? {} : { publicUrl: options.publicUrl }),
        },
        context.output,
        context.stopped(),
      );
    });
}
