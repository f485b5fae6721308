/**
 * The support agent as the team's own AI SDK code (native mode): a `ToolLoopAgent` that Freehold
 * builds with its durable model and the manifest's MCP tools (`read_text_file`), plus a tool of the
 * code's own (`lookup_invoice`), which Freehold runs as a durable tool call. The hand-off to the
 * billing desk is the manifest's (`spec.handoffs`): the model calls `transfer_to_human_billing-desk`.
 */
import { jsonSchema, tool, ToolLoopAgent, type LanguageModel, type ToolSet } from "ai";

const lookupInvoice = tool({
  description: "Looks up an invoice's charges by its number (INV-…).",
  inputSchema: jsonSchema<{ invoice: string }>({
    type: "object",
    properties: { invoice: { type: "string" } },
    required: ["invoice"],
  }),
  // A real agent would ask the billing system; the example answers from memory.
  execute: ({ invoice }) => ({
    invoice,
    charges: [
      { amount: 49, currency: "EUR", at: "2026-11-02T09:14:00Z" },
      { amount: 49, currency: "EUR", at: "2026-11-02T09:14:03Z" },
    ],
  }),
});

/** The export the manifest names (`spec.code.export: support`). */
export const support = ({ model, tools }: { model: LanguageModel; tools: ToolSet }) =>
  new ToolLoopAgent({
    model,
    instructions:
      "Read refunds.md with read_text_file, then check the charges with lookup_invoice. Refunds need a " +
      "person: hand the conversation to the billing desk with a summary and the reason.",
    tools: { ...tools, lookup_invoice: lookupInvoice },
  });
