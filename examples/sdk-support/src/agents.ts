/**
 * The support desk: `triage` answers first and transfers billing questions to `billing`, which looks
 * orders and invoices up, refunds (each refund approved by a person first) and hands disputes to the
 * people of the `billing-team` queue.
 *
 * @module
 */
import { defineAgent, defineHumanQueue } from "@freehold/sdk";

/** The Model both agents use (defined in resources.ts). */
export const modelName = "support-model";
/** The MCPServer of the tools of tools.ts (defined in resources.ts). */
export const billingToolsName = "billing-tools";

export const billingTeam = defineHumanQueue({
  name: "billing-team",
  description: "ACME's billing team: disputes, chargebacks and whatever the billing agent cannot settle.",
  sla: { claimWithinSeconds: 900 },
  members: [{ group: "billing-team" }],
});

export const billing = defineAgent({
  name: "billing",
  description: "Orders, invoices and refunds; hands disputes to the billing team.",
  model: { ref: modelName },
  instructions: [
    "You are ACME's billing agent.",
    "Look the order up with lookup_order and its invoice with get_invoice before you act.",
    "A customer charged twice gets the extra charge back: call issue_refund with the invoice, the amount and a",
    "short reason. A person approves every refund before it runs.",
    "Disputes (an item that never arrived, a charge the customer does not recognise) go to the billing team:",
    "hand the conversation over with a summary, the reason and a priority.",
  ].join("\n"),
  tools: [
    {
      mcpServer: billingToolsName,
      allow: ["lookup_order", "get_invoice", "issue_refund"],
      requireApproval: ["issue_refund"],
    },
  ],
  handoffs: [{ humanQueue: billingTeam.name }],
  limits: { maxSteps: 10, timeoutSeconds: 120 },
});

export const triage = defineAgent({
  name: "triage",
  description: "First contact: answers general questions and transfers billing ones to the billing agent.",
  model: { ref: modelName },
  instructions: [
    "You are the first contact of ACME's support desk. Answer general questions in a sentence or two.",
    "Questions about orders, charges, invoices and refunds go to the billing agent: transfer the",
    "conversation with a note that says what the customer wants.",
  ].join("\n"),
  handoffs: [{ agent: billing.name }],
  limits: { maxSteps: 4, timeoutSeconds: 60 },
});
