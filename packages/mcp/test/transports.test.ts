/**
 * The pool against the counter fixture over each transport (streamable HTTP, legacy SSE, stdio, a
 * server in this process): one suite, four connection factories. The HTTP transports run twice: with
 * the global fetch (the pool's default) and with the `httpFetch` workers give the pool.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import {
  createCounterMcpServer,
  createCounterState,
  echoInputSchema,
  pixelPng,
  startCounterServer,
  type CounterServer,
} from "../../../test/fixtures/mcp/counter-server.ts";
import { readLedger } from "../../../test/fixtures/mcp/ledger.ts";
import { createHttpFetch } from "../../models/src/http-fetch.ts";
import { createMcpPool, type McpConnection, type McpPool, type ToolCallProgress } from "../src/index.ts";
import { firstText, rejection, stdioCounter, waitFor } from "./helpers.ts";

interface Fixture {
  readonly connection: McpConnection;
  /** The server's own view, for the transports whose server runs in this process. */
  readonly counter?: CounterServer;
  /** The pool's fetch, when not the global one. */
  readonly fetch?: typeof fetch;
  close(): Promise<void>;
}

/** The HTTP fixtures refuse requests without it: the connection's headers must reach every request. */
const requireAuthorization = "Bearer fixture-token";

async function httpFixture(transport: "http" | "sse", ledger: string): Promise<Fixture> {
  const counter = await startCounterServer({ transport, ledger, manyTools: true, requireAuthorization });
  return {
    connection: { transport, url: counter.url, headers: { Authorization: requireAuthorization } },
    counter,
    close: () => counter.close(),
  };
}

/** `httpFetch` serves every request of both transports itself. */
const unexpectedFallback = (input: string | URL | Request): Promise<Response> =>
  Promise.reject(
    new Error(
      `httpFetch handed ${input instanceof Request ? input.url : input.toString()} to the global fetch`,
    ),
  );

const factories: Record<string, (ledger: string) => Promise<Fixture>> = {
  http: (ledger) => httpFixture("http", ledger),
  sse: (ledger) => httpFixture("sse", ledger),
  "http (httpFetch)": async (ledger) => ({
    ...(await httpFixture("http", ledger)),
    fetch: createHttpFetch({ fallback: unexpectedFallback }),
  }),
  "sse (httpFetch)": async (ledger) => ({
    ...(await httpFixture("sse", ledger)),
    fetch: createHttpFetch({ fallback: unexpectedFallback }),
  }),
  "in-process": async (ledger) => {
    // The counter's MCP server in this process, a new one per session, over the SDK's in-memory pair.
    const state = createCounterState();
    return await Promise.resolve({
      connection: {
        transport: "in-process",
        name: "counter",
        connect: async () => {
          const [client, server] = InMemoryTransport.createLinkedPair();
          await createCounterMcpServer(state, { ledger, manyTools: true }).connect(server);
          return client;
        },
      },
      close: () => Promise.resolve(),
    });
  },
  stdio: async (ledger) =>
    await Promise.resolve({
      connection: stdioCounter(["--ledger", ledger, "--many-tools"]),
      close: async () => {
        // The pool owns the child; closing the pool ends it.
      },
    }),
};

