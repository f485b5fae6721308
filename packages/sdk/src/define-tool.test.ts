import { FreeholdError } from "@freehold/api";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { connectInMemory } from "./connect-in-memory.ts";
import { defineTool, type Tool } from "./define-tool.ts";

const invoices = new Map([["INV-7", { number: "INV-7", total: 120, paid: false }]]);

const getInvoice = defineTool({
  name: "get_invoice",
  title: "Get invoice",
  description: "The invoice with the given number.",
  input: z.object({ number: z.string().regex(/^INV-\d+$/, "must look like INV-7") }),
  output: z.object({ number: z.string(), total: z.number(), paid: z.boolean() }),
  annotations: { readOnlyHint: true, openWorldHint: false },
  run: ({ number }) => {
    const invoice = invoices.get(number);
    if (invoice === undefined)
      throw new FreeholdError("invoice.not-found", `no invoice ${number}; list_invoices shows them`);
    return invoice;
  },
});

const refund = defineTool({
  name: "refund",
  description: "Refunds an invoice, once.",
  input: z.object({ invoice: z.object({ number: z.string() }), amount: z.number().positive() }),
  annotations: { destructiveHint: true, idempotentHint: true },
  run: async ({ invoice, amount }, context) => {
    await context.progress(1, 2, "checking");
    await context.progress(2, 2, "refunded");
    return `refunded ${amount} on ${invoice.number} (key ${context.idempotencyKey ?? "none"})`;
  },
});

/** A tool whose code breaks its own output schema. */
const broken = defineTool({
  name: "broken",
  description: "Returns the wrong shape.",
  input: z.object({}),
  output: z.object({ count: z.int() }),
  run: () => ({ count: "three" }) as unknown as { count: number },
});

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

async function connect(tools: readonly Tool[]): Promise<Client> {
  const client = new Client({ name: "test", version: "1.0.0" });
  clients.push(client);
  await client.connect(await connectInMemory(tools));
  return client;
}

