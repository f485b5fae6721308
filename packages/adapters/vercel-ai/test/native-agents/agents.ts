/**
 * AI SDK agents as a team writes them, loaded by native.test.ts through `spec.code` (this folder is
 * the code root). The calls of their own tools are recorded here, in the worker's process.
 */
import type { LanguageModelV4 } from "@ai-sdk/provider";
import type { SuppliedPieces } from "@freehold/adapter-vercel-ai";
import { stepCountIs, tool, ToolLoopAgent, type Tool } from "ai";
import { z } from "zod";

/** The calls the code's own tools ran, in order. */
export const codeCalls: { readonly tool: string; readonly input: unknown }[] = [];

/** A model of the code's own that must never be called: Freehold's model replaces it. */
const codeModel: LanguageModelV4 = {
  specificationVersion: "v4",
  provider: "code",
  modelId: "never-called",
  supportedUrls: {},
  doGenerate: () => Promise.reject(new Error("the code's own model was called")),
  doStream: () => Promise.reject(new Error("the code's own model was called")),
};

const lookupInvoice = tool({
  description: "Looks up an invoice.",
  inputSchema: z.object({ invoice: z.string(), currency: z.string().default("EUR") }),
  execute: ({ invoice, currency }) => {
    codeCalls.push({ tool: "lookup_invoice", input: { invoice, currency } });
    return { invoice, amount: 42, currency };
  },
});

const refund = tool({
  description: "Refunds an invoice.",
  inputSchema: z.object({ invoice: z.string() }),
  // Deprecated in AI SDK 7 (toolApproval is the agent's setting now), still what much code says.
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  needsApproval: true,
  execute: ({ invoice }) => {
    codeCalls.push({ tool: "refund", input: { invoice } });
    return `refunded ${invoice}`;
  },
});

/** Approval asked per call: only for amounts over 100. */
const credit = tool({
  description: "Credits an account.",
  inputSchema: z.object({ amount: z.number() }),
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  needsApproval: ({ amount }) => amount > 100,
  execute: ({ amount }) => {
    codeCalls.push({ tool: "credit", input: { amount } });
    return `credited ${amount}`;
  },
});

/** A module-level agent with its own model, a stop condition and hooks that pick a model. */
export const billing = new ToolLoopAgent({
  model: codeModel,
  instructions: "You are the code's billing agent.",
  tools: { lookup_invoice: lookupInvoice },
  stopWhen: stepCountIs(1),
  prepareCall: (options) => ({ ...options, model: codeModel }),
  prepareStep: () => ({ model: codeModel }),
});

/** A factory: Freehold's model and one of the manifest's MCP tools, and the code's own tools. */
export const factory = ({ model, tools }: SuppliedPieces) =>
  new ToolLoopAgent({
    model,
    instructions: "You are the code's refund agent.",
    tools: { ...(tools.add === undefined ? {} : { add: tools.add }), refund, credit },
  });

/** Settings as a plain object, with an approval setting of the agent (`toolApproval`). */
export const settings = {
  instructions: "You are the code's settings agent.",
  tools: { lookup_invoice: lookupInvoice, refund, credit },
  toolApproval: { lookup_invoice: "user-approval", refund: "denied", credit: "approved" },
};

/** Approval settings of a settings object for the manifest's MCP tools: add waits, echo is denied. */
export const gatekeeper = {
  tools: { lookup_invoice: lookupInvoice },
  toolApproval: { add: "user-approval", echo: "denied" },
};

/** An approval function for every tool: it would approve, but cannot be asked per call. */
export const askEveryTime = new ToolLoopAgent({
  model: codeModel,
  tools: { lookup_invoice: lookupInvoice },
  toolApproval: () => "approved",
});

/** A client-side tool (no execute): refused. */
export const clientSide = new ToolLoopAgent({
  model: codeModel,
  tools: { confirm: tool({ inputSchema: z.object({}), outputSchema: z.string() }) as Tool },
});

/** Not an agent. */
export const notAnAgent = "billing";

/** A factory that returns no agent. */
export const returnsNothing = () => undefined;

/** An AI SDK `Agent` of its own making, not a ToolLoopAgent. */
export const customAgent = {
  version: "agent-v1",
  id: "custom",
  tools: {},
  generate: () => Promise.reject(new Error("unused")),
  stream: () => Promise.reject(new Error("unused")),
};
