import { describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ListToolsRequestSchema, type Tool } from "@modelcontextprotocol/sdk/types.js";
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js";
import { lazySchemaValidator } from "./lazy-schema-validator.ts";

const tools: Tool[] = [
  {
    name: "sum",
    inputSchema: { type: "object", properties: { wrong: { type: "boolean" } } },
    outputSchema: { type: "object", properties: { sum: { type: "number" } }, required: ["sum"] },
  },
  {
    // A schema Ajv refuses to compile (an unknown type).
    name: "broken",
    inputSchema: { type: "object" },
    outputSchema: { type: "object", properties: { x: { type: "no-such-type" } } },
  },
];

/** A real MCP server in this process: `sum` answers {sum: 3}, or {sum: "three"} when asked `wrong`. */
async function connect(validator: jsonSchemaValidator | undefined): Promise<Client> {
  // The low-level server: it lists tools as given, a schema the high-level one would not write.
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  const server = new Server({ name: "schemas", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, (request) => {
    const wrong = request.params.arguments?.wrong === true;
    const structuredContent = { sum: wrong ? "three" : 3 };
    return { content: [{ type: "text", text: JSON.stringify(structuredContent) }], structuredContent };
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client(
    { name: "test", version: "1.0.0" },
    { capabilities: {}, ...(validator === undefined ? {} : { jsonSchemaValidator: validator }) },
  );
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return client;
}

describe("lazySchemaValidator", () => {
  it("checks structured results against the output schema as the SDK's default does (Client.callTool)", async () => {
    const client = await connect(lazySchemaValidator());
    await client.listTools();
    expect((await client.callTool({ name: "sum", arguments: {} })).structuredContent).toEqual({ sum: 3 });
    await expect(client.callTool({ name: "sum", arguments: { wrong: true } })).rejects.toThrow(
      /Structured content does not match the tool's output schema/,
    );
    await client.close();
  });

  it("lists the tools when one schema cannot be compiled, and fails only that tool's calls", async () => {
    // The SDK's default compiles every schema while listing: one broken tool fails the listing.
    const eager = await connect(undefined);
    await expect(eager.listTools()).rejects.toThrow(/no-such-type/);
    await eager.close();

    const client = await connect(lazySchemaValidator());
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(["sum", "broken"]);
    await expect(client.callTool({ name: "broken", arguments: {} })).rejects.toThrow(/no-such-type/);
    expect((await client.callTool({ name: "sum", arguments: {} })).structuredContent).toEqual({ sum: 3 });
    await client.close();
  });

  it("compiles a schema on its first check, not when its validator is asked for", () => {
    const validator = lazySchemaValidator();
    const check = validator.getValidator<{ sum: number }>({
      type: "object",
      properties: { sum: { type: "number" } },
      required: ["sum"],
    });
    expect(check({ sum: 1 })).toEqual({ valid: true, data: { sum: 1 }, errorMessage: undefined });
    const failed = check({ sum: "one" });
    expect(failed.valid).toBe(false);
    expect(failed.errorMessage).toMatch(/sum/);
    // A schema that cannot compile is not compiled until checked.
    const broken = validator.getValidator({ type: "no-such-type" });
    expect(() => broken({})).toThrow(/no-such-type/);
  });
});
