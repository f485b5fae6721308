/**
 * Stable JSON: keys sorted at every depth, so the same content always gives the same text and the
 * same hash, whatever order the API server returned the fields in.
 *
 * @module
 */
import { createHash } from "node:crypto";

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .flatMap((key) => {
          const entry = (value as Record<string, unknown>)[key];
          return entry === undefined ? [] : [[key, sortKeys(entry)]];
        }),
    );
  }
  return value;
}

/**
 * JSON with sorted keys, indented by two spaces.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: { d: 2, c: 3 } }); // '{\n  "a": {\n    "c": 3, ...'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), undefined, 2);
}

/** The first 16 hex digits of the SHA-256 of the parts, each ended by a newline. */
export function shortHash(parts: readonly string[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part).update("\n");
  return hash.digest("hex").slice(0, 16);
}

/** The SHA-256 of a text, in hex: what stands for a Secret value in a hash, never the value itself. */
export function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
