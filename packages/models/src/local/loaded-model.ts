/**
 * The GGUF models loaded into this process. node-llama-cpp is imported on the first call only, so a
 * worker that never runs a local model loads nothing native. Each file is loaded once and shared by
 * every LanguageModel that names it; its one context sequence runs one call at a time, in order.
 *
 * @module
 */
import type * as NodeLlamaCppModule from "node-llama-cpp";
import type { ChatWrapper, GbnfJsonSchema, Llama, LlamaChat, LlamaGrammar, LlamaModel } from "node-llama-cpp";
import { createTranscriptChatWrapper } from "./transcript-chat-wrapper.ts";

/** The node-llama-cpp module, imported on demand. */
export type NodeLlamaCpp = typeof NodeLlamaCppModule;

/** How a file is loaded; the first LanguageModel to load a file decides. */
export interface LoadSettings {
  /** Tokens of context (prompt and answer together). */
  readonly contextSize: number;
  /** CPU threads for evaluation. */
  readonly threads: number;
}

/** A loaded model and the one chat that runs on it. */
export interface LoadedModel {
  readonly path: string;
  readonly module: NodeLlamaCpp;
  readonly model: LlamaModel;
  readonly chat: LlamaChat;
  /**
   * True for a model without a chat template (a base model): it gets a plain `### User` /
   * `### Assistant` transcript that opens with a short preamble.
   */
  readonly transcript: boolean;
  /** How long loading took, in milliseconds. */
  readonly loadMilliseconds: number;
  /** Runs `work` when the calls queued before it are done. */
  exclusive<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** The grammar of a JSON schema, compiled once and reused. */
  jsonSchemaGrammar(schema: GbnfJsonSchema): Promise<LlamaGrammar>;
}

let llamaPromise: Promise<{ module: NodeLlamaCpp; llama: Llama }> | undefined;
const loaded = new Map<string, Promise<LoadedModel>>();

async function getRuntime(): Promise<{ module: NodeLlamaCpp; llama: Llama }> {
  llamaPromise ??= (async () => {
    const module = await import("node-llama-cpp");
    // CPU only, and never a source build (it would download llama.cpp): the prebuilt binary or nothing.
    const llama = await module.getLlama({ gpu: false, build: "never", logLevel: module.LlamaLogLevel.error });
    return { module, llama };
  })();
  try {
    return await llamaPromise;
  } catch (error) {
    llamaPromise = undefined;
    throw error;
  }
}

/**
 * The chat format: the model's own chat template when the GGUF has one (instruction-tuned models);
 * otherwise a plain `### User` / `### Assistant` transcript (transcript-chat-wrapper.ts).
 */
function chatWrapperFor(module: NodeLlamaCpp, transcript: boolean): ChatWrapper | "auto" {
  return transcript ? createTranscriptChatWrapper(module) : "auto";
}

function hasChatTemplate(model: LlamaModel): boolean {
  const tokenizer = model.fileInfo.metadata.tokenizer as { chat_template?: unknown } | undefined;
  return typeof tokenizer?.chat_template === "string";
}

async function load(path: string, settings: LoadSettings): Promise<LoadedModel> {
  const started = performance.now();
  const { module, llama } = await getRuntime();
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const context = await model.createContext({
    contextSize: Math.min(settings.contextSize, model.trainContextSize),
    threads: settings.threads,
    sequences: 1,
  });
  const transcript = !hasChatTemplate(model);
  const chat = new module.LlamaChat({
    contextSequence: context.getSequence(),
    chatWrapper: chatWrapperFor(module, transcript),
    autoDisposeSequence: true,
  });
  const loadMilliseconds = performance.now() - started;
  let queue: Promise<unknown> = Promise.resolve();
  const grammars = new Map<string, Promise<LlamaGrammar>>();
  const grammar = (key: string, create: () => Promise<LlamaGrammar>): Promise<LlamaGrammar> => {
    let compiled = grammars.get(key);
    if (compiled === undefined) {
      compiled = create();
      grammars.set(key, compiled);
      compiled.catch(() => grammars.delete(key));
    }
    return compiled;
  };
  return {
    path,
    module,
    model,
    chat,
    transcript,
    loadMilliseconds,
    exclusive<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      const previous = queue;
      const run = (async () => {
        await previous.catch(() => undefined);
        signal?.throwIfAborted();
        return await work();
      })();
      queue = run.catch(() => undefined);
      return run;
    },
    jsonSchemaGrammar(schema: GbnfJsonSchema): Promise<LlamaGrammar> {
      // The schema is only known at run time, which the method's inferred generics cannot express.
      const compile = llama.createGrammarForJsonSchema.bind(llama) as (
        schema: GbnfJsonSchema,
      ) => Promise<LlamaGrammar>;
      return grammar(`json:${JSON.stringify(schema)}`, () => compile(schema));
    },
  };
}

/**
 * The loaded model of a GGUF file, loading it on the first call. A failed load is forgotten, so the
 * next call tries again.
 *
 * @example
 * ```ts
 * const loadedModel = await loadModel("/cache/models/gemma3-270m-q4_k_m.gguf", { contextSize: 4096, threads: 2 });
 * ```
 */
export function loadModel(path: string, settings: LoadSettings): Promise<LoadedModel> {
  let promise = loaded.get(path);
  if (promise === undefined) {
    promise = load(path, settings);
    loaded.set(path, promise);
    promise.catch(() => loaded.delete(path));
  }
  return promise;
}

/**
 * Unloads every local model of the process and the native runtime, for a clean shutdown (a worker's
 * stop, a test's `afterAll`). Models load again on their next call.
 *
 * @example
 * ```ts
 * afterAll(() => disposeLocalModels());
 * ```
 */
export async function disposeLocalModels(): Promise<void> {
  const models = [...loaded.values()];
  loaded.clear();
  for (const promise of models) {
    const model = await promise.catch(() => undefined);
    await model?.exclusive(async () => {
      model.chat.dispose();
      await model.model.dispose();
    });
  }
  const runtime = await llamaPromise?.catch(() => undefined);
  llamaPromise = undefined;
  await runtime?.llama.dispose();
}
