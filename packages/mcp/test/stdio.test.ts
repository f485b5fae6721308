/**
 * stdio specifics: the child's environment, the whole process tree killed on close, a child that
 * dies replaced by a new one, and a command that cannot start.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readLedger } from "../../../test/fixtures/mcp/ledger.ts";
import { createMcpPool, type McpPool } from "../src/index.ts";
import {
  counterServerPath,
  isRunning,
  rejection,
  spawnWrapperPath,
  stdioCounter,
  waitFor,
} from "./helpers.ts";

interface Info {
  readonly pid: number;
  readonly ppid: number;
  readonly environment: readonly string[];
}

async function info(pool: McpPool, server = "counter"): Promise<Info> {
  const result = await pool.callTool(server, "info", {}, { idempotencyKey: "info" });
  return result.structuredContent as unknown as Info;
}

const pools: McpPool[] = [];
function track(pool: McpPool): McpPool {
  pools.push(pool);
  return pool;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

describe("stdio servers", () => {
  it("get only their explicit env on top of the base environment", async () => {
    const pool = track(
      createMcpPool(
        { counter: stdioCounter([], { BILLING_TOKEN: "t0ken" }) },
        { baseEnvironment: { PATH: "/usr/bin:/bin" } },
      ),
    );
    expect((await info(pool)).environment).toEqual(["BILLING_TOKEN", "PATH"]);
  });

  it("get the SDK's safe defaults by default, and nothing else of this process", async () => {
    process.env.FREEHOLD_TEST_CANARY = "must not leak";
    try {
      const pool = track(createMcpPool({ counter: stdioCounter([], { EXTRA: "1" }) }));
      const environment = (await info(pool)).environment;
      expect(environment).toContain("EXTRA");
      expect(environment).toContain("PATH");
      expect(environment).not.toContain("FREEHOLD_TEST_CANARY");
      for (const name of environment)
        expect(["HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "EXTRA"]).toContain(name);
    } finally {
      delete process.env.FREEHOLD_TEST_CANARY;
    }
  });

  it("share a ledger file: a key recorded by one process is not run again by another", async () => {
    const directory = mkdtempSync(join(tmpdir(), "freehold-ledger-"));
    try {
      const ledger = join(directory, "ledger.jsonl");
      const first = track(createMcpPool({ counter: stdioCounter(["--ledger", ledger]) }));
      const second = track(createMcpPool({ counter: stdioCounter(["--ledger", ledger]) }));
      const results = await Promise.all(
        [first, second, first, second].map((pool) =>
          pool.callTool("counter", "record", { value: "refund INV-7" }, { idempotencyKey: "run-1/call-1" }),
        ),
      );
      expect(new Set(results.map((result) => JSON.stringify(result.structuredContent))).size).toBe(1);
      expect(readLedger(ledger)).toHaveLength(1);
      expect((await info(first)).pid).not.toBe((await info(second)).pid);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it("are killed with their whole process tree on close, even behind a wrapper that forwards no signal", async () => {
    const pool = track(
      createMcpPool({
        counter: {
          transport: "stdio",
          command: process.execPath,
          // The server ignores stdin closing and SIGTERM: only SIGKILL to the group ends it.
          args: [
            spawnWrapperPath,
            process.execPath,
            counterServerPath,
            "--stdio",
            "--linger",
            "--ignore-sigterm",
          ],
        },
      }),
    );
    const server = await info(pool);
    const wrapper = server.ppid;
    expect(server.pid).not.toBe(wrapper);
    expect(isRunning(wrapper)).toBe(true);
    expect(isRunning(server.pid)).toBe(true);
    await pool.close();
    await waitFor(
      "the wrapper and the server to be gone",
      () => !isRunning(wrapper) && !isRunning(server.pid),
    );
  });

  it("are started again when they die, and the pool reports the reason meanwhile", async () => {
    const statuses: string[] = [];
    const pool = track(
      createMcpPool(
        { counter: stdioCounter() },
        {
          reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
          onStatusChange: (_, status) => statuses.push(status.state),
        },
      ),
    );
    const before = await info(pool);
    process.kill(before.pid, "SIGKILL");
    const after = await waitFor("a new server process", async () => {
      const next = await info(pool);
      return next.pid !== before.pid ? next : undefined;
    });
    expect(isRunning(after.pid)).toBe(true);
    expect(isRunning(before.pid)).toBe(false);
    expect(statuses).toContain("down");
    expect(pool.status("counter").state).toBe("ready");
  });

  it("that cannot start make listTools throw mcp.unavailable naming the server and command", async () => {
    const pool = track(
      createMcpPool(
        { broken: { transport: "stdio", command: "/nonexistent/mcp-server", args: ["--stdio"] } },
        { reconnect: { initialDelayMs: 50 } },
      ),
    );
    const error = await rejection(pool.listTools("broken"));
    expect(error).toMatchObject({ code: "mcp.unavailable", retryable: true });
    expect(error.message).toMatch(
      /^MCP server "broken" \(\/nonexistent\/mcp-server --stdio\) is unavailable: could not start \/nonexistent\/mcp-server: spawn \/nonexistent\/mcp-server ENOENT/,
    );
    expect(pool.status("broken").state).toBe("down");
    expect(pool.status("broken").error).toContain("ENOENT");
  });

  it("that exit at start report their exit code and stderr", async () => {
    const pool = track(
      createMcpPool({
        crashing: {
          transport: "stdio",
          command: process.execPath,
          args: ["-e", "console.error('config file missing'); process.exit(3)"],
        },
      }),
    );
    const error = await rejection(pool.listTools("crashing"));
    expect(error.code).toBe("mcp.unavailable");
    expect(error.message).toContain(
      "the server process exited with code 3; its stderr ends with: config file missing",
    );
  });
});
