/**
 * Two small servers: `freehold model serve --script <file>` (the scripted OpenAI-compatible model
 * server, for deterministic runs against any framework) and `freehold mcp bridge -- <command>`
 * (a stdio MCP server served over streamable HTTP, as the operator runs stdio MCPServers).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { FreeholdError } from "@freehold/api";
import { startStdioBridge } from "@freehold/mcp";
import { loadModelScript, startScriptedModelServer } from "@freehold/models";
import type { Output } from "../output.ts";

export interface ModelServeOptions {
  readonly script: string;
  readonly host: string;
  readonly port: number;
}

/** Serves a model script until stopped. */
export async function modelServeCommand(
  options: ModelServeOptions,
  output: Output,
  stopped: Promise<void>,
): Promise<void> {
  let text: string;
  try {
    text = readFileSync(options.script, "utf8");
  } catch (error) {
    throw new FreeholdError(
      "cli.path-not-found",
      `cannot read the model script ${options.script}: ${(error as Error).message}`,
    );
  }
  const script = loadModelScript(text, options.script);
  const server = await startScriptedModelServer({ script, host: options.host, port: options.port });
  output.stdout(`scripted model "${script.model}" (${script.turns.length} turns) at ${server.baseUrl}\n`);
  output.stderr(
    `use it as a Model: {provider: openai-compatible, model: ${script.model}, baseUrl: ${server.baseUrl}}\n`,
  );
  await stopped;
  await server.close();
}

/** The variable `freehold mcp bridge` reads its token from (never a command-line argument: `ps` shows those). */
export const bridgeTokenVariable = "FREEHOLD_MCP_BRIDGE_TOKEN";

export interface BridgeOptions {
  readonly command: readonly string[];
  readonly host: string;
  readonly port: number;
  /** A file holding the token (a mounted Secret); otherwise `FREEHOLD_MCP_BRIDGE_TOKEN`. */
  readonly tokenFile?: string;
  /** Sessions (children) at once; default: the library's (32). */
  readonly maxSessions?: number;
  readonly environment: Readonly<Record<string, string | undefined>>;
}

function bridgeToken(options: BridgeOptions): string {
  if (options.tokenFile !== undefined) {
    try {
      return readFileSync(options.tokenFile, "utf8").trim();
    } catch (error) {
      throw new FreeholdError(
        "cli.path-not-found",
        `cannot read the bridge's token from ${options.tokenFile}: ${(error as Error).message}`,
      );
    }
  }
  const token = options.environment[bridgeTokenVariable]?.trim();
  if (token === undefined || token === "") {
    throw new FreeholdError(
      "cli.missing-token",
      `the bridge needs a token: set ${bridgeTokenVariable} (e.g. export ${bridgeTokenVariable}=$(openssl rand -base64 32)) or pass --token-file <file>; clients send it as Authorization: Bearer <token>`,
    );
  }
  return token;
}

/** Serves a stdio MCP server over streamable HTTP until stopped. */
export async function bridgeCommand(
  options: BridgeOptions,
  output: Output,
  stopped: Promise<void>,
): Promise<void> {
  const [command, ...args] = options.command;
  if (command === undefined) {
    throw new FreeholdError(
      "cli.missing-command",
      "name the stdio server to bridge after --, e.g. freehold mcp bridge -- npx -y @modelcontextprotocol/server-memory",
    );
  }
  const token = bridgeToken(options);
  // The bridge's own environment goes to the server (in the operator's pods that is spec.stdio.env),
  // except the bridge's token.
  const env = Object.fromEntries(
    Object.entries(options.environment).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[0] !== bridgeTokenVariable,
    ),
  );
  const bridge = await startStdioBridge({
    command,
    args,
    env,
    token,
    ...(options.maxSessions === undefined ? {} : { maxSessions: options.maxSessions }),
    host: options.host,
    port: options.port,
    onStderr: (session, text) => {
      output.stderr(`[${session.slice(0, 8)}] ${text}`);
    },
  });
  output.stdout(`bridging ${options.command.join(" ")} at ${bridge.url}\n`);
  await stopped;
  await bridge.close();
}
