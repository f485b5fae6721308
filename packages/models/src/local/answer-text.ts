/**
 * Where a local model's text answer ends, and what of it reaches the caller. A small model does not
 * stop by itself where an answer should: it goes on with the transcript's own syntax (a new
 * `### User` heading, a `||call:` or `||result:` line, another `Question:` after tool results), which
 * an earlier version returned as part of the answer (`1\n||result: "..."`), or it loops, writing the
 * same line again to the token limit (`- Priya Natarajan` 40 times; the DRY penalty does not reach
 * across line breaks). The syntax is stop triggers, so it is never written out; a repeated line ends
 * the answer before it. The answer is trimmed, and streamed text is held back the same way, so the
 * deltas add up to the final text (unless a call marker hid inside a longer token, which only the
 * final text is cut at).
 *
 * @module
 */

/** Function-call syntax of node-llama-cpp's chat wrappers: never part of an answer. */
const callMarkers = ["||call:", "||result:"] as const;

/**
 * The texts that end an answer: the caller's own `stop` strings, a new transcript heading, the
 * function-call markers and, after tool results, a new `Question:` (see answerCue in chat-history.ts).
 *
 * @example
 * ```ts
 * answerStopTriggers({ stop: [], afterToolResults: true });
 * // ["\n### ", "||call:", "||result:", "\nQuestion:"]
 * ```
 */
export function answerStopTriggers(options: {
  readonly stop: readonly string[];
  readonly afterToolResults: boolean;
}): string[] {
  return [...options.stop, "\n### ", ...callMarkers, ...(options.afterToolResults ? ["\nQuestion:"] : [])];
}

/**
 * The answer as the caller gets it: without surrounding whitespace, and cut before a call marker
 * that slipped past the stop triggers (inside a longer token).
 *
 * @example
 * ```ts
 * cleanAnswer(' Dana Okafor.\n||result: "..."'); // "Dana Okafor."
 * ```
 */
export function cleanAnswer(text: string): string {
  let end = text.length;
  for (const marker of callMarkers) {
    const index = text.indexOf(marker);
    if (index !== -1 && index < end) end = index;
  }
  return text.slice(0, end).trim();
}

/** A repeated line with fewer letters or digits than this ("}", "```", "---") is not a loop. */
const minRepeatedLineCharacters = 4;

function isLoopCandidate(line: string): boolean {
  return (line.match(/[\p{L}\p{N}]/gu) ?? []).length >= minRepeatedLineCharacters;
}

/** The complete lines of `text` (each ended by a newline), trimmed, with where each starts. */
function completeLines(text: string): { line: string; start: number }[] {
  const lines: { line: string; start: number }[] = [];
  let start = 0;
  for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
    lines.push({ line: text.slice(start, end).trim(), start });
    start = end + 1;
  }
  return lines;
}

/**
 * Where a small model's answer starts to loop: the start of the first complete line that repeats an
 * earlier one word for word (`- Priya Natarajan` a second time), or undefined. Lines with fewer than
 * four letters or digits may repeat.
 *
 * @example
 * ```ts
 * repeatedLineStart("- Dana\n- Priya\n- Priya\n- Priya\n"); // 15
 * ```
 */
export function repeatedLineStart(text: string): number | undefined {
  const seen = new Set<string>();
  for (const { line, start } of completeLines(text)) {
    if (!isLoopCandidate(line)) continue;
    if (seen.has(line)) return start;
    seen.add(line);
  }
  return undefined;
}

/** The answer as it is written; see {@link createAnswerText}. */
export interface AnswerText {
  /** Takes the next chunk the model wrote; true when the answer has ended at a repeated line. */
  push(chunk: string): boolean;
}

/**
 * Follows an answer as the model writes it, and sends `onText` only text that stays in
 * {@link finalAnswer}: leading whitespace is dropped, whitespace is held back until more text follows
 * it, and with `endAtRepeatedLine`, a line that could still turn out to repeat an earlier one is held
 * back until it differs. `push` returns true once a line repeated: the caller stops the model.
 *
 * @example
 * ```ts
 * const answer = createAnswerText({ endAtRepeatedLine: true, onText: (text) => process.stdout.write(text) });
 * answer.push(" Dana"); answer.push(" Okafor.\n"); // writes "Dana", then " Okafor."
 * ```
 */
export function createAnswerText(options: {
  readonly endAtRepeatedLine: boolean;
  readonly onText?: ((text: string) => void) | undefined;
}): AnswerText {
  let written = "";
  let sent = 0;
  let ended = false;
  return {
    push(chunk) {
      if (ended) return true;
      written += chunk;
      let settled = written;
      if (options.endAtRepeatedLine) {
        const repeated = repeatedLineStart(written);
        if (repeated !== undefined) {
          settled = written.slice(0, repeated);
          ended = true;
        } else {
          const lineStart = written.lastIndexOf("\n") + 1;
          const open = written.slice(lineStart).trim();
          const earlier = completeLines(written).map(({ line }) => line);
          if (open === "" || earlier.some((line) => isLoopCandidate(line) && line.startsWith(open))) {
            settled = written.slice(0, lineStart);
          }
        }
      }
      const text = cleanAnswer(settled);
      if (text.length > sent) {
        options.onText?.(text.slice(sent));
        sent = text.length;
      }
      return ended;
    },
  };
}

/**
 * The answer the caller gets from everything the model wrote: cut before a repeated line when
 * `endAtRepeatedLine`, then {@link cleanAnswer}.
 *
 * @example
 * ```ts
 * finalAnswer("- Dana\n- Priya\n- Priya\n", { endAtRepeatedLine: true }); // "- Dana\n- Priya"
 * ```
 */
export function finalAnswer(written: string, options: { readonly endAtRepeatedLine: boolean }): string {
  const repeated = options.endAtRepeatedLine ? repeatedLineStart(written) : undefined;
  return cleanAnswer(repeated === undefined ? written : written.slice(0, repeated));
}
