/**
 * The `local` provider: a GGUF model run in-process on CPU with node-llama-cpp. The model loads lazily on
 * the first call and is shared by every {@link LanguageModel} of the process that uses the same file.
 *
 * @module
 */
import type { ModelSpec } from "@freehold/api";
import type { LanguageModel } from "../language-model.ts";

/** Options of {@link createLocalModel}. */
export interface LocalModelOptions {
  /** Where fetched models live (scripts/fetch-model.sh writes there); the default file is looked up in it. */
  readonly modelsDirectory?: string;
  /** The GGUF file to run, overriding the default; `spec.path` overrides this. */
  readonly modelPath?: string;
}

/**
 * Creates a {@link LanguageModel} that runs a GGUF file in-process.
 *
 * @example
 * ```ts
 * const model = createLocalModel({ provider: "local", model: "gemma3-270m" }, { modelsDirectory });
 * ```
 */
export function createLocalModel(spec: ModelSpec, options: LocalModelOptions): LanguageModel {
  throw new Error(`createLocalModel: not implemented yet (${spec.model}, ${JSON.stringify(options)})`);
}
