/**
 * `@freehold/adapter-vercel-ai`: agents with `spec.framework: vercel-ai` run through the Vercel AI
 * SDK's own tool loop on Freehold's durable runtime, declared in the manifest or as the team's own
 * AI SDK agent (`spec.code`, native mode).
 *
 * @module
 */
export { aiSdkTurn, vercelAiDriver } from "./driver.ts";
export { sdkTurn, toModelMessages, toolsOf } from "./sdk-turn.ts";
export { durableModel, toGenerateResult, TurnGuard } from "./durable-model.ts";
export {
  nativeAgentOf,
  runNative,
  settingsOf,
  type AgentSettings,
  type NativeAgent,
  type SuppliedPieces,
} from "./native.ts";
