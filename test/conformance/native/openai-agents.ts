/**
 * The conformance suite's native OpenAI Agents agent: every agent of a scenario is this code, an SDK
 * Agent made of what Freehold supplies (the manifest's name and instructions, the run's model, the
 * manifest's MCP tools), so the scenarios' manifests drive it.
 */
import { Agent } from "@openai/agents-core";
import type { OpenAiAgentsSupply } from "@freehold/adapter-openai-agents";

export const agent = ({ name, instructions, model, tools }: OpenAiAgentsSupply): Agent =>
  new Agent({ name, instructions, model, tools: [...tools] });
