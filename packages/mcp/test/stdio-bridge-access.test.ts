/**
 * Who may use the stdio bridge: only a caller with its token (no token, a wrong one, a guessed
 * session id: 401 and no child started), and only so many sessions at once (500 concurrent
 * `initialize` calls on loopback: exactly the cap get a session, the rest 503 with Retry-After).
 */
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createMcpPool, startStdioBridge, type StdioBridge } from "../src/index.ts";
import { counterServerPath, rejection, waitFor } from "./helpers.ts";

const token = randomBytes(32).toString("base64url");

const initialize = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "attacker", version: "0.0.0" },
  },
});

async function post(
  url: string,
  headers: Record<string, string>,
  body = initialize,
): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...headers,
    },
    body,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe("access to the stdio bridge", () => {
  let bridge: StdioBridge | undefined;

  afterEach(async () => {
    await bridge?.close();
    bridge = undefined;
  });

  async function start(maxSessions?: number): Promise<StdioBridge> {
    bridge = await startStdioBridge({
      command: process.execPath,
      args: [counterServerPath, "--stdio"],
      token,
      ...(maxSessions === undefined ? {} : { maxSessions }),
    });
    return bridge;
  }

  it("answers 401 with WWW-Authenticate: Bearer without the token or with a wrong one, and starts no child", async () => {
    const { url } = await start();
    const without = await post(url, {});
    expect(without.status).toBe(401);
    expect(without.headers.get("www-authenticate")).toMatch(/^Bearer /);

    const wrong = await post(url, { authorization: `Bearer ${randomBytes(32).toString("base64url")}` });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Bearer .*error="invalid_token"/);
    // The token with a byte more or less, or in another scheme, is no token either.
    for (const sent of [`Bearer ${token}x`, `Bearer ${token.slice(0, -1)}`, `Basic ${token}`, token]) {
      expect((await post(url, { authorization: sent })).status, sent).toBe(401);
    }
    // Knowing (or guessing) a session id does not get around it.
    const guessed = await post(url, { "mcp-session-id": "00000000-0000-0000-0000-000000000000" });
    expect(guessed.status).toBe(401);
    expect(bridge?.sessions()).toBe(0);

    // A pool with the wrong token is refused as a protocol error, not retried as if the server were down.
    const pool = createMcpPool(
      { counter: { transport: "http", url, headers: { Authorization: "Bearer not-the-token-at-all" } } },
      { reconnect: { initialDelayMs: 50 }, connectTimeoutMs: 5_000 },
    );
    try {
      const error = await rejection(pool.listTools("counter"));
      expect(error.code).toBe("mcp.protocol");
      expect(error.message).not.toContain("not-the-token-at-all");
    } finally {
      await pool.close();
    }

    // The health probe needs no token; the right token gets a session.
    expect((await fetch(new URL("/healthz", url))).status).toBe(200);
    const right = await post(url, { authorization: `Bearer ${token}` });
    expect(right.status).toBe(200);
    expect(bridge?.sessions()).toBe(1);
  });

  it("refuses a token shorter than 16 characters", async () => {
    const error = await rejection(
      startStdioBridge({ command: process.execPath, args: [counterServerPath, "--stdio"], token: "short" }),
    );
    expect(error.code).toBe("mcp.bridge-token-invalid");
  });

  it("gives 500 concurrent initialize calls exactly maxSessions sessions, and the rest 503 with Retry-After", async () => {
    const maxSessions = 8;
    const { url } = await start(maxSessions);
    const results = await Promise.all(
      Array.from({ length: 500 }, async () => await post(url, { authorization: `Bearer ${token}` })),
    );
    const statuses = results.map((result) => result.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(maxSessions);
    const refused = results.filter((result) => result.status === 503);
    expect(refused).toHaveLength(500 - maxSessions);
    for (const result of refused) {
      expect(result.headers.get("retry-after")).toBe("5");
      expect(JSON.parse(result.text)).toMatchObject({ error: { code: -32000 } });
    }
    expect(bridge?.sessions()).toBe(maxSessions);

    // A session that ends frees its place.
    const accepted = results.find((result) => result.status === 200);
    const sessionId = accepted?.headers.get("mcp-session-id");
    if (sessionId === null || sessionId === undefined) throw new Error("no Mcp-Session-Id on a session");
    const ended = await fetch(url, {
      method: "DELETE",
      headers: { authorization: `Bearer ${token}`, "mcp-session-id": sessionId },
    });
    expect(ended.status).toBe(200);
    await waitFor("the ended session to free its place", () => bridge?.sessions() === maxSessions - 1);
    const next = await post(url, { authorization: `Bearer ${token}` });
    expect(next.status).toBe(200);
  });
});
