/**
 * Servers that go away and come back: an HTTP server restarted on the same port, and a server that
 * is down when the pool starts.
 */
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { startCounterServer, type CounterServer } from "../../../test/fixtures/mcp/counter-server.ts";
import { createMcpPool, type McpPool } from "../src/index.ts";
import { freePort, rejection, waitFor } from "./helpers.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function track<T extends McpPool | CounterServer>(resource: T): T {
  cleanup.push(() => resource.close());
  return resource;
}

const fast = { reconnect: { initialDelayMs: 50, maxDelayMs: 400 }, pingIntervalMs: 0 };

describe.each(["http", "sse"] as const)("a %s server", (transport) => {
  it("that restarts on the same port is reconnected, and calls succeed again", async () => {
    const first = await startCounterServer({ transport });
    const pool = track(createMcpPool({ counter: { transport, url: first.url } }, fast));
    const add = async (): Promise<unknown> =>
      (await pool.callTool("counter", "add", { a: 1, b: 2 }, { idempotencyKey: "add" })).structuredContent;
    expect(await add()).toEqual({ sum: 3 });

    await first.close();
    const down = await rejection(add());
    expect(down).toMatchObject({ code: "mcp.unavailable", retryable: true });
    expect(down.message).toMatch(/^failed to call tool add on counter: /);
    await waitFor("the pool to see the server down", () => pool.status("counter").state === "down");

    const second = track(await startCounterServer({ transport, port: first.port }));
    await waitFor("the pool to reconnect in the background", () => pool.status("counter").state === "ready");
    expect(await add()).toEqual({ sum: 3 });
    expect(second.calls().map((call) => call.tool)).toEqual(["add"]);
  });

  it("that is down at start has its tools once it comes up", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}${transport === "http" ? "/mcp" : "/sse"}`;
    const pool = track(createMcpPool({ late: { transport, url } }, fast));
    const error = await pool.listTools("late").catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: "mcp.unavailable",
      retryable: true,
      details: { server: "late", target: url },
    });
    expect((error as Error).message).toMatch(
      new RegExp(`^MCP server "late" \\(${url.replaceAll(".", "\\.")}\\) is unavailable: `),
    );
    expect(pool.status("late").state).not.toBe("ready");

    track(await startCounterServer({ transport, port }));
    await waitFor("the background retry to connect", () => pool.status("late").state === "ready");
    expect((await pool.listTools("late")).map((tool) => tool.name)).toContain("add");
  });
});

describe.each(["http", "sse"] as const)("a %s server that refuses the credentials", (transport) => {
  it("is reported as mcp.protocol with the HTTP status, never the header", async () => {
    const counter = track(await startCounterServer({ transport, requireAuthorization: "Bearer right" }));
    const pool = track(
      createMcpPool(
        { counter: { transport, url: counter.url, headers: { Authorization: "Bearer s3cr3t-but-stale" } } },
        fast,
      ),
    );
    const error = await rejection(pool.listTools("counter"));
    expect(error).toMatchObject({ code: "mcp.protocol", retryable: false });
    expect(error.message).toMatch(
      /^MCP server "counter" \(http:\/\/[^)]+\) refused the connection: .*\b401\b/,
    );
    expect(error.message).not.toContain("s3cr3t");
  });
});

describe("a streamable HTTP server", () => {
  it("that forgot the session between two calls gets a new session, and the call is sent once", async () => {
    const first = await startCounterServer({ transport: "http", standaloneStream: false });
    // No event stream and no ping can notice the restart: the next call meets the 404 itself.
    const states: string[] = [];
    const pool = track(
      createMcpPool(
        { counter: { transport: "http", url: first.url } },
        { ...fast, onStatusChange: (_, status) => states.push(status.state) },
      ),
    );
    await pool.listTools("counter");
    await first.close();
    // A real restart takes long enough for the client's HTTP connection pool to see the old sockets
    // close; without this pause the call may be written to a dead keep-alive socket instead
    // ("other side closed"), which the pool cannot tell apart from a server dying mid-call.
    await delay(100);
    const second = track(
      await startCounterServer({ transport: "http", port: first.port, standaloneStream: false }),
    );
    expect(pool.status("counter").state).toBe("ready");
    states.length = 0;
    const result = await pool.callTool("counter", "record", { value: 1 }, { idempotencyKey: "once" });
    expect(states).toEqual(["down", "connecting", "ready"]);
    expect(result.structuredContent).toEqual({ sequence: 1, value: 1 });
    expect(second.calls().filter((call) => call.tool === "record")).toHaveLength(1);
  });
});
