/**
 * The texts that tool choice scores a request under (see tool-choice.ts): one candidate per tool, and
 * one for answering without a tool. A tool's candidate is what a small model can read: its name, the
 * first sentence of its description, and, when the agent's instructions name the tool, those
 * instructions, which say what the agent uses the tool for ("You answer questions about ACME's teams.
 * First call read_text_file ..."). A request in the agent's domain then reads as likely under the tool
 * that the instructions tie to that domain, and a request outside it does not.
 *
 * @module
 */
import type { ToolDefinition } from "../language-model.ts";

/** The candidate that stands for answering without a tool. */
export const noToolDescription = "Answer from general knowledge, chat, math, or writing, with no tool.";

/** Description characters used at most. */
const maxDescriptionCharacters = 300;

/** Instruction characters added to a tool's candidate at most. */
const maxInstructionCharacters = 400;

/** A first sentence shorter than this ("E.g.", "Note:") takes the next one with it. */
const minSentenceCharacters = 20;

function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** The sentences of `text`, split after `.`, `!` or `?` followed by a space. */
function sentencesOf(text: string): string[] {
  return collapseWhitespace(text)
    .split(/(?<=[.!?])\s+/)
    .filter((sentence) => sentence !== "");
}

/**
 * The first sentence of a tool's description, at most 300 characters. Published tools often describe
 * themselves at length (encodings, errors, options); the first sentence says what the tool does, and
 * the rest only dilutes what a small model compares.
 *
 * @example
 * ```ts
 * firstSentence("Read a file as text. Handles various encodings."); // "Read a file as text."
 * ```
 */
export function firstSentence(description: string): string {
  let sentence = "";
  for (const next of sentencesOf(description)) {
    sentence = sentence === "" ? next : `${sentence} ${next}`;
    if (sentence.length >= minSentenceCharacters) break;
  }
  return sentence.slice(0, maxDescriptionCharacters);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** True when `text` names `toolName` as a whole word (`read_text_file`, not `read_text_files`). */
export function namesTool(text: string, toolName: string): boolean {
  if (toolName === "") return false;
  return new RegExp(`(?<![\\w-])${escapeRegExp(toolName)}(?![\\w-])`).test(text);
}

/**
 * What the agent's instructions say about a tool: undefined when they do not name it; otherwise the
 * instructions, cut to 400 characters by keeping the sentences that name the tool and, as room allows,
 * the others from the start (where instructions usually say what the agent is for), in their order.
 *
 * @example
 * ```ts
 * instructionsAbout("You answer questions about ACME's teams. First call read_text_file.", "read_text_file");
 * // "You answer questions about ACME's teams. First call read_text_file."
 * ```
 */
export function instructionsAbout(instructions: string, toolName: string): string | undefined {
  if (!namesTool(instructions, toolName)) return undefined;
  const sentences = sentencesOf(instructions).map((text, index) => ({ text, index }));
  const naming = sentences.filter((sentence) => namesTool(sentence.text, toolName));
  const others = sentences.filter((sentence) => !namesTool(sentence.text, toolName));
  const kept: { text: string; index: number }[] = [];
  let length = 0;
  for (const sentence of [...naming, ...others]) {
    if (length + sentence.text.length + 1 > maxInstructionCharacters) continue;
    kept.push(sentence);
    length += sentence.text.length + 1;
  }
  if (kept.length === 0) return naming[0]?.text.slice(0, maxInstructionCharacters);
  return kept
    .sort((left, right) => left.index - right.index)
    .map((sentence) => sentence.text)
    .join(" ");
}

/**
 * The text a request is scored after, for one tool or (with `tool` undefined) for answering without
 * one. `instructions` are the conversation's system messages; they join a tool's candidate only when
 * they name that tool.
 *
 * @example
 * ```ts
 * candidatePrefix(weatherTool, undefined);
 * // "Tool: get_weather - Get the current weather for a city.\nA user request that this tool handles: "
 * ```
 */
export function candidatePrefix(tool: ToolDefinition | undefined, instructions: string | undefined): string {
  if (tool === undefined) return `Tool: none - ${noToolDescription}\nA user request that this tool handles: `;
  const description = firstSentence(tool.description ?? "");
  const about = instructions === undefined ? undefined : instructionsAbout(instructions, tool.name);
  const usage = about === undefined ? "" : `\nThe agent's instructions: ${about}`;
  return `Tool: ${tool.name} - ${description === "" ? tool.name : description}${usage}\nA user request that this tool handles: `;
}
