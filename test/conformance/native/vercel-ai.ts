/**
 * The conformance suite's native AI SDK agent: a `ToolLoopAgent` on the model and MCP tools Freehold
 * supplies, and nothing else, so the scenarios' manifests (instructions, tools, handoffs, limits)
 * drive it.
 */
import type { SuppliedPieces } from "@freehold/adapter-vercel-ai";
import { ToolLoopAgent } from "ai";

export const conformanceAgent = ({ model, tools }: SuppliedPieces) => new ToolLoopAgent({ model, tools });
