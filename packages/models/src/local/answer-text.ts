/**
 * Where a local model's text answer ends, and what of it reaches the caller. A small model does not
 * stop by itself where an answer should: it goes on with the transcript's own syntax (a new
 * `### User` heading, a `||call:` or `||result:` line, another `Question:` after tool results), which
 * an earlier version returned as part of the answer (`1\n||result: "..."`). Those are stop triggers,
 * so they are never written out, and the answer is trimmed; streamed text is trimmed the same way, so
 * the deltas add up to the final text (unless a marker hid inside a longer token, which only the
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

/**
 * Wraps a text-delta callback so that what it receives adds up to {@link cleanAnswer} of the whole
 * text: leading whitespace is dropped, and whitespace is held back until more text follows it.
 *
 * @example
 * ```ts
 * const deltas = trimmedDeltas((text) => process.stdout.write(text));
 * deltas(" Dana"); deltas(" Okafor.\n"); // writes "Dana", then " Okafor."
 * ```
 */
export function trimmedDeltas(onText: (text: string) => void): (chunk: string) => void {
  let started = false;
  let heldWhitespace = "";
  return (chunk) => {
    const text = heldWhitespace + chunk;
    const content = started ? text : text.trimStart();
    const trimmed = content.trimEnd();
    heldWhitespace = content.slice(trimmed.length);
    if (trimmed === "") return;
    started = true;
    onText(trimmed);
  };
}
