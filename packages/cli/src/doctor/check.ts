/**
 * One finding of `freehold doctor`: what was checked, ok / warn / fail, what was found, and (when
 * it is not ok) what to do about it.
 *
 * @module
 */

export type CheckStatus = "ok" | "warn" | "fail";

export interface CheckResult {
  /** What was checked: `redis`, `cluster`, `crd agents.freehold.dev`, `model default/gpt`. */
  readonly check: string;
  readonly status: CheckStatus;
  readonly message: string;
  /** What to do, when the status is not ok. */
  readonly fix?: string;
}

/** The message of an error, for a check's line (never a stack). */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return `${error.message}${error.message.includes(cause.slice(2)) ? "" : cause}`;
  }
  return String(error);
}

/** A result, the fix only when given. */
export function result(check: string, status: CheckStatus, message: string, fix?: string): CheckResult {
  return { check, status, message, ...(fix === undefined ? {} : { fix }) };
}

/** Reads at most `maxBytes` of a response's body as text. */
export async function boundedText(response: Response, maxBytes = 1_048_576): Promise<string> {
  if (response.body === null) return "";
  const chunks: Uint8Array[] = [];
  let length = 0;
  // Leaving the loop early cancels the rest of the body.
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    chunks.push(chunk);
    length += chunk.length;
    if (length >= maxBytes) break;
  }
  return Buffer.concat(chunks).toString("utf8", 0, Math.min(length, maxBytes));
}
