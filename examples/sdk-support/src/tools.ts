/**
 * The billing agent's tools, written with `defineTool`: two that only read (`lookup_order`,
 * `get_invoice`) and one that moves money (`issue_refund`). The agent's manifest makes every
 * `issue_refund` call wait for a person's approval; the tool itself refunds at most once per call,
 * by the idempotency key Freehold's runtime sends with it (the same key for every retry of a call).
 *
 * @module
 */
import { defineTool } from "@freehold/sdk";
import { z } from "zod";
import { invoices, orders, readRefunds, recordRefund } from "./billing-records.ts";

const orderNumber = z.string().regex(/^A-\d+$/, "must be an order number such as A-1001");
const invoiceNumber = z.string().regex(/^INV-\d+$/, "must be an invoice number such as INV-1001");

/** What {@link createBillingTools} takes. */
export interface BillingToolsOptions {
  /** The refunds ledger (JSON lines). */
  readonly refundsFile: string;
}

/**
 * The three tools, writing refunds to `options.refundsFile`.
 *
 * @example
 * ```ts
 * const tools = createBillingTools({ refundsFile: ".data/refunds.jsonl" });
 * defineToolServer({ name: "billing-tools", tools });
 * ```
 */
export function createBillingTools(options: BillingToolsOptions) {
  const { refundsFile } = options;

  const lookupOrder = defineTool({
    name: "lookup_order",
    title: "Look up an order",
    description: "An order by its number (A-1001): the item, its total, where it is, and its invoice number.",
    input: z.object({ order: orderNumber }),
    output: z.object({
      order: z.string(),
      item: z.string(),
      total: z.number(),
      currency: z.string(),
      status: z.enum(["processing", "shipped", "delivered"]),
      invoice: z.string(),
    }),
    annotations: { readOnlyHint: true },
    run: ({ order }) => {
      const found = orders.get(order);
      if (found === undefined) throw new Error(`no order ${order}; order numbers look like A-1001`);
      return found;
    },
  });

  const getInvoice = defineTool({
    name: "get_invoice",
    title: "Get an invoice",
    description:
      "An invoice by its number (INV-1001): every charge made for it, and how much is refunded already.",
    input: z.object({ invoice: invoiceNumber }),
    output: z.object({
      invoice: z.string(),
      order: z.string(),
      currency: z.string(),
      charges: z.array(z.object({ amount: z.number(), at: z.string() })),
      refunded: z.number(),
    }),
    annotations: { readOnlyHint: true },
    run: ({ invoice }) => {
      const found = invoices.get(invoice);
      if (found === undefined) throw new Error(`no invoice ${invoice}`);
      const refunded = readRefunds(refundsFile)
        .filter((refund) => refund.invoice === invoice)
        .reduce((sum, refund) => sum + refund.amount, 0);
      return { ...found, charges: [...found.charges], refunded };
    },
  });

  const issueRefund = defineTool({
    name: "issue_refund",
    title: "Issue a refund",
    description:
      "Refunds an amount of an invoice to the customer's card. Only what was charged and not yet refunded.",
    input: z.object({
      invoice: invoiceNumber,
      amount: z.number().positive().max(10_000),
      reason: z.string().min(3).max(500),
    }),
    output: z.object({
      refund: z.string(),
      invoice: z.string(),
      amount: z.number(),
      currency: z.string(),
      status: z.literal("issued"),
    }),
    annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: true },
    run: ({ invoice, amount, reason }, { idempotencyKey }) => {
      // Without a key a retried call could pay twice: refunds come only through a caller that sends one.
      if (idempotencyKey === undefined) {
        throw new Error(
          "issue_refund needs an idempotency key (Freehold's runtime sends one with every call)",
        );
      }
      const found = invoices.get(invoice);
      if (found === undefined) throw new Error(`no invoice ${invoice}`);
      const refunds = readRefunds(refundsFile);
      const earlier = refunds.find((refund) => refund.idempotencyKey === idempotencyKey);
      if (earlier === undefined) {
        const charged = found.charges.reduce((sum, charge) => sum + charge.amount, 0);
        const refunded = refunds
          .filter((refund) => refund.invoice === invoice)
          .reduce((sum, refund) => sum + refund.amount, 0);
        if (amount > charged - refunded) {
          throw new Error(
            `cannot refund ${amount} ${found.currency} of ${invoice}: ${charged - refunded} ${found.currency} is left to refund`,
          );
        }
      }
      // A retried call (same key) gets the refund it made before.
      const refund = recordRefund(refundsFile, {
        idempotencyKey,
        invoice,
        amount,
        currency: found.currency,
        reason,
      });
      return {
        refund: refund.refund,
        invoice: refund.invoice,
        amount: refund.amount,
        currency: refund.currency,
        status: "issued" as const,
      };
    },
  });

  return [lookupOrder, getInvoice, issueRefund] as const;
}
