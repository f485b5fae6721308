/**
 * The team's own OpenAI Agents SDK code that test/native.test.ts runs as Freehold agents (`spec.code`
 * with this folder as the code root): one export per case.
 */
import { appendFileSync } from "node:fs";
import { Agent, handoff, tool, type Tool } from "@openai/agents-core";
import type { OpenAiAgentsSupply } from "../../src/index.ts";

const lookupInvoice = tool({
  name: "lookup_invoice",
  description: "Looks an invoice up.",
  parameters: {
    type: "object",
    properties: { id: { type: "string" } },
    required: ["id"],
    additionalProperties: true,
  },
  strict: false,
  execute: (input) => `invoice ${String((input as { id?: unknown }).id)}: 40 EUR, unpaid`,
});

const refund = tool({
  name: "refund",
  description: "Refunds an invoice.",
  parameters: {
    type: "object",
    properties: { id: { type: "string" } },
    required: ["id"],
    additionalProperties: true,
  },
  strict: false,
  needsApproval: true,
  execute: (input) => `refunded ${String((input as { id?: unknown }).id)}`,
});

/** needsApproval as a function: it would allow small amounts, but cannot be asked per call. */
const credit = tool({
  name: "credit",
  description: "Credits an amount.",
  parameters: {
    type: "object",
    properties: { amount: { type: "number" } },
    required: ["amount"],
    additionalProperties: true,
  },
  strict: false,
  needsApproval: (_context, input) => Promise.resolve((input as { amount: number }).amount > 100),
  execute: (input) => `credited ${String((input as { amount?: unknown }).amount)}`,
});

/** Stands for the Freehold agent `billing`: only its name matters to the handoff. */
const billing = new Agent({ name: "billing", handoffDescription: "Knows every invoice." });

/** The factory: Freehold's model and MCP tools, the code's own tools, a handoff and instructions. */
export default ({ model, tools }: OpenAiAgentsSupply): Agent =>
  new Agent({
    name: "triage",
    instructions: "You are the triage code. Look invoices up.",
    model,
    tools: [...(tools as Tool[]), lookupInvoice, refund, credit],
    handoffs: [
      handoff(billing, {
        toolNameOverride: "escalate_to_billing",
        toolDescriptionOverride: "Escalate anything about payments to billing.",
      }),
    ],
  });

/** A plain Agent (no factory): instructions as a function, Freehold's model in place of its own. */
export const plain = new Agent({
  name: "plain",
  instructions: () => "You are the plain code.",
  model: "gpt-never-called",
});

/** A handoff to an agent the manifest does not list. */
export const unlisted = new Agent({
  name: "rogue",
  instructions: "Hand everything to legal.",
  handoffs: [new Agent({ name: "legal" })],
});

/** Not an Agent. */
export const notAnAgent = { name: "triage", instructions: "I only look like an agent." };

/** A factory that returns no Agent. */
export const brokenFactory = (): string => "triage";

/** An Agent with what native mode does not run durably (a guardrail). */
export const guarded = new Agent({
  name: "guarded",
  instructions: "Check first.",
  inputGuardrails: [
    {
      name: "polite",
      execute: () => Promise.resolve({ tripwireTriggered: false, outputInfo: null }),
    },
  ],
});

/**
 * Notes each call it runs in a file (one line: the call's id, the idempotency key Freehold gives it),
 * so a test can count the runs of each call across worker processes.
 */
const note = tool({
  name: "note",
  description: "Notes the call in a file.",
  parameters: {
    type: "object",
    properties: { file: { type: "string" } },
    required: ["file"],
    additionalProperties: true,
  },
  strict: false,
  execute: async (input, _context, details) => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    appendFileSync((input as { file: string }).file, `${details?.toolCall?.callId ?? "?"}\n`);
    return "noted";
  },
});

/** A generic agent of what Freehold supplies, with the code's own `note` tool. */
export const recorder = ({ name, instructions, model, tools }: OpenAiAgentsSupply): Agent =>
  new Agent({ name, instructions, model, tools: [...tools, note] });
