/**
 * The conformance table's Mastra agent in native mode: the team's own `Agent`, made by a factory
 * from what Freehold supplies (the Model resource as a durable AI SDK model, the manifest's MCP tools
 * as Mastra tools). The scenarios' manifests give it its tools and handoffs; its code gives it its
 * instructions.
 */
import type { MastraSupplied } from "@freehold/adapter-mastra";
import { Agent } from "@mastra/core/agent";

export const conformance = ({ model, tools }: MastraSupplied): Agent =>
  new Agent({
    id: "conformance",
    name: "conformance",
    instructions: "You are an agent of the conformance table: use your tools, then answer.",
    model,
    tools,
  });
