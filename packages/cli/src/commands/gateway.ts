/**
 * The gateway from the command line: `freehold gateway` serves the HTTP API on a Redis, and the
 * commands that talk to a running gateway (`inbox`, `approvals`) share its options here:
 * `--gateway-url` (FREEHOLD_GATEWAY_URL), the bearer token (FREEHOLD_TOKEN, else `--token-file`,
 * else the token `freehold dev` wrote) and `-n/--namespace` (FREEHOLD_NAMESPACE, else `default`),
 * and print tables the same way. Who may call it comes from `gateway-auth.ts`, its edge (allowed
 * origins, limits per caller) from `gateway-edge.ts`.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { FreeholdError, redactUrls } from "@freehold/api";
import { connectRedis, parseRetentionSeconds } from "@freehold/handoff";
// The gateway's code (and hono, jose) is imported when a command needs it, not by every command.
import type { FreeholdClient } from "@freehold/sdk/client";
import type { Command } from "commander";
import type { Output } from "../output.ts";
import type { GatewayAuth } from "./gateway-auth.ts";
import {
  gatewayEdgeOptions,
  withEdgeOptions,
  type GatewayEdgeFlags,
  type GatewayEdgeOptions,
} from "./gateway-edge.ts";

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
  /** The console's built folder; absent: no console. */
  readonly consoleDirectory?: string;
  /** How people sign in to the console with OIDC; absent: a pasted token. */
  readonly consoleOidc?: {
    readonly issuer: string;
    readonly clientId: string;
    readonly scopes?: readonly string[];
  };
  /** How long the runs it cancels are kept, in seconds (0: forever); default 7 days. */
  readonly runRetentionSeconds?: number;
  /** Who may do what (see `gatewayAuth`). */
  readonly auth: GatewayAuth;
  /** Serve Prometheus metrics at /metrics on this port of `host` (never on the API's port). */
  readonly metricsPort?: number;
  /** Allowed origins and the limits per caller (see `gatewayEdgeOptions`). */
  readonly edge?: GatewayEdgeOptions;
}

/**
 * Serves the gateway until stopped.
 *
 * @example
 * ```ts
 * const auth = gatewayAuth({ tokenFile: "tokens.csv", policyFile: "policy.yaml" }, process.env, process.cwd(), log);
 * await gatewayCommand({ redisUrl: "redis://127.0.0.1:6379", port: 8080, host: "127.0.0.1", auth }, processOutput(), stopped);
 * ```
 */
export async function gatewayCommand(
  options: GatewayServeOptions,
  output: Output,
  stopped: Promise<void>,
): Promise<void> {
  const { createGateway, createGatewayMetrics } = await import("@freehold/gateway");
  const connection = connectRedis(options.redisUrl, {
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
      `cannot reach Redis at ${redactUrls(options.redisUrl)}: ${redactUrls((error as Error).message)}; start it or pass --redis-url`,
      { cause: error },
    );
  }
  const metrics = options.metricsPort === undefined ? undefined : createGatewayMetrics();
  const gateway = createGateway({
    redis: connection,
    authenticator: options.auth.authenticator,
    authorizer: options.auth.authorizer,
    directory: options.auth.directory,
    log: (line) => {
      output.stderr(`${line}\n`);
    },
    ...(options.publicUrl === undefined ? {} : { publicUrl: options.publicUrl }),
    ...(options.runRetentionSeconds === undefined
      ? {}
      : { runRetentionSeconds: options.runRetentionSeconds }),
    ...(options.edge === undefined ? {} : { edge: options.edge }),
    ...(metrics === undefined ? {} : { metrics }),
    ...(options.consoleDirectory === undefined
      ? {}
      : {
          console: {
            directory: options.consoleDirectory,
            ...(options.consoleOidc === undefined ? {} : { oidc: options.consoleOidc }),
          },
        }),
  });
  try {
    const { url } = await gateway.listen(options.port, options.host);
    output.stdout(`gateway at ${url} (OpenAPI: ${url}/openapi.json)\n`);
    if (options.consoleDirectory !== undefined) output.stdout(`console at ${url}/\n`);
    if (metrics !== undefined && options.metricsPort !== undefined) {
      const served = await metrics.listen(options.metricsPort, options.host);
      output.stdout(`metrics at ${served.url}\n`);
    }
    output.stderr(`${options.auth.summary}\n`);
    await stopped;
  } finally {
    await gateway.close();
    await metrics?.close();
    connection.disconnect();
  }
}

