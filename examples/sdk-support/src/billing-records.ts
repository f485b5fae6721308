/**
 * The billing system the tools stand in front of: a few orders and invoices, and a refunds ledger
 * kept in a JSON-lines file (one refund a line). Replace it with your own billing API; keep the
 * idempotency key, which a real one takes too (as Stripe's `Idempotency-Key` header).
 *
 * @module
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";

export interface Order {
  readonly order: string;
  readonly item: string;
  readonly total: number;
  readonly currency: string;
  readonly status: "processing" | "shipped" | "delivered";
  readonly invoice: string;
}

export interface Charge {
  readonly amount: number;
  readonly at: string;
}

export interface Invoice {
  readonly invoice: string;
  readonly order: string;
  readonly currency: string;
  readonly charges: readonly Charge[];
}

/** One line of the ledger. */
export interface Refund {
  readonly refund: string;
  /** The call's idempotency key: a second call with it gets this refund back, not a new one. */
  readonly idempotencyKey: string;
  readonly invoice: string;
  readonly amount: number;
  readonly currency: string;
  readonly reason: string;
  readonly at: string;
}

const someOrders: readonly Order[] = [
  {
    order: "A-1001",
    item: "Trail running shoes",
    total: 49,
    currency: "EUR",
    status: "delivered",
    invoice: "INV-1001",
  },
  {
    order: "A-1002",
    item: "Rain jacket",
    total: 180,
    currency: "EUR",
    status: "shipped",
    invoice: "INV-1002",
  },
];

/** The orders, by number. */
export const orders: ReadonlyMap<string, Order> = new Map(someOrders.map((order) => [order.order, order]));

const someInvoices: readonly Invoice[] = [
  {
    // Charged twice, three seconds apart: the second charge is the one to refund.
    invoice: "INV-1001",
    order: "A-1001",
    currency: "EUR",
    charges: [
      { amount: 49, at: "2026-11-02T09:14:00Z" },
      { amount: 49, at: "2026-11-02T09:14:03Z" },
    ],
  },
  {
    invoice: "INV-1002",
    order: "A-1002",
    currency: "EUR",
    charges: [{ amount: 180, at: "2026-11-05T16:40:00Z" }],
  },
];

/** The invoices, by number. */
export const invoices: ReadonlyMap<string, Invoice> = new Map(
  someInvoices.map((invoice) => [invoice.invoice, invoice]),
);

/**
 * The refunds written to `file` so far, oldest first (none when it does not exist yet).
 *
 * @example
 * ```ts
 * readRefunds(".data/refunds.jsonl").filter((refund) => refund.invoice === "INV-1001");
 * ```
 */
export function readRefunds(file: string): Refund[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Refund);
}

/**
 * Records a refund, once per idempotency key: a key already in the ledger gives its refund back and
 * writes nothing. The read and the append are synchronous, so calls in one process never race; tool
 * servers of several replicas need a ledger that checks the key itself (a database's unique key).
 *
 * @example
 * ```ts
 * recordRefund(file, { idempotencyKey, invoice: "INV-1001", amount: 49, currency: "EUR", reason: "Charged twice." });
 * ```
 */
export function recordRefund(file: string, request: Omit<Refund, "refund" | "at">): Refund {
  const refunds = readRefunds(file);
  const earlier = refunds.find((refund) => refund.idempotencyKey === request.idempotencyKey);
  if (earlier !== undefined) return earlier;
  const refund: Refund = { refund: `RF-${refunds.length + 1}`, ...request, at: new Date().toISOString() };
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(refund)}\n`);
  return refund;
}
