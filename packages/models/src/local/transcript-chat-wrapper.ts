/**
 * The chat format of a base model (one without a chat template): a plain `### User` / `### Assistant`
 * transcript, which a base model such as the default Gemma 3 270M continues far better than a chat
 * format it was never tuned on. Tool calls keep node-llama-cpp's default syntax
 * (`||call: name({...})`), but a text result is written as the text itself on the lines after
 * `||result:`, not as one JSON string: a small model reads a file's lines, and cannot read them back
 * out of `"# ACME teams\n\n- Platform team: ..."` (see answerCue in chat-history.ts for the figures).
 *
 * @module
 */
import type { ChatWrapper, LlamaText } from "node-llama-cpp";
import type { NodeLlamaCpp } from "./loaded-model.ts";

/**
 * Creates the transcript chat wrapper. node-llama-cpp is imported on demand, so its class comes from
 * the loaded module.
 *
 * @example
 * ```ts
 * const chat = new module.LlamaChat({ contextSequence, chatWrapper: createTranscriptChatWrapper(module) });
 * ```
 */
export function createTranscriptChatWrapper(module: NodeLlamaCpp): ChatWrapper {
  class TranscriptChatWrapper extends module.GeneralChatWrapper {
    override generateFunctionCallResult(
      functionName: string,
      functionParams: unknown,
      result: unknown,
    ): LlamaText {
      if (typeof result !== "string")
        return super.generateFunctionCallResult(functionName, functionParams, result);
      return module.LlamaText([new module.SpecialTokensText("\n"), "||result:\n", result.trim(), "\n"]);
    }
  }
  return new TranscriptChatWrapper({ userMessageTitle: "User", modelResponseTitle: "Assistant" });
}
