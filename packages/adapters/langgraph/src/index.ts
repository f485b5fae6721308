/**
 * `@freehold/adapter-langgraph`: agents with `spec.framework: langgraph` run through a LangGraph.js
 * graph on Freehold's durable runtime.
 *
 * @module
 */
export { langGraphDriver, langGraphTurn } from "./driver.ts";
export { afterModel, createTurnGraph } from "./graph.ts";
export { toAIMessage, toBaseMessages, toToolMessage } from "./messages.ts";
export { localTracer } from "./local-tracer.ts";
