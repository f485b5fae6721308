/**
 * Allow-lists enforced by the broker against a real server: only granted tools are listed, and a
 * call to anything else is refused before it reaches the server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCounterServer, type CounterServer } from "../../../test/fixtures/mcp/counter-server.ts";
import { createMcpPool, createToolBroker, type McpPool } from "../src/index.ts";
import { rejection } from "./helpers.ts";

describe("the tool broker", () => {
  let counter: CounterServer;
  let pool: McpPool;

  beforeAll(async () => {
    counter = await startCounterServer({ transport: "http" });
    pool = createMcpPool({
      counter: { transport: "http", url: counter.url },
      other: { transport: "http", url: counter.url },
    });
  });

  afterAll(async () => {
    await pool.close();
    await counter.close();
  });

  it("lists only the granted tools, with the server they come from", async () => {
    const broker = createToolBroker(pool, [{ server: "counter", allow: ["add", "echo", "not_there"] }]);
    expect((await broker.listTools()).map((tool) => `${tool.server}/${tool.name}`)).toEqual([
      "counter/add",
      "counter/echo",
    ]);
  });

  it("grants every tool of a server without allow, and none with an empty allow", async () => {
    const broker = createToolBroker(pool, [{ server: "counter" }, { server: "other", allow: [] }]);
    const tools = await broker.listTools();
    expect(tools.filter((tool) => tool.server === "counter")).toHaveLength(10);
    expect(tools.filter((tool) => tool.server === "other")).toHaveLength(0);
  });

  it("calls a granted tool", async () => {
    const broker = createToolBroker(pool, [{ server: "counter", allow: ["add"] }]);
    const result = await broker.callTool("counter", "add", { a: 20, b: 22 }, { idempotencyKey: "granted" });
    expect(result.structuredContent).toEqual({ sum: 42 });
  });

  it("refuses a tool that is not granted, before the server sees it", async () => {
    const broker = createToolBroker(pool, [{ server: "counter", allow: ["add"] }]);
    const before = counter.calls().length;
    await expect(
      broker.callTool("counter", "record", { value: 1 }, { idempotencyKey: "refused" }),
    ).rejects.toMatchObject({
      code: "tool.not-allowed",
      retryable: false,
      message:
        "failed to call tool record on counter: the agent is not allowed to use it (the tools granted on counter are add); " +
        "add it to the agent's spec.tools allow-list to grant it",
      details: { server: "counter", tool: "record" },
    });
    const error = await rejection(
      broker.callTool("other", "add", { a: 1, b: 1 }, { idempotencyKey: "refused" }),
    );
    expect(error.code).toBe("tool.not-allowed");
    expect(error.message).toContain("no tool of other is granted");
    expect(counter.calls()).toHaveLength(before);
  });

  it("reports a granted tool the server does not have as tool.not-found", async () => {
    const broker = createToolBroker(pool, [{ server: "counter", allow: ["not_there"] }]);
    await expect(
      broker.callTool("counter", "not_there", {}, { idempotencyKey: "missing" }),
    ).rejects.toMatchObject({
      code: "tool.not-found",
    });
  });
});