/** The options every gateway client command takes, as commander parses them. */
export interface GatewayClientFlags {
  readonly gatewayUrl?: string;
  /** A file holding your bearer token alone (FREEHOLD_TOKEN takes precedence). */
  readonly tokenFile?: string;
  readonly namespace: string;
}

/** Adds `--gateway-url`, `--token-file` and `-n/--namespace` to a command. */
export function withGatewayOptions(
  command: Command,
  environment: Readonly<Record<string, string | undefined>>,
): Command {
  return command
    .option("--gateway-url <url>", "the gateway (FREEHOLD_GATEWAY_URL)", environment.FREEHOLD_GATEWAY_URL)
    .option(
      "--token-file <path>",
      "a file with your bearer token (FREEHOLD_TOKEN takes precedence; default: the one freehold dev wrote)",
      environment.FREEHOLD_TOKEN_FILE,
    )
    .option("-n, --namespace <namespace>", "the namespace", environment.FREEHOLD_NAMESPACE ?? "default");
}

/** The client of the gateway the flags name, sending your token. */
export async function gatewayClient(
  flags: GatewayClientFlags,
  environment: Readonly<Record<string, string | undefined>>,
): Promise<FreeholdClient> {
  if (flags.gatewayUrl === undefined || flags.gatewayUrl === "") {
    throw new FreeholdError(
      "cli.no-gateway",
      "no gateway to talk to: pass --gateway-url or set FREEHOLD_GATEWAY_URL (start one with `freehold gateway --redis-url ...`)",
    );
  }
  const { readClientToken } = await import("../dev/dev-auth.ts");
  const token = readClientToken(environment, flags.tokenFile);
  if (token === undefined) {
    throw new FreeholdError(
      "cli.no-token",
      "no token to send to the gateway: set FREEHOLD_TOKEN, pass --token-file, or start `freehold dev` (it writes yours)",
    );
  }
  const { createClient } = await import("@freehold/sdk/client");
  return createClient({ url: flags.gatewayUrl, token });
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

/** `freehold gateway`'s flags as commander parses them. */
interface GatewayFlags extends GatewayEdgeFlags {
  readonly redisUrl?: string;
  readonly host: string;
  readonly port: string;
  readonly metricsPort?: string;
  readonly publicUrl?: string;
  readonly tokenFile?: string;
  readonly policyFile?: string;
  readonly oidcIssuer?: string;
  readonly oidcAudience?: string[];
  readonly oidcGroupsClaim?: string;
  readonly oidcUsernameClaim?: string;
  readonly oidcJwksUrl?: string;
  readonly kubernetesAuth?: boolean;
  readonly tokenReviewAudiences?: string[];
  readonly manifests?: string;
  readonly runRetention: string;
  readonly consoleDir?: string;
  /** False with --no-console. */
  readonly console: boolean;
  readonly consoleOidcClientId?: string;
  readonly consoleOidcScope?: string[];
}

/**
 * The console's folder: --console-dir (or FREEHOLD_CONSOLE_DIR), else the workspace's built console
 * when there is one; none with --no-console.
 */
function consoleOption(options: GatewayFlags): Pick<GatewayServeOptions, "consoleDirectory" | "consoleOidc"> {
  const oidc = consoleOidcOption(options);
  if (!options.console) return {};
  const directory = options.consoleDir ?? builtConsole();
  if (directory === undefined) return {};
  return { consoleDirectory: directory, ...(oidc === undefined ? {} : { consoleOidc: oidc }) };
}

/** The workspace's built console, from src/commands/ or bundle/ of the CLI (packages/ is two or three folders up). */
function builtConsole(): string | undefined {
  for (const up of ["../..", "../../.."]) {
    const directory = join(import.meta.dirname, up, "console", "dist");
    if (existsSync(join(directory, "index.html"))) return directory;
  }
  return undefined;
}

/**
 * The console's OIDC client, checked against the gateway's OIDC settings: the ID tokens it sends
 * are for its client id, so the gateway must trust that audience.
 *
 * @throws FreeholdError `cli.console-oidc-needs-issuer`, `cli.console-oidc-audience`.
 */
function consoleOidcOption(options: GatewayFlags): GatewayServeOptions["consoleOidc"] {
  const clientId = options.consoleOidcClientId;
  if (clientId === undefined) return undefined;
  if (options.oidcIssuer === undefined) {
    throw new FreeholdError(
      "cli.console-oidc-needs-issuer",
      "--console-oidc-client-id needs --oidc-issuer: the console signs people in at the issuer the gateway trusts",
    );
  }
  if (!(options.oidcAudience ?? []).includes(clientId)) {
    throw new FreeholdError(
      "cli.console-oidc-audience",
      `the console sends ID tokens for its client id ${clientId}, which --oidc-audience does not name: add --oidc-audience ${clientId}`,
    );
  }
  return {
    issuer: options.oidcIssuer,
    clientId,
    ...(options.consoleOidcScope === undefined ? {} : { scopes: options.consoleOidcScope }),
  };
}

/** The entries whose value is not undefined (for exactOptionalPropertyTypes). */
function definedOnly<Entries extends Record<string, unknown>>(
  entries: Entries,
): { [Key in keyof Entries]?: Exclude<Entries[Key], undefined> } {
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined)) as {
    [Key in keyof Entries]?: Exclude<Entries[Key], undefined>;
  };
}

