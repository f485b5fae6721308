/**
 * The support agent, as the team writes it with Mastra: its instructions, a tool of its own, and the
 * tools Freehold gives it (the manifest's MCP tools) on the model Freehold gives it (the agent's
 * Model resource). `resources.yaml` points at this export (`spec.code`); Freehold runs the Agent's
 * loop durably and adds the handoff to the billing desk from the manifest.
 */
import type { MastraSupplied } from "@freehold/adapter-mastra";
import { Agent } from "@mastra/core/agent";
import { createTool } from "@mastra/core/tools";
import { z } from "zod";

/** The charges of an invoice (a real team would ask its billing system). */
const listCharges = createTool({
  id: "list_charges",
  description: "Lists the card charges of an invoice.",
  inputSchema: z.object({ invoice: z.string().describe("The invoice number, e.g. INV-7.") }),
  execute: async ({ invoice }) =>
    Promise.resolve({
      invoice,
      charges: [
        { on: "2026-11-02", cents: 4900 },
        { on: "2026-11-02", cents: 4900 },
      ],
    }),
});

export default ({ model, tools }: MastraSupplied): Agent =>
  new Agent({
    id: "support",
    name: "Support",
    instructions: [
      "You answer ACME's customers about refunds.",
      "Read refunds.md with read_text_file, check the invoice's charges with list_charges, then hand",
      "the conversation to the billing desk with a summary and the reason: refunds need a person.",
    ].join(" "),
    model,
    tools: { ...tools, list_charges: listCharges },
  });
