/**
 * The support agent as the team writes it with the OpenAI Agents SDK. Freehold runs it (the
 * manifest's `spec.code` points here): it supplies the model (the agent's Model resource) and the
 * manifest's MCP tools (`read_text_file` of the notes server); the agent's own function tool runs on
 * the worker as a durable tool call. Refunds go to people: the manifest's `billing-desk` queue.
 */
import { Agent, tool } from "@openai/agents";
import type { OpenAiAgentsSupply } from "@freehold/adapter-openai-agents";

/** The team's own tool: what the billing system knows of an invoice (a stand-in for a real call). */
const lookupInvoice = tool({
  name: "lookup_invoice",
  description: "Looks up an invoice: its amount and the charges made for it.",
  parameters: {
    type: "object",
    properties: { id: { type: "string", description: "The invoice number, e.g. INV-7." } },
    required: ["id"],
    additionalProperties: false,
  },
  strict: true,
  execute: (input) => {
    const { id } = input as { id: string };
    return JSON.stringify({ id, amount: "49.00 EUR", charges: ["2026-11-02", "2026-11-02"] });
  },
});

export default ({ model, tools }: OpenAiAgentsSupply): Agent =>
  new Agent({
    name: "support",
    instructions: [
      "You answer ACME's customers about invoices.",
      "Read refunds.md with read_text_file and look the invoice up before you answer.",
      "Refunds need a person: hand the conversation to the billing desk with a summary and the reason.",
    ].join(" "),
    model,
    tools: [...tools, lookupInvoice],
  });
