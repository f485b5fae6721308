/**
 * The tools of src/tools.ts as agents reach them: over MCP, here through an in-memory transport to
 * the tool server's own `connectInProcess()` (what `freehold dev` uses), with the MCP SDK's client.
 * Typed input, bad input refused with the field named, output checked, and a refund made once per
 * idempotency key.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineToolServer } from "@freehold/sdk";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readRefunds } from "../src/billing-records.ts";
import { createBillingTools } from "../src/tools.ts";

let folder: string;
let refundsFile: string;
let client: Client;

beforeEach(async () => {
  folder = mkdtempSync(join(tmpdir(), "sdk-support-tools-"));
  refundsFile = join(folder, "refunds.jsonl");
  const server = defineToolServer({ name: "billing-tools", tools: createBillingTools({ refundsFile }) });
  client = new Client({ name: "tools-test", version: "1.0.0" });
  await client.connect(await server.connectInProcess());
});

afterEach(async () => {
  await client.close();
  rmSync(folder, { recursive: true, force: true });
});

/** The text of a tool result. */
function textOf(result: Awaited<ReturnType<Client["callTool"]>>): string {
  const content = result.content as { type: string; text?: string }[];
  return content.map((part) => part.text ?? "").join("");
}

/** Calls issue_refund as Freehold's runtime does: with the call's idempotency key in `_meta`. */
function refund(key: string | undefined, args: Record<string, unknown>) {
  return client.callTool({
    name: "issue_refund",
    arguments: args,
    ...(key === undefined ? {} : { _meta: { "freehold.dev/idempotency-key": key } }),
  });
}

describe("the billing tools over MCP", () => {
  it("lists the three tools with their annotations and typed input", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => [tool.name, tool.annotations])).toEqual([
      ["lookup_order", { readOnlyHint: true }],
      ["get_invoice", { readOnlyHint: true }],
      ["issue_refund", { destructiveHint: true, idempotentHint: true, openWorldHint: true }],
    ]);
    const issueRefund = tools.find((tool) => tool.name === "issue_refund");
    expect(issueRefund?.inputSchema.required).toEqual(["invoice", "amount", "reason"]);
    expect(issueRefund?.inputSchema.properties).toMatchObject({
      invoice: { type: "string" },
      amount: { type: "number" },
      reason: { type: "string" },
    });
    expect(issueRefund?.outputSchema?.required).toContain("refund");
  });

  it("answers lookups with structured output", async () => {
    const order = await client.callTool({ name: "lookup_order", arguments: { order: "A-1001" } });
    expect(order.isError).toBeFalsy();
    expect(order.structuredContent).toEqual({
      order: "A-1001",
      item: "Trail running shoes",
      total: 49,
      currency: "EUR",
      status: "delivered",
      invoice: "INV-1001",
    });
    const invoice = await client.callTool({ name: "get_invoice", arguments: { invoice: "INV-1001" } });
    expect(invoice.structuredContent).toMatchObject({ invoice: "INV-1001", refunded: 0 });
    expect((invoice.structuredContent as { charges: unknown[] }).charges).toHaveLength(2);
  });

  it("refuses bad input, naming the field, and never runs the tool", async () => {
    const order = await client.callTool({ name: "lookup_order", arguments: { order: "1001" } });
    expect(order.isError).toBe(true);
    expect(textOf(order)).toContain("must be an order number such as A-1001 at order");

    const negative = await refund("key-1", { invoice: "INV-1001", amount: -5, reason: "Charged twice." });
    expect(negative.isError).toBe(true);
    expect(textOf(negative)).toContain("expected number to be >0 at amount");
    const missing = await refund("key-1", { invoice: "INV-1001", amount: 49 });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toContain("at reason");
    expect(readRefunds(refundsFile)).toEqual([]);

    const unknown = await client.callTool({ name: "lookup_order", arguments: { order: "A-9999" } });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toContain("no order A-9999");
  });

  it("refunds once per idempotency key, and never more than is left", async () => {
    const args = { invoice: "INV-1001", amount: 49, reason: "Charged twice." };
    const first = await refund("call-1", args);
    expect(first.structuredContent).toEqual({
      refund: "RF-1",
      invoice: "INV-1001",
      amount: 49,
      currency: "EUR",
      status: "issued",
    });
    // A retry of the same call (the same key) gets the same refund back; nothing is paid twice.
    const retried = await refund("call-1", args);
    expect(retried.structuredContent).toEqual(first.structuredContent);
    expect(readRefunds(refundsFile)).toMatchObject([
      { refund: "RF-1", idempotencyKey: "call-1", amount: 49 },
    ]);

    const invoice = await client.callTool({ name: "get_invoice", arguments: { invoice: "INV-1001" } });
    expect(invoice.structuredContent).toMatchObject({ refunded: 49 });
    // Another call may refund only what is left (98 EUR charged, 49 refunded).
    const tooMuch = await refund("call-2", { ...args, amount: 60 });
    expect(tooMuch.isError).toBe(true);
    expect(textOf(tooMuch)).toContain("49 EUR is left to refund");
    // Without a key a retry could pay twice: refused.
    const keyless = await refund(undefined, args);
    expect(keyless.isError).toBe(true);
    expect(textOf(keyless)).toContain("needs an idempotency key");
    expect(readRefunds(refundsFile)).toHaveLength(1);
  });
});
