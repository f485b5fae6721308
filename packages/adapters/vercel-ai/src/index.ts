/**
 * `@freehold/adapter-vercel-ai`: agents with `spec.framework: vercel-ai` run through the Vercel AI
 * SDK's own tool loop on Freehold's durable runtime.
 *
 * @module
 */
export { aiSdkTurn, toModelMessages, vercelAiDriver } from "./driver.ts";
export { durableModel, toGenerateResult, TurnGuard } from "./durable-model.ts";
