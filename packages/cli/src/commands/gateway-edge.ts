/**
 * `freehold gateway`'s edge flags: the origins browsers may call it from (`--allowed-origin`,
 * repeatable or comma-separated) and the limits per caller (`--requests-per-second`, `--burst`,
 * `--max-streams-per-caller`), each with its environment variable. They are checked before the
 * gateway starts: a bad value is refused with what to write instead.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import type { GatewayOptions } from "@freehold/gateway";
import { Command } from "commander";

/** What the gateway's edge takes (`GatewayOptions.edge`). */
export type GatewayEdgeOptions = NonNullable<GatewayOptions["edge"]>;

/** The edge flags as commander parses them. */
export interface GatewayEdgeFlags {
  readonly allowedOrigin?: readonly string[];
  readonly requestsPerSecond?: string;
  readonly burst?: string;
  readonly maxStreamsPerCaller?: string;
}

/** The largest value each limit takes (the chart's values.schema.json has the same bounds). */
export const edgeMaxima = {
  requestsPerSecond: 100_000,
  burst: 1_000_000,
  maxStreamsPerCaller: 10_000,
} as const;

/** Allowed origins at most. */
export const maxAllowedOrigins = 100;

/** The flags, their environment variables and what they say in `--help`. */
const limitFlags = [
  {
    key: "requestsPerSecond",
    flag: "--requests-per-second",
    variable: "FREEHOLD_GATEWAY_REQUESTS_PER_SECOND",
    help: "requests per second each caller may make on average (default 20)",
  },
  {
    key: "burst",
    flag: "--burst",
    variable: "FREEHOLD_GATEWAY_BURST",
    help: "requests a caller may make at once (default 100)",
  },
  {
    key: "maxStreamsPerCaller",
    flag: "--max-streams-per-caller",
    variable: "FREEHOLD_GATEWAY_MAX_STREAMS_PER_CALLER",
    help: "event streams one caller may hold open at once (default 50)",
  },
] as const;

/**
 * Adds the edge flags to `freehold gateway`, with their environment variables as defaults.
 *
 * @example
 * ```ts
 * withEdgeOptions(program.command("gateway"), process.env);
 * ```
 */
export function withEdgeOptions(
  command: Command,
  environment: Readonly<Record<string, string | undefined>>,
): Command {
  command.option(
    "--allowed-origin <origin...>",
    "an origin browsers may call the gateway from, scheme://host[:port]; repeat it or separate with commas " +
      "(FREEHOLD_GATEWAY_ALLOWED_ORIGINS)",
    environment.FREEHOLD_GATEWAY_ALLOWED_ORIGINS === undefined
      ? undefined
      : [environment.FREEHOLD_GATEWAY_ALLOWED_ORIGINS],
  );
  for (const { flag, variable, help } of limitFlags)
    command.option(`${flag} <n>`, `${help} (${variable})`, environment[variable]);
  return command;
}

/**
 * An origin as browsers send it: `https://console.acme.com` or `http://localhost:3000`, nothing
 * after the host and port.
 *
 * @example
 * ```ts
 * parseOrigin("https://Console.Acme.com"); // "https://console.acme.com"
 * parseOrigin("https://console.acme.com/app"); // throws cli.invalid-option
 * ```
 */
export function parseOrigin(text: string): string {
  const refuse = (why: string): FreeholdError =>
    new FreeholdError(
      "cli.invalid-option",
      `--allowed-origin ${JSON.stringify(text)} ${why}: write an origin as browsers send it, ` +
        "scheme://host[:port] with nothing after it (https://console.acme.com, http://localhost:3000)",
    );
  if (!/^https?:\/\/[^/?#@\s]+$/i.test(text)) {
    throw refuse("is not an http or https origin without a path, query or user");
  }
  try {
    return new URL(text).origin;
  } catch {
    throw refuse("is not a valid URL");
  }
}

function positiveInteger(text: string, flag: string, variable: string, maximum: number): number {
  if (!/^[0-9]+$/.test(text.trim()) || Number(text) < 1 || Number(text) > maximum) {
    throw new FreeholdError(
      "cli.invalid-option",
      `${flag} (or ${variable}) must be a whole number from 1 to ${maximum}, not ${JSON.stringify(text)}`,
    );
  }
  return Number(text);
}

/**
 * The edge options of the flags, checked: origins are `scheme://host[:port]` (at most
 * {@link maxAllowedOrigins}), limits whole numbers from 1 to their {@link edgeMaxima}.
 *
 * @example
 * ```ts
 * gatewayEdgeOptions({ allowedOrigin: ["https://console.acme.com,https://ops.acme.com"], burst: "200" });
 * // { allowedOrigins: ["https://console.acme.com", "https://ops.acme.com"], burst: 200 }
 * ```
 */
export function gatewayEdgeOptions(flags: GatewayEdgeFlags): GatewayEdgeOptions {
  const origins = (flags.allowedOrigin ?? [])
    .flatMap((value) => value.split(","))
    .map((origin) => origin.trim())
    .filter((origin) => origin !== "");
  if (origins.length > maxAllowedOrigins) {
    throw new FreeholdError(
      "cli.invalid-option",
      `--allowed-origin names ${origins.length} origins, more than the ${maxAllowedOrigins} the gateway takes: ` +
        "serve your consoles from fewer origins",
    );
  }
  const options: {
    allowedOrigins?: string[];
    requestsPerSecond?: number;
    burst?: number;
    maxStreamsPerCaller?: number;
  } = {};
  if (origins.length > 0) options.allowedOrigins = [...new Set(origins.map(parseOrigin))];
  for (const { key, flag, variable } of limitFlags) {
    const text = flags[key];
    if (text !== undefined) options[key] = positiveInteger(text, flag, variable, edgeMaxima[key]);
  }
  return options satisfies GatewayEdgeOptions;
}

/**
 * The edge options of a command line and an environment, read and checked as `freehold gateway`
 * reads them: for what checks a rendered command line (the chart's gateway Deployment).
 *
 * @example
 * ```ts
 * parseEdgeArguments(["--allowed-origin=https://console.acme.com", "--burst=200"], {});
 * // { allowedOrigins: ["https://console.acme.com"], burst: 200 }
 * ```
 */
export function parseEdgeArguments(
  args: readonly string[],
  environment: Readonly<Record<string, string | undefined>>,
): GatewayEdgeOptions {
  const command = withEdgeOptions(new Command("gateway").exitOverride(), environment);
  command.parse([...args], { from: "user" });
  return gatewayEdgeOptions(command.opts<GatewayEdgeFlags>());
}
