/**
 * Turns what the MCP SDK and the network throw into a few kinds the pool acts on (reconnect, retry
 * once, give up) and into `FreeholdError`s with stable codes and messages that name the server.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import { SseError } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { describeConnection, type McpConnection } from "./mcp-connection.ts";

/** The error codes of this package. */
export const mcpErrorCodes = [
  "mcp.unavailable",
  "mcp.timeout",
  "mcp.protocol",
  "mcp.cancelled",
  "mcp.unknown-server",
  "tool.not-allowed",
  "tool.not-found",
] as const;
export type McpErrorCode = (typeof mcpErrorCodes)[number];

/**
 * What went wrong with a request to a server:
 * - `session-lost`: the server no longer knows the session (it restarted); the request did not run.
 * - `unreachable`: the request never reached the server (connection refused, not connected).
 * - `connection-lost`: the connection broke, or a gateway answered 502/503/504; the request may or
 *   may not have run.
 * - `timeout`: no answer in time; the request may still be running.
 * - `tool-not-found`: the server does not have the tool.
 * - `protocol`: the server answered with an error or with something that is not MCP.
 */
export type FailureKind =
  "session-lost" | "unreachable" | "connection-lost" | "timeout" | "tool-not-found" | "protocol";

/** A classified failure: its kind and a one-line reason for people. */
export interface Failure {
  readonly kind: FailureKind;
  readonly reason: string;
}

const unreachableCodes = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);
const brokenCodes = new Set(["EPIPE", "ECONNRESET", "ERR_STREAM_DESTROYED", "UND_ERR_SOCKET"]);
const ssePostPattern = /^Error POSTing to endpoint \(HTTP (\d{3})\)/;

/** True when the failure means the connection should be dropped and made again. */
export function isConnectionFailure(kind: FailureKind): boolean {
  return kind === "session-lost" || kind === "unreachable" || kind === "connection-lost";
}

/**
 * Classifies an error thrown by an MCP request.
 *
 * @example
 * ```ts
 * classifyFailure(new StreamableHTTPError(404, "Session not found")).kind; // "session-lost"
 * ```
 */
export function classifyFailure(error: unknown): Failure {
  const reason = describeError(error);
  if (error instanceof McpError) {
    if (error.code === (ErrorCode.ConnectionClosed as number)) return { kind: "connection-lost", reason };
    if (error.code === (ErrorCode.RequestTimeout as number)) return { kind: "timeout", reason };
    if (
      error.code === (ErrorCode.InvalidParams as number) &&
      /\btool\b.*\bnot found\b/i.test(error.message)
    ) {
      return { kind: "tool-not-found", reason };
    }
    return { kind: "protocol", reason };
  }
  if (error instanceof StreamableHTTPError) return { kind: httpStatusKind(error.code ?? 0), reason };
  if (error instanceof SseError) {
    // The event stream's own request: 4xx means the URL or the credentials are wrong.
    const status = error.code ?? 0;
    return { kind: status >= 400 && status < 500 ? "protocol" : "connection-lost", reason };
  }
  if (!(error instanceof Error)) return { kind: "protocol", reason };
  const ssePost = ssePostPattern.exec(error.message);
  if (ssePost?.[1] !== undefined) return { kind: httpStatusKind(Number(ssePost[1])), reason };
  if (error.message === "Not connected") return { kind: "unreachable", reason };
  if (error.name === "AbortError") return { kind: "connection-lost", reason };
  const code = errorCode(error) ?? errorCode(error.cause);
  if (code !== undefined && unreachableCodes.has(code)) return { kind: "unreachable", reason };
  if (code !== undefined && brokenCodes.has(code)) return { kind: "connection-lost", reason };
  if (error instanceof TypeError && error.message === "fetch failed")
    return { kind: "connection-lost", reason };
  return { kind: "protocol", reason };
}

function httpStatusKind(status: number): FailureKind {
  if (status === 404) return "session-lost";
  // A gateway's error: the server behind it may or may not have run the request.
  if (status === 502 || status === 503 || status === 504) return "connection-lost";
  return "protocol";
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}

