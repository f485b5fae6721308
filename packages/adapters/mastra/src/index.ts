/**
 * `@freehold/adapter-mastra`: agents with `spec.framework: mastra` run through Mastra's own agent
 * loop on Freehold's durable runtime.
 *
 * @module
 */
export { mastraDriver, mastraModel, mastraTurn, toolsOf } from "./driver.ts";
