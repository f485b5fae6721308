/**
 * The stdio → streamable HTTP bridge: the stdio counter served over HTTP and used through the pool,
 * one child per session, children killed when sessions end.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLedger } from "../../../test/fixtures/mcp/ledger.ts";
import {
  createMcpPool,
  startStdioBridge,
  type McpPool,
  type StdioBridge,
  type ToolCallProgress,
} from "../src/index.ts";
import { counterServerPath, isRunning, rejection, waitFor } from "./helpers.ts";

const token = randomBytes(32).toString("base64url");
const authorization = { Authorization: `Bearer ${token}` };

interface Info {
  readonly pid: number;
  readonly environment: readonly string[];
}

async function info(pool: McpPool): Promise<Info> {
  return (await pool.callTool("counter", "info", {}, { idempotencyKey: "info" }))
    .structuredContent as unknown as Info;
}

describe("the stdio bridge", () => {
  let directory: string;
  let ledger: string;
  let bridge: StdioBridge;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), "freehold-bridge-"));
    ledger = join(directory, "ledger.jsonl");
    bridge = await startStdioBridge({
      command: process.execPath,
      args: [counterServerPath, "--stdio", "--ledger", ledger, "--many-tools"],
      env: { COUNTER_MODE: "bridged" },
      token,
    });
  });

  afterAll(async () => {
    await bridge.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it("serves a stdio server over streamable HTTP to the pool", async () => {
    const pool = createMcpPool({ counter: { transport: "http", url: bridge.url, headers: authorization } });
    try {
      expect(await pool.listTools("counter")).toHaveLength(130);
      expect(
        (await pool.callTool("counter", "add", { a: 4, b: 5 }, { idempotencyKey: "b-add" }))
          .structuredContent,
      ).toEqual({
        sum: 9,
      });
      const progress: ToolCallProgress[] = [];
      const slow = await pool.callTool(
        "counter",
        "slow",
        { steps: 4, delayMs: 300 },
        { idempotencyKey: "b-slow", timeoutMs: 1_000, onProgress: (update) => progress.push(update) },
      );
      expect(slow.content).toEqual([{ type: "text", text: "done after 4 steps" }]);
      expect(progress[0]).toEqual({ progress: 1, total: 4, message: "step 1 of 4" });

      await pool.callTool("counter", "record", { value: "x" }, { idempotencyKey: "b-record" });
      await pool.callTool("counter", "record", { value: "x" }, { idempotencyKey: "b-record" });
      expect(readLedger(ledger).map((entry) => entry.idempotencyKey)).toEqual(["b-record"]);

      const { environment } = await info(pool);
      expect(environment).toContain("COUNTER_MODE");

      await pool.callTool("counter", "grow", {}, { idempotencyKey: "b-grow" });
      await waitFor("extra_1 through the bridge", async () =>
        (await pool.listTools("counter")).some((tool) => tool.name === "extra_1"),
      );
    } finally {
      await pool.close();
    }
  });

  it("gives each session its own child and kills it when the session ends", async () => {
    const first = createMcpPool({ counter: { transport: "http", url: bridge.url, headers: authorization } });
    const second = createMcpPool({ counter: { transport: "http", url: bridge.url, headers: authorization } });
    const [one, two] = await Promise.all([info(first), info(second)]);
    expect(one.pid).not.toBe(two.pid);
    expect(bridge.sessions()).toBe(2);

    await first.close();
    await waitFor("the first child to be gone", () => !isRunning(one.pid));
    expect(isRunning(two.pid)).toBe(true);
    expect(bridge.sessions()).toBe(1);
    await second.close();
    await waitFor("the second child to be gone", () => !isRunning(two.pid));
    expect(bridge.sessions()).toBe(0);
  });

  it("ends the session when its child dies, and the pool starts a new one", async () => {
    const pool = createMcpPool(
      { counter: { transport: "http", url: bridge.url, headers: authorization } },
      { reconnect: { initialDelayMs: 50 } },
    );
    try {
      const before = await info(pool);
      process.kill(before.pid, "SIGKILL");
      const after = await waitFor("a call on a new child", async () => {
        const next = await info(pool);
        return next.pid !== before.pid ? next : undefined;
      });
      expect(isRunning(after.pid)).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it("stops the child of an idle session; the pool's next call gets a new session", async () => {
    const idle = await startStdioBridge({
      command: process.execPath,
      args: [counterServerPath, "--stdio"],
      sessionIdleTimeoutMs: 200,
      token,
    });
    const pool = createMcpPool(
      { counter: { transport: "http", url: idle.url, headers: authorization } },
      { pingIntervalMs: 0 },
    );
    try {
      const before = await info(pool);
      await waitFor("the idle session to end", () => idle.sessions() === 0 && !isRunning(before.pid));
      const after = await info(pool);
      expect(after.pid).not.toBe(before.pid);
    } finally {
      await pool.close();
      await idle.close();
    }
  });

  it("answers health probes and refuses requests without a session", async () => {
    const health = await fetch(new URL("/healthz", bridge.url));
    expect(health.status).toBe(200);
    const noSession = await fetch(bridge.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        ...authorization,
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(noSession.status).toBe(400);
    const unknownSession = await fetch(bridge.url, {
      method: "POST",
      headers: { "content-type": "application/json", "mcp-session-id": "nope", ...authorization },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(unknownSession.status).toBe(404);
  });

  it("reports a command that cannot start as a bad gateway, and the pool as mcp.unavailable", async () => {
    const broken = await startStdioBridge({ command: "/nonexistent/server", token });
    const pool = createMcpPool({ broken: { transport: "http", url: broken.url, headers: authorization } });
    try {
      const error = await rejection(pool.listTools("broken"));
      expect(error.code).toBe("mcp.unavailable");
      expect(error.message).toContain("could not start /nonexistent/server");
    } finally {
      await pool.close();
      await broken.close();
    }
  });
});