describe("defineTool over the in-memory transport", () => {
  it("lists each tool with its JSON Schemas and annotations", async () => {
    const client = await connect([getInvoice, refund]);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(["get_invoice", "refund"]);
    expect(tools[0]).toMatchObject({
      title: "Get invoice",
      description: "The invoice with the given number.",
      inputSchema: {
        type: "object",
        properties: { number: { type: "string", pattern: "^INV-\\d+$" } },
        required: ["number"],
      },
      outputSchema: {
        type: "object",
        properties: { number: { type: "string" }, total: { type: "number" }, paid: { type: "boolean" } },
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    });
    expect(tools[1]?.annotations).toEqual({ destructiveHint: true, idempotentHint: true });
    expect(tools[1]?.outputSchema).toBeUndefined();
  });

  it("runs a call with the parsed input and returns structured content", async () => {
    const client = await connect([getInvoice]);
    const result = await client.callTool({ name: "get_invoice", arguments: { number: "INV-7" } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ number: "INV-7", total: 120, paid: false });
    expect(result.content).toEqual([{ type: "text", text: '{"number":"INV-7","total":120,"paid":false}' }]);
  });

  it("gives the model an error result naming the field for bad input, and runs nothing", async () => {
    let runs = 0;
    const counted = defineTool({
      name: "counted",
      description: "Counts its runs.",
      input: z.object({ invoice: z.object({ number: z.string() }) }),
      run: () => ++runs,
    });
    const client = await connect([counted]);
    const missing = await client.callTool({ name: "counted", arguments: { invoice: {} } });
    expect(missing.isError).toBe(true);
    expect(missing.content).toEqual([
      {
        type: "text",
        text: "MCP error -32602: Input validation error: Invalid arguments for tool counted: Invalid input: expected string, received undefined at invoice.number",
      },
    ]);
    const pattern = await connect([getInvoice]);
    const wrong = await pattern.callTool({ name: "get_invoice", arguments: { number: "7" } });
    expect(wrong.isError).toBe(true);
    expect(JSON.stringify(wrong.content)).toContain("must look like INV-7 at number");
    expect(runs).toBe(0);
    // The server still answers.
    expect(
      (await client.callTool({ name: "counted", arguments: { invoice: { number: "INV-7" } } })).content,
    ).toEqual([{ type: "text", text: "1" }]);
  });

  it("turns what run throws, and output that breaks the output schema, into error results", async () => {
    const client = await connect([getInvoice, broken]);
    const notFound = await client.callTool({ name: "get_invoice", arguments: { number: "INV-8" } });
    expect(notFound).toMatchObject({
      isError: true,
      content: [{ type: "text", text: "no invoice INV-8; list_invoices shows them" }],
    });
    const wrongShape = await client.callTool({ name: "broken", arguments: {} });
    expect(wrongShape).toMatchObject({
      isError: true,
      content: [
        {
          type: "text",
          text: "tool broken returned output that does not match its output schema: count: Invalid input: expected number, received string",
        },
      ],
    });
  });

  it("passes the idempotency key and reports progress to a caller that asks", async () => {
    const client = await connect([refund]);
    const progress: string[] = [];
    const result = await client.callTool(
      {
        name: "refund",
        arguments: { invoice: { number: "INV-7" }, amount: 20 },
        _meta: { "freehold.dev/idempotency-key": "run-1/call-1" },
      },
      undefined,
      { onprogress: ({ progress: done, total, message }) => progress.push(`${done}/${total}: ${message}`) },
    );
    expect(result.content).toEqual([{ type: "text", text: "refunded 20 on INV-7 (key run-1/call-1)" }]);
    expect(result.structuredContent).toBeUndefined();
    expect(progress).toEqual(["1/2: checking", "2/2: refunded"]);
  });
});

describe("defineTool", () => {
  it("refuses a definition MCP cannot carry, naming each problem", () => {
    const define = () =>
      defineTool({
        name: "get invoice",
        description: " ",
        input: z.string() as never,
        run: () => "",
      });
    expect(define).toThrow(
      `defineTool: tool "get invoice" is invalid: name "get invoice" must be letters, digits, '_', '-', '.' or '/'; ` +
        "description must say what the tool does, for the model; input must be a zod object schema: z.object({...})",
    );
    expect(() =>
      defineTool({ name: "x", description: "X.", input: z.object({}), run: undefined as never }),
    ).toThrow(
      expect.objectContaining({
        code: "tool.invalid",
        details: { tool: "x", problems: ["run must be a function"] },
      }),
    );
  });

  it("bounds the size of one call's arguments", async () => {
    const sum = defineTool({
      name: "sum",
      description: "Adds numbers.",
      input: z.object({ numbers: z.array(z.number()) }),
      run: ({ numbers }) => numbers.reduce((total, number) => total + number, 0),
    });
    const client = new Client({ name: "test", version: "1.0.0" });
    clients.push(client);
    await client.connect(await connectInMemory([sum], { maxInputElements: 10 }));
    expect((await client.callTool({ name: "sum", arguments: { numbers: [1, 2, 3] } })).content).toEqual([
      { type: "text", text: "6" },
    ]);
    const tooMany = await client.callTool({
      name: "sum",
      arguments: { numbers: Array.from({ length: 20 }, () => 1) },
    });
    expect(tooMany.isError).toBe(true);
    expect(JSON.stringify(tooMany.content)).toContain("more than the maximum of 10 elements");
  });

  it("refuses no tools and two tools of one name", async () => {
    await expect(connectInMemory([])).rejects.toThrow("no tools to serve");
    await expect(connectInMemory([getInvoice, getInvoice])).rejects.toThrow(
      "two tools are named get_invoice: a server's tools need distinct names; rename one",
    );
  });

  it("types run's input from the input schema and its result from the output schema", () => {
    const tool = defineTool({
      name: "typed",
      description: "Typed.",
      input: z.object({ count: z.int() }),
      output: z.object({ doubled: z.int() }),
      // @ts-expect-error: the result must match the output schema
      run: ({ count }) => ({ doubled: String(count * 2) }),
    });
    expect(tool.name).toBe("typed");
    defineTool({
      name: "typed-input",
      description: "Typed input.",
      input: z.object({ count: z.int() }),
      // @ts-expect-error: count is a number, not a string
      run: ({ count }: { count: string }) => count,
    });
  });
});
