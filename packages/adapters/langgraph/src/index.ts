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
export { resolveGraph, runNative, type FreeholdGraphPieces } from "./native.ts";
export { FreeholdChatModel, toChatMessages } from "./native-model.ts";
export { createRunCheckpointer, RunCheckpointer, type RunCheckpointerOptions } from "./run-checkpointer.ts";
