/**
 * Where the `local` provider finds its GGUF file: `spec.path`, else `options.modelPath`, else a file
 * named after `spec.model` in the models directory that scripts/fetch-model.sh fills. The default
 * model, Gemma 3 270M, answers to a few names.
 *
 * @module
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** The file scripts/fetch-model.sh writes: Gemma 3 270M, quantized Q4_K_M (253 MB). */
export const defaultLocalModelFile = "gemma3-270m-q4_k_m.gguf";

/** The names of the default model a Model's `spec.model` may use. */
export const defaultLocalModelNames: readonly string[] = [
  "gemma3-270m",
  "gemma3-270m-q4_k_m",
  defaultLocalModelFile,
];

/**
 * The models directory under a cache directory, as scripts/fetch-model.sh lays it out
 * (`${FREEHOLD_CACHE_DIR:-$HOME/.cache/freehold}/models`).
 *
 * @example
 * ```ts
 * defaultModelsDirectory(process.env.FREEHOLD_CACHE_DIR); // in an entry point
 * ```
 */
export function defaultModelsDirectory(cacheDirectory?: string): string {
  return join(cacheDirectory ?? join(homedir(), ".cache", "freehold"), "models");
}

/** Where a model's GGUF file is, and whether it is the default model (which the fetch script provides). */
export interface LocalModelLocation {
  readonly path: string;
  readonly isDefaultModel: boolean;
}

/**
 * Resolves the GGUF file of a local model: `specPath`, else `modelPath`, else `modelName` in
 * `modelsDirectory` (`gemma3-270m` and its aliases name {@link defaultLocalModelFile}; another name
 * gets `.gguf` appended unless it has it).
 *
 * @example
 * ```ts
 * resolveLocalModelPath({ modelName: "gemma3-270m", modelsDirectory: "/cache/models" });
 * // { path: "/cache/models/gemma3-270m-q4_k_m.gguf", isDefaultModel: true }
 * ```
 */
export function resolveLocalModelPath(input: {
  readonly modelName: string;
  readonly specPath?: string | undefined;
  readonly modelPath?: string | undefined;
  readonly modelsDirectory?: string | undefined;
}): LocalModelLocation {
  const explicit = input.specPath ?? input.modelPath;
  if (explicit !== undefined) return { path: resolve(explicit), isDefaultModel: false };
  const directory = input.modelsDirectory ?? defaultModelsDirectory();
  if (defaultLocalModelNames.includes(input.modelName)) {
    return { path: resolve(directory, defaultLocalModelFile), isDefaultModel: true };
  }
  const fileName = input.modelName.endsWith(".gguf") ? input.modelName : `${input.modelName}.gguf`;
  return { path: resolve(directory, fileName), isDefaultModel: false };
}
