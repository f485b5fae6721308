/**
 * Freehold's conversation in the Gemini `generateContent` wire format: roles `user` and `model`,
 * system text as `systemInstruction`, tool calls as `functionCall` parts (with the thought signature
 * Gemini 3 requires back) and tool results as `functionResponse` parts.
 *
 * @module
 */
import type { ChatMessage, ModelParameters } from "@freehold/api";
import { toolArgumentsObject } from "../../assistant-result.ts";
import type { GenerateRequest } from "../../language-model.ts";

/** A part Freehold sends. */
export type GeminiPart =
  | { text: string }
  | { functionCall: { name: string; args: Record<string, unknown> }; thoughtSignature?: string }
  | { functionResponse: { name: string; response: Record<string, unknown> } };

/** One turn of the conversation. */
export interface GeminiContent {
  role: "user" | "model";
  parts: GeminiPart[];
}

/**
 * The signature Google documents for function calls the model did not produce in this session
 * (another worker's turns, another provider's turns after a fallback): Gemini 3 refuses a function
 * call without any signature.
 */
export const foreignThoughtSignature = "skip_thought_signature_validator";

/** Looks up the thought signature Gemini sent with a tool call, by the call's id. */
export type ThoughtSignatureLookup = (toolCallId: string) => string | undefined;

function partsOf(
  message: Exclude<ChatMessage, { role: "system" }>,
  signatureOf: ThoughtSignatureLookup,
): GeminiPart[] {
  switch (message.role) {
    case "user":
      return message.content === "" ? [] : [{ text: message.content }];
    case "assistant":
      return [
        ...(message.content === "" ? [] : [{ text: message.content }]),
        ...(message.toolCalls ?? []).map((call, index): GeminiPart => {
          const signature = signatureOf(call.id) ?? (index === 0 ? foreignThoughtSignature : undefined);
          return {
            functionCall: { name: call.name, args: toolArgumentsObject(call.arguments) },
            ...(signature === undefined ? {} : { thoughtSignature: signature }),
          };
        }),
      ];
    case "tool":
      return [
        {
          functionResponse: {
            name: message.name,
            response: message.isError === true ? { error: message.content } : { result: message.content },
          },
        },
      ];
  }
}

/**
 * The system instruction and the turns of a conversation.
 *
 * @example
 * ```ts
 * const { systemInstruction, contents } = toGeminiContents(conversation, () => undefined);
 * ```
 */
export function toGeminiContents(
  conversation: readonly ChatMessage[],
  signatureOf: ThoughtSignatureLookup,
): { systemInstruction: { parts: { text: string }[] } | undefined; contents: GeminiContent[] } {
  const system: { text: string }[] = [];
  const contents: GeminiContent[] = [];
  for (const message of conversation) {
    if (message.role === "system") {
      if (message.content !== "") system.push({ text: message.content });
      continue;
    }
    const role = message.role === "assistant" ? "model" : "user";
    const parts = partsOf(message, signatureOf);
    if (parts.length === 0) continue;
    const last = contents.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  }
  return { systemInstruction: system.length === 0 ? undefined : { parts: system }, contents };
}

/**
 * The body of `generateContent` and `streamGenerateContent`. Tool schemas go in
 * `parametersJsonSchema`, which takes JSON Schema as it is.
 *
 * @example
 * ```ts
 * geminiRequestBody(request, { temperature: 0 }, () => undefined);
 * ```
 */
export function geminiRequestBody(
  request: GenerateRequest,
  parameters: ModelParameters,
  signatureOf: ThoughtSignatureLookup,
): Record<string, unknown> {
  const { systemInstruction, contents } = toGeminiContents(request.messages, signatureOf);
  const tools = request.tools ?? [];
  const generationConfig = {
    ...(parameters.temperature === undefined ? {} : { temperature: parameters.temperature }),
    ...(parameters.topP === undefined ? {} : { topP: parameters.topP }),
    ...(parameters.maxOutputTokens === undefined ? {} : { maxOutputTokens: parameters.maxOutputTokens }),
    ...(parameters.seed === undefined ? {} : { seed: parameters.seed }),
    ...(parameters.stop === undefined ? {} : { stopSequences: parameters.stop }),
  };
  return {
    contents,
    ...(systemInstruction === undefined ? {} : { systemInstruction }),
    ...(tools.length === 0
      ? {}
      : {
          tools: [
            {
              functionDeclarations: tools.map((tool) => ({
                name: tool.name,
                ...(tool.description === undefined ? {} : { description: tool.description }),
                parametersJsonSchema: tool.inputSchema,
              })),
            },
          ],
        }),
    ...(Object.keys(generationConfig).length === 0 ? {} : { generationConfig }),
  };
}
