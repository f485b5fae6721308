/**
 * `@freehold/models`: one interface over the models a user owns or rents (OpenAI, OpenAI-compatible
 * servers, Anthropic, Gemini, a local GGUF model), and a scripted OpenAI-compatible server for
 * deterministic tests.
 *
 * @module
 */
export type {
  FinishReason,
  GenerateRequest,
  GenerateResult,
  LanguageModel,
  StreamPart,
  ToolDefinition,
} from "./language-model.ts";
export {
  createLanguageModel,
  defaultBaseUrls,
  type CreateLanguageModelOptions,
} from "./create-language-model.ts";
export {
  classifyModelError,
  modelErrorCodes,
  type ModelErrorCode,
  type ProviderErrorBody,
} from "./model-error.ts";
export { createHttpFetch, httpFetch, type HttpFetchOptions } from "./http-fetch.ts";
export { retryDelay, withRetries, type RetryOptions } from "./retrying-model.ts";
export { shouldFallBack, withFallbacks } from "./fallback-model.ts";
export {
  loadModelScript,
  ModelScript,
  parseModelScript,
  ScriptError,
  ScriptMatch,
  ScriptToolCall,
  ScriptTurn,
  type ModelScriptInput,
  type ModelScriptIssue,
} from "./scripted/model-script.ts";
export {
  startScriptedModelServer,
  type ScriptedModelRequest,
  type ScriptedModelServer,
  type ScriptedModelServerOptions,
} from "./scripted/scripted-model-server.ts";
export { scriptedTokenCount } from "./scripted/scripted-completion.ts";
export { createLocalModel, localModelDefaults, type LocalModelOptions } from "./local/local-model.ts";
export { disposeLocalModels } from "./local/loaded-model.ts";
export { defaultLocalModelFile, defaultModelsDirectory } from "./local/local-model-path.ts";