describe.each(Object.keys(factories))("the pool over %s", (transport) => {
  let directory: string;
  let ledger: string;
  let fixture: Fixture;
  let pool: McpPool;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), "freehold-mcp-"));
    ledger = join(directory, "ledger.jsonl");
    const factory = factories[transport];
    if (factory === undefined) throw new Error(`no factory for ${transport}`);
    fixture = await factory(ledger);
    pool = createMcpPool(
      { counter: fixture.connection },
      {
        reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
        ...(fixture.fetch === undefined ? {} : { fetch: fixture.fetch }),
      },
    );
  });

  afterAll(async () => {
    await pool.close();
    await fixture.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it("lists every tool across all pages with schemas unchanged", async () => {
    const tools = await pool.listTools("counter");
    expect(tools).toHaveLength(130);
    expect(new Set(tools.map((tool) => tool.name)).size).toBe(130);
    expect(tools.at(-1)?.name).toBe("tool_119");
    expect(tools.find((tool) => tool.name === "echo")).toEqual({
      server: "counter",
      name: "echo",
      description: "Sends the text back.",
      inputSchema: echoInputSchema,
    });
    expect(tools.find((tool) => tool.name === "add")).toMatchObject({
      outputSchema: { type: "object", properties: { sum: { type: "number" } }, required: ["sum"] },
      annotations: { readOnlyHint: true, idempotentHint: true },
    });
    if (fixture.counter !== undefined) expect(fixture.counter.listRequests()).toBeGreaterThanOrEqual(3);
    expect(pool.status("counter")).toEqual({ state: "ready", tools: 130 });
  });

  it("keeps the whole result: text, structured content, images and isError", async () => {
    const options = { idempotencyKey: `${transport}-result` };
    expect(await pool.callTool("counter", "add", { a: 2, b: 3 }, options)).toEqual({
      content: [{ type: "text", text: "5" }],
      structuredContent: { sum: 5 },
    });
    const image = await pool.callTool("counter", "image", {}, options);
    expect(image.content).toEqual([
      { type: "image", data: pixelPng, mimeType: "image/png" },
      { type: "text", text: "a 1x1 red pixel" },
    ]);
    const failed = await pool.callTool("counter", "fail", { message: "no such invoice" }, options);
    expect(failed).toEqual({ content: [{ type: "text", text: "no such invoice" }], isError: true });
  });

  it("sends the idempotency key in _meta, so the server runs a retried call once", async () => {
    const first = await pool.callTool(
      "counter",
      "record",
      { value: "a" },
      { idempotencyKey: `${transport}-k1` },
    );
    const retried = await pool.callTool(
      "counter",
      "record",
      { value: "a" },
      { idempotencyKey: `${transport}-k1` },
    );
    const other = await pool.callTool(
      "counter",
      "record",
      { value: "b" },
      { idempotencyKey: `${transport}-k2` },
    );
    expect(first.structuredContent).toEqual({ sequence: 1, value: "a" });
    expect(retried.structuredContent).toEqual(first.structuredContent);
    expect(other.structuredContent).toEqual({ sequence: 2, value: "b" });
    expect(readLedger(ledger).map((entry) => [entry.idempotencyKey, entry.args])).toEqual([
      [`${transport}-k1`, { value: "a" }],
      [`${transport}-k2`, { value: "b" }],
    ]);
    if (fixture.counter !== undefined) {
      const keys = fixture.counter
        .calls()
        .filter((call) => call.tool === "record")
        .map((call) => call.idempotencyKey);
      expect(keys).toEqual([`${transport}-k1`, `${transport}-k1`, `${transport}-k2`]);
    }
  });

  it("keeps a call alive while it reports progress, past its timeout", async () => {
    const progress: ToolCallProgress[] = [];
    const result = await pool.callTool(
      "counter",
      "slow",
      { steps: 6, delayMs: 250 },
      {
        idempotencyKey: `${transport}-slow`,
        timeoutMs: 1_000,
        onProgress: (update) => progress.push(update),
      },
    );
    expect(firstText(result)).toBe("done after 6 steps");
    // The SDK hands notifications over a microtask after responses: a notification that arrives
    // together with the result (here the last one) may be dropped. The ones before it arrive in order.
    expect(progress.map((update) => update.progress)).toEqual([1, 2, 3, 4, 5, 6].slice(0, progress.length));
    expect(progress.length).toBeGreaterThanOrEqual(5);
    expect(progress[0]).toEqual({ progress: 1, total: 6, message: "step 1 of 6" });
  });

  it("times out a call that goes quiet, with mcp.timeout", async () => {
    const key = `${transport}-quiet`;
    const error = await pool
      .callTool("counter", "slow", { steps: 1, delayMs: 10_000 }, { idempotencyKey: key, timeoutMs: 300 })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "mcp.timeout", retryable: true });
    expect((error as Error).message).toMatch(
      /^failed to call tool slow on counter: no answer or progress within 300 ms/,
    );
    const counter = fixture.counter;
    if (counter !== undefined)
      await waitFor("the server to see the cancellation", () => counter.cancelled().includes(key));
  });

  it("cancels a call through its AbortSignal", async () => {
    const key = `${transport}-cancelled`;
    const controller = new AbortController();
    const error = await pool
      .callTool(
        "counter",
        "slow",
        { steps: 100, delayMs: 100 },
        {
          idempotencyKey: key,
          signal: controller.signal,
          onProgress: () => {
            controller.abort(new Error("the run was stopped"));
          },
        },
      )
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "mcp.cancelled", retryable: false });
    expect((error as Error).message).toBe(
      "failed to call tool slow on counter: the call was cancelled (the run was stopped)",
    );
    const counter = fixture.counter;
    if (counter !== undefined)
      await waitFor("the server to see the cancellation", () => counter.cancelled().includes(key));
    // The client is still good after a cancellation.
    expect(
      firstText(await pool.callTool("counter", "echo", { text: "still here" }, { idempotencyKey: key })),
    ).toBe("still here");
  });

  it("multiplexes concurrent calls on one client", async () => {
    const sums = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        pool.callTool(
          "counter",
          "add",
          { a: index, b: 1_000 },
          { idempotencyKey: `${transport}-add-${index}` },
        ),
      ),
    );
    expect(sums.map((result) => result.structuredContent)).toEqual(
      Array.from({ length: 20 }, (_, index) => ({ sum: index + 1_000 })),
    );
    if (fixture.counter !== undefined) expect(fixture.counter.sessions()).toBe(1);
  });

  it("refuses a tool the server does not have with tool.not-found", async () => {
    const error = await rejection(pool.callTool("counter", "get_invoice", {}, { idempotencyKey: "x" }));
    expect(error.code).toBe("tool.not-found");
    expect(error.message).toMatch(
      /^failed to call tool get_invoice on counter: the server has no tool named "get_invoice"/,
    );
  });

  it("fetches the catalog again when the server says the list changed", async () => {
    await pool.callTool("counter", "grow", {}, { idempotencyKey: `${transport}-grow` });
    await waitFor("extra_1 in the catalog", async () =>
      (await pool.listTools("counter")).some((tool) => tool.name === "extra_1"),
    );
    expect(pool.status("counter").tools).toBe(131);
  });
});

describe("a server in this process that cannot start", () => {
  it("is unavailable with the reason, and the pool tries again", async () => {
    let attempts = 0;
    const pool = createMcpPool(
      {
        tools: {
          transport: "in-process",
          name: "tools",
          connect: () => {
            attempts += 1;
            return Promise.reject(new Error("two tools are named lookup"));
          },
        },
      },
      { reconnect: { initialDelayMs: 20, maxDelayMs: 50 } },
    );
    try {
      const error = await rejection(pool.listTools("tools"));
      expect(error.code).toBe("mcp.unavailable");
      expect(error.message).toContain('MCP server "tools" (tools (in this process)) is unavailable');
      expect(error.message).toContain("two tools are named lookup");
      await waitFor("a second attempt to start it", () => attempts >= 2);
    } finally {
      await pool.close();
    }
  });
});