function port(text: string, flag = "--port"): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    throw new FreeholdError(
      "cli.invalid-option",
      `${flag} must be a port number (0 to 65535), not ${JSON.stringify(text)}`,
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
  const { environment } = context;
  const command = program
    .command("gateway")
    .description("serve the HTTP API (runs, events, inbox, approvals, A2A, OpenAPI) until Ctrl-C")
    .option("--redis-url <url>", "Redis (FREEHOLD_REDIS_URL)", context.environment.FREEHOLD_REDIS_URL)
    .option("--host <host>", "the address to listen on (0.0.0.0 in a container)", "127.0.0.1")
    .option("-p, --port <port>", "the port (0: a free one)", "8080")
    .option(
      "--metrics-port <port>",
      "serve Prometheus metrics at /metrics on this port of --host, apart from the API (FREEHOLD_GATEWAY_METRICS_PORT; default: off)",
      environment.FREEHOLD_GATEWAY_METRICS_PORT,
    )
    .option("--public-url <url>", "the URL callers reach the gateway at, for A2A agent cards")
    .option(
      "--token-file <path>",
      "token,user,group1|group2 lines, mode 0600 (FREEHOLD_GATEWAY_TOKEN_FILE)",
      environment.FREEHOLD_GATEWAY_TOKEN_FILE,
    )
    .option(
      "--policy-file <path>",
      "bindings of users and groups to the tenant roles per namespace (FREEHOLD_POLICY_FILE)",
      environment.FREEHOLD_POLICY_FILE,
    )
    .option(
      "--oidc-issuer <url>",
      "accept JWTs of this OIDC issuer (FREEHOLD_OIDC_ISSUER)",
      environment.FREEHOLD_OIDC_ISSUER,
    )
    .option(
      "--oidc-audience <aud...>",
      "the audiences OIDC tokens must name (FREEHOLD_OIDC_AUDIENCE, comma-separated)",
      environment.FREEHOLD_OIDC_AUDIENCE?.split(","),
    )
    .option(
      "--oidc-groups-claim <claim>",
      "the claim with the groups (default groups)",
      environment.FREEHOLD_OIDC_GROUPS_CLAIM,
    )
    .option(
      "--oidc-username-claim <claim>",
      "the claim with the user name (default sub)",
      environment.FREEHOLD_OIDC_USERNAME_CLAIM,
    )
    .option(
      "--oidc-jwks-url <url>",
      "the issuer's JWKS (default: from its discovery document)",
      environment.FREEHOLD_OIDC_JWKS_URL,
    )
    .option(
      "--kubernetes-auth",
      "TokenReview and SubjectAccessReview against the cluster the gateway runs in",
      environment.FREEHOLD_KUBERNETES_AUTH === "true",
    )
    .option("--token-review-audiences <aud...>", "audiences for TokenReview (default: the API server's)")
    .option(
      "--manifests <folder>",
      "read HumanQueues' members and Agents' tools from this folder (freehold dev)",
    )
    .option(
      "--run-retention <period>",
      "how long the runs the gateway cancels are kept: seconds, or 30m, 12h, 7d; 0 keeps them (FREEHOLD_RUN_RETENTION)",
      environment.FREEHOLD_RUN_RETENTION ?? "7d",
    )
    .option(
      "--console-dir <folder>",
      "serve the web console at / from this built folder (FREEHOLD_CONSOLE_DIR; default: the workspace's packages/console/dist when built)",
      environment.FREEHOLD_CONSOLE_DIR,
    )
    .option("--no-console", "serve no web console")
    .option(
      "--console-oidc-client-id <id>",
      "sign people in to the console at --oidc-issuer as this public client (PKCE; redirect URI: the gateway's /); --oidc-audience must include it (FREEHOLD_CONSOLE_OIDC_CLIENT_ID)",
      environment.FREEHOLD_CONSOLE_OIDC_CLIENT_ID,
    )
    .option(
      "--console-oidc-scope <scope...>",
      "scopes the console asks for besides openid, e.g. groups profile (FREEHOLD_CONSOLE_OIDC_SCOPES, space-separated)",
      environment.FREEHOLD_CONSOLE_OIDC_SCOPES?.split(" ").filter((scope) => scope !== ""),
    );
  withEdgeOptions(command, environment).action(async (options: GatewayFlags) => {
    if (options.redisUrl === undefined) {
      throw new FreeholdError("cli.no-redis", "freehold gateway needs --redis-url or FREEHOLD_REDIS_URL");
    }
    const edge = gatewayEdgeOptions(options);
    const { gatewayAuth } = await import("./gateway-auth.ts");
    const auth = gatewayAuth(
      {
        kubernetesAuth: options.kubernetesAuth === true,
        ...definedOnly({
          tokenFile: options.tokenFile,
          policyFile: options.policyFile,
          oidcIssuer: options.oidcIssuer,
          oidcAudience: options.oidcAudience,
          oidcGroupsClaim: options.oidcGroupsClaim,
          oidcUsernameClaim: options.oidcUsernameClaim,
          oidcJwksUrl: options.oidcJwksUrl,
          tokenReviewAudiences: options.tokenReviewAudiences,
          manifests: options.manifests,
        }),
      },
      environment,
      process.cwd(),
      (line) => {
        context.output.stderr(`${line}\n`);
      },
    );
    await gatewayCommand(
      {
        redisUrl: options.redisUrl,
        host: options.host,
        port: port(options.port),
        ...(options.metricsPort === undefined
          ? {}
          : { metricsPort: port(options.metricsPort, "--metrics-port") }),
        auth,
        edge,
        ...(options.publicUrl === undefined ? {} : { publicUrl: options.publicUrl }),
        runRetentionSeconds: parseRetentionSeconds(options.runRetention, "--run-retention"),
        ...consoleOption(options),
      },
      context.output,
      context.stopped(),
    );
  });
}
