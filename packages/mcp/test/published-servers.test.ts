/**
 * Published MCP servers from npm, run over stdio with this project's node: what users actually
 * connect to, not only our fixture.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMcpPool, createToolBroker, type McpPool } from "../src/index.ts";
import { firstText, publishedServerBin } from "./helpers.ts";

describe("published servers over stdio", () => {
  let directory: string;
  let pool: McpPool;

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), "freehold-published-"));
    writeFileSync(join(directory, "invoice.txt"), "INV-7: 120.00 EUR\n");
    pool = createMcpPool({
      memory: {
        transport: "stdio",
        command: process.execPath,
        args: [publishedServerBin("@modelcontextprotocol/server-memory")],
        env: { MEMORY_FILE_PATH: join(directory, "memory.jsonl") },
      },
      files: {
        transport: "stdio",
        command: process.execPath,
        args: [publishedServerBin("@modelcontextprotocol/server-filesystem"), directory],
      },
    });
  });

  afterAll(async () => {
    await pool.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it("@modelcontextprotocol/server-memory keeps entities in the file its env names", async () => {
    const tools = await pool.listTools("memory");
    expect(tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(["create_entities", "read_graph", "search_nodes"]),
    );
    const createEntities = tools.find((tool) => tool.name === "create_entities");
    expect(createEntities?.inputSchema).toMatchObject({
      type: "object",
      properties: { entities: { type: "array" } },
    });

    const created = await pool.callTool(
      "memory",
      "create_entities",
      { entities: [{ name: "ACME", entityType: "customer", observations: ["pays by invoice"] }] },
      { idempotencyKey: "memory-create" },
    );
    expect(created.isError).not.toBe(true);
    const graph = await pool.callTool("memory", "read_graph", {}, { idempotencyKey: "memory-read" });
    expect(JSON.stringify(graph.structuredContent ?? firstText(graph))).toContain("pays by invoice");
    expect(existsSync(join(directory, "memory.jsonl"))).toBe(true);
    expect(readFileSync(join(directory, "memory.jsonl"), "utf8")).toContain("ACME");
  });

  it("@modelcontextprotocol/server-filesystem reads a file behind an allow-list", async () => {
    const broker = createToolBroker(pool, [{ server: "files", allow: ["read_text_file", "list_directory"] }]);
    expect((await broker.listTools()).map((tool) => tool.name).sort()).toEqual([
      "list_directory",
      "read_text_file",
    ]);
    const read = await broker.callTool(
      "files",
      "read_text_file",
      { path: join(directory, "invoice.txt") },
      { idempotencyKey: "read" },
    );
    expect(firstText(read)).toBe("INV-7: 120.00 EUR\n");
    await expect(
      broker.callTool(
        "files",
        "write_file",
        { path: join(directory, "x.txt"), content: "x" },
        { idempotencyKey: "write" },
      ),
    ).rejects.toMatchObject({ code: "tool.not-allowed" });
    expect(existsSync(join(directory, "x.txt"))).toBe(false);
  });
});
