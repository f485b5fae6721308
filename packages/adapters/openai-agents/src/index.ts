/**
 * `@freehold/adapter-openai-agents`: agents with `spec.framework: openai-agents` run through the
 * OpenAI Agents SDK's own runner loop on Freehold's durable runtime: declared by the manifest, or the
 * team's own SDK `Agent` (`spec.code`, native mode).
 *
 * @module
 */
export { openAiAgentsDriver, openAiAgentsTurn } from "./driver.ts";
export { durableModel, toModelResponse } from "./durable-model.ts";
export { toInputItems } from "./input-items.ts";
export { nativeAgent, type OpenAiAgentsCode, type OpenAiAgentsSupply } from "./native-agent.ts";
