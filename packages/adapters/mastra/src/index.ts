/**
 * `@freehold/adapter-mastra`: agents with `spec.framework: mastra` run through Mastra's own agent
 * loop on Freehold's durable runtime; with `spec.code`, the team's own Mastra `Agent` (native mode).
 *
 * @module
 */
export { mastraDriver, mastraModel, mastraTurn, toolsOf } from "./driver.ts";
export type { MastraAgentFactory, MastraSupplied, MastraTools } from "./native.ts";