/** The message of an error and of its causes, joined: `fetch failed: connect ECONNREFUSED 127.0.0.1:80`. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const status =
      current instanceof StreamableHTTPError && current.code !== undefined ? current.code : undefined;
    const text =
      current instanceof Error
        ? `${current.message}${status === undefined || current.message.includes(String(status)) ? "" : ` (HTTP ${status})`}`
        : typeof current === "string"
          ? current
          : JSON.stringify(current);
    if (text !== "" && !parts.some((part) => part.includes(text))) parts.push(text);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(": ") || "unknown error";
}

/** `mcp.unavailable`: the server cannot be reached now; the pool keeps reconnecting. */
export function unavailableError(
  server: string,
  connection: McpConnection,
  reason: string,
  cause?: unknown,
): FreeholdError {
  return new FreeholdError(
    "mcp.unavailable",
    `MCP server "${server}" (${describeConnection(connection)}) is unavailable: ${reason}. ` +
      "The pool keeps reconnecting in the background; retry later, and check that the server is running.",
    { retryable: true, cause, details: { server, target: describeConnection(connection) } },
  );
}

/**
 * `mcp.protocol` for a server that answered the connection attempt with an HTTP error such as 401
 * or 403: a wrong URL or credentials, which retrying will not fix.
 */
export function refusedError(
  server: string,
  connection: McpConnection,
  reason: string,
  cause?: unknown,
): FreeholdError {
  return new FreeholdError(
    "mcp.protocol",
    `MCP server "${server}" (${describeConnection(connection)}) refused the connection: ${reason}. ` +
      "Check the server's URL and the credentials in its headers.",
    { cause, details: { server, target: describeConnection(connection) } },
  );
}

/** True when a failed connection attempt was an HTTP refusal rather than an unreachable server. */
export function isRefusal(error: unknown): boolean {
  return (
    (error instanceof StreamableHTTPError || error instanceof SseError) &&
    classifyFailure(error).kind === "protocol"
  );
}

/** Context of a failed tool call, for its message. */
export interface ToolCallContext {
  readonly server: string;
  readonly tool: string;
  readonly connection: McpConnection;
  readonly timeoutMs: number;
}

/**
 * Wraps a failed tool call: "failed to call tool get_invoice on billing-api: …", with the code of
 * the failure's kind.
 */
export function toolCallError(context: ToolCallContext, failure: Failure, cause?: unknown): FreeholdError {
  const { server, tool } = context;
  const details = { server, tool, kind: failure.kind };
  const prefix = `failed to call tool ${tool} on ${server}`;
  switch (failure.kind) {
    case "timeout":
      return new FreeholdError(
        "mcp.timeout",
        `${prefix}: no answer or progress within ${context.timeoutMs} ms; the call may still be running on the ` +
          "server. Retry with the same idempotency key, or raise the timeout if the tool is slow.",
        { retryable: true, cause, details: { ...details, timeoutMs: context.timeoutMs } },
      );
    case "tool-not-found":
      return new FreeholdError(
        "tool.not-found",
        `${prefix}: the server has no tool named "${tool}" (${failure.reason})`,
        {
          cause,
          details,
        },
      );
    case "protocol":
      return new FreeholdError("mcp.protocol", `${prefix}: ${failure.reason}`, { cause, details });
    case "session-lost":
    case "unreachable":
    case "connection-lost":
      return new FreeholdError(
        "mcp.unavailable",
        `${prefix}: the server at ${describeConnection(context.connection)} is unavailable (${failure.reason}). ` +
          "The pool reconnects in the background; retry with the same idempotency key.",
        { retryable: true, cause, details },
      );
  }
}

/** Prefixes an error that is already a `FreeholdError` with the call's context, keeping its code. */
export function withToolContext(server: string, tool: string, error: FreeholdError): FreeholdError {
  const prefix = `failed to call tool ${tool} on ${server}: `;
  if (error.message.startsWith(prefix)) return error;
  return new FreeholdError(error.code, `${prefix}${error.message}`, {
    retryable: error.retryable,
    cause: error,
    details: { ...error.details, server, tool },
  });
}
