/**
 * The team's own Mastra agents the native-mode tests run (`spec.code: {module: agents.ts, export}`).
 * Their tools write what they did to `globalThis.mastraNativeTest`, which the tests read: the code is
 * imported by the worker's loader, not by the test.
 */
import type { MastraSupplied } from "@freehold/adapter-mastra";
import { Agent, type ToolsInput } from "@mastra/core/agent";
import { createTool } from "@mastra/core/tools";
import { createStep, createWorkflow } from "@mastra/core/workflows";
import { tool } from "ai";
import { z } from "zod";

/** What the code did, for the tests. */
export interface NativeTestRecord {
  /** Every execution of a code tool: `<tool>:<argument>`. */
  readonly executions: string[];
  /** The names of the tools each factory call was given. */
  readonly supplied: string[][];
}

const holder = globalThis as { mastraNativeTest?: NativeTestRecord };
const record: NativeTestRecord = (holder.mastraNativeTest ??= { executions: [], supplied: [] });

const lookupOrder = createTool({
  id: "lookup_order",
  description: "Looks an order up by its number.",
  inputSchema: z.object({ order: z.string() }),
  execute: async ({ order }) => {
    record.executions.push(`lookup_order:${order}`);
    return Promise.resolve({ order, status: "shipped" });
  },
});

const refund = createTool({
  id: "refund",
  description: "Refunds an order.",
  inputSchema: z.object({ order: z.string() }),
  requireApproval: true,
  execute: async ({ order }) => {
    record.executions.push(`refund:${order}`);
    return Promise.resolve(`refunded ${order}`);
  },
});

const charge = createTool({
  id: "charge",
  description: "Charges a card.",
  inputSchema: z.object({ cents: z.number() }),
  execute: async ({ cents }) => {
    record.executions.push(`charge:${String(cents)}`);
    return Promise.resolve(`charged ${String(cents)}`);
  },
});

/** A plain Agent: its model is replaced by the run's. */
export const support = new Agent({
  id: "support",
  name: "Support",
  instructions: "You are the support agent of the native test.",
  model: "openai/gpt-4o",
  tools: { lookup_order: lookupOrder, refund, charge },
});

/** An AI SDK tool, which Mastra agents take too. */
const localTime = tool({
  description: "The time in a zone.",
  inputSchema: z.object({ zone: z.string() }),
  execute: async ({ zone }) => {
    record.executions.push(`local_time:${zone}`);
    return Promise.resolve(`noon in ${zone}`);
  },
});

/** Instructions and tools as functions of the request context; an AI SDK tool among them. */
export const dynamic = new Agent({
  id: "dynamic",
  name: "Dynamic",
  instructions: () => [{ role: "system" as const, content: "You are resolved at run start." }],
  model: "openai/gpt-4o",
  // Mastra 1.71's types predate the AI SDK 7's tool type; it takes the tool as it is.
  tools: () => ({ lookup_order: lookupOrder, local_time: localTime }) as unknown as ToolsInput,
});

/** Every tool call waits for approval (the Agent's default options). */
export const cautious = new Agent({
  id: "cautious",
  name: "Cautious",
  instructions: "You ask before you act.",
  model: "openai/gpt-4o",
  tools: { lookup_order: lookupOrder },
  defaultOptions: { requireToolApproval: true },
});

/** A factory: the run's model, the manifest's MCP tools, and a tool of its own. */
export const factory = ({ model, tools }: MastraSupplied): Agent => {
  record.supplied.push(Object.keys(tools));
  return new Agent({
    id: "factory",
    name: "Factory",
    instructions: "You are made by a factory.",
    model,
    tools: { ...tools, lookup_order: lookupOrder },
  });
};

const researcher = new Agent({
  id: "researcher",
  name: "researcher",
  instructions: "You research in-process (never, under Freehold).",
  model: "openai/gpt-4o",
});

/** A network: a sub-agent the manifest must list as a tool. */
export const network = new Agent({
  id: "network",
  name: "Network",
  instructions: "You ask the researcher.",
  model: "openai/gpt-4o",
  agents: { researcher },
});

const step = createStep({
  id: "noop",
  inputSchema: z.object({}),
  outputSchema: z.object({}),
  execute: async () => Promise.resolve({}),
});

/** An agent with a workflow: refused. */
export const withWorkflow = new Agent({
  id: "flows",
  name: "Flows",
  instructions: "You run workflows.",
  model: "openai/gpt-4o",
  workflows: {
    noop: createWorkflow({ id: "noop", inputSchema: z.object({}), outputSchema: z.object({}) })
      .then(step)
      .commit(),
  },
});

/** Not an agent. */
export const notAnAgent = { name: "support", instructions: "I am only an object." };

/** A factory that returns something else. */
export const badFactory = (): number => 42;
