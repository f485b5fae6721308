import { SseError } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { describeConnection } from "./mcp-connection.ts";
import { classifyFailure, describeError, toolCallError, unavailableError } from "./mcp-failure.ts";

function fetchFailed(code: string, message: string): TypeError {
  return new TypeError("fetch failed", { cause: Object.assign(new Error(message), { code }) });
}

describe("classifyFailure", () => {
  it.each([
    [
      "a 404 for a session the server forgot",
      new StreamableHTTPError(404, "Session not found"),
      "session-lost",
    ],
    [
      "an SSE post to a forgotten session",
      new Error("Error POSTing to endpoint (HTTP 404): Could not find session"),
      "session-lost",
    ],
    [
      "a gateway whose server may have run the request",
      new StreamableHTTPError(502, "Bad Gateway"),
      "connection-lost",
    ],
    ["a refused connection", fetchFailed("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1"), "unreachable"],
    ["a transport that is closed", new Error("Not connected"), "unreachable"],
    ["a socket closed mid-request", fetchFailed("UND_ERR_SOCKET", "other side closed"), "connection-lost"],
    ["a closed connection", new McpError(ErrorCode.ConnectionClosed, "Connection closed"), "connection-lost"],
    ["a broken event stream", new SseError(undefined, "terminated", undefined as never), "connection-lost"],
    ["a request timeout", new McpError(ErrorCode.RequestTimeout, "Request timed out"), "timeout"],
    [
      "an unknown tool",
      new McpError(ErrorCode.InvalidParams, "Tool get_invoice not found"),
      "tool-not-found",
    ],
    [
      "invalid arguments",
      new McpError(ErrorCode.InvalidParams, "Invalid arguments for tool add"),
      "protocol",
    ],
    ["a refused credential", new StreamableHTTPError(401, "Unauthorized"), "protocol"],
    ["an event stream refused", new SseError(403, "Forbidden", undefined as never), "protocol"],
  ])("classifies %s", (_, error, kind) => {
    expect(classifyFailure(error).kind).toBe(kind);
  });
});

describe("describeError", () => {
  it("joins an error with its causes", () => {
    expect(describeError(fetchFailed("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1"))).toBe(
      "fetch failed: connect ECONNREFUSED 127.0.0.1:1",
    );
  });
});

describe("errors", () => {
  const connection = {
    transport: "http",
    url: "http://billing:8080/mcp",
    headers: { Authorization: "Bearer secret" },
  } as const;

  it("name the server and its URL, never its headers", () => {
    const error = unavailableError("billing-api", connection, "fetch failed");
    expect(error).toMatchObject({ code: "mcp.unavailable", retryable: true });
    expect(error.message).toMatch(
      /^MCP server "billing-api" \(http:\/\/billing:8080\/mcp\) is unavailable: fetch failed\./,
    );
    expect(JSON.stringify(error.toJSON())).not.toContain("secret");
  });

  it("wrap a failed call with its context", () => {
    const context = { server: "billing-api", tool: "get_invoice", connection, timeoutMs: 5_000 };
    const error = toolCallError(context, { kind: "protocol", reason: "MCP error -32602: Invalid arguments" });
    expect(error.message).toBe(
      "failed to call tool get_invoice on billing-api: MCP error -32602: Invalid arguments",
    );
    expect(toolCallError(context, { kind: "timeout", reason: "" })).toMatchObject({
      code: "mcp.timeout",
      retryable: true,
    });
  });

  it("describe a stdio command without its environment", () => {
    expect(
      describeConnection({
        transport: "stdio",
        command: "npx",
        args: ["-y", "a b"],
        env: { TOKEN: "secret" },
      }),
    ).toBe('npx -y "a b"');
  });
});
