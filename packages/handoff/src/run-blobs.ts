/**
 * Large strings of a run stored apart: a tool result of a megabyte is written once, to the run's
 * blob hash (field: the SHA-256 of the text), and the run's state, messages and events hold a short
 * reference in its place. A checkpoint that carries the same text again (a pending call's result,
 * then the tool message, then the `tool-call-end` event) writes the reference only.
 *
 * A reference is a string made of a marker (a NUL, which JSON text written by people and models
 * does not start with, then `freehold-blob:`) and the hash. Any string that starts with the marker
 * is stored apart too, whatever its length, so a caller cannot forge a reference: what it wrote
 * comes back as it wrote it.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { FreeholdError } from "@freehold/api";
import type { Redis } from "ioredis";

/** Strings longer than this (UTF-16 code units, about bytes for ASCII) are stored apart. */
export const blobThreshold = 16 * 1024;

const marker = "\u0000freehold-blob:";
/** How the marker looks inside JSON text (JSON.stringify escapes the NUL). */
const markerInJson = "\\u0000freehold-blob:";

/** Whether a JSON text may hold blob references (a cheap test before walking it). */
export function mayHoldBlobs(json: string): boolean {
  return json.includes(markerInJson);
}

function blobHash(text: string): string {
  return createHash("sha256").update(text).digest("base64url");
}

/**
 * A copy of `value` with every long string (and every string that looks like a reference) replaced
 * by a reference; the texts go to `blobs` (hash → text). Objects without such strings are returned
 * as they are, not copied.
 */
export function externalize<T>(value: T, blobs: Map<string, string>): T {
  return walk(value, (text) => {
    if (text.length <= blobThreshold && !text.startsWith(marker)) return text;
    const hash = blobHash(text);
    blobs.set(hash, text);
    return marker + hash;
  }) as T;
}

/**
 * `value` as the JSON text stored, its long strings stored apart in `blobs` (see
 * {@link externalize}). A text no longer than the threshold and without the marker can hold no such
 * string: it is stored as it is, without walking the value (the common case, every checkpoint).
 */
export function storedJson(value: unknown, blobs: Map<string, string>): string {
  const text = JSON.stringify(value);
  if (text.length <= blobThreshold && !mayHoldBlobs(text)) return text;
  return JSON.stringify(externalize(value, blobs));
}

/** The hashes of the references in `value`. */
export function blobReferences(value: unknown, into: Set<string> = new Set()): Set<string> {
  walk(value, (text) => {
    if (text.startsWith(marker)) into.add(text.slice(marker.length));
    return text;
  });
  return into;
}

/** A copy of `value` with every reference replaced by its text from `blobs`. */
function internalize(value: unknown, blobs: ReadonlyMap<string, string>, where: string): unknown {
  return walk(value, (text) => {
    if (!text.startsWith(marker)) return text;
    const hash = text.slice(marker.length);
    const blob = blobs.get(hash);
    if (blob === undefined) {
      throw new FreeholdError(
        "run.corrupt",
        `${where} refers to a stored text (${hash}) that is missing; the run's keys were deleted or partly expired`,
        { details: { hash } },
      );
    }
    return blob;
  });
}

/**
 * Resolves the references in `values` from the blob hash `blobsKey` (one `HMGET`); `where` names the
 * run for the error when a text is missing.
 */
export async function resolveBlobs<T>(
  redis: Pick<Redis, "hmget">,
  blobsKey: string,
  values: readonly T[],
  where: string,
): Promise<T[]> {
  const hashes = new Set<string>();
  for (const value of values) blobReferences(value, hashes);
  if (hashes.size === 0) return [...values];
  const fields = [...hashes];
  const texts = await redis.hmget(blobsKey, ...fields);
  const blobs = new Map<string, string>();
  fields.forEach((hash, index) => {
    const text = texts[index];
    if (typeof text === "string") blobs.set(hash, text);
  });
  return values.map((value) => internalize(value, blobs, where) as T);
}

function walk(value: unknown, visit: (text: string) => string): unknown {
  if (typeof value === "string") return visit(value);
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let index = 0; index < value.length; index += 1) {
      const item: unknown = value[index];
      const next = walk(item, visit);
      if (next !== item) {
        copy ??= [...(value as unknown[])];
        copy[index] = next;
      }
    }
    return copy ?? value;
  }
  // A hot path (every checkpoint walks the state it writes): no arrays of entries.
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    const item = record[key];
    const next = walk(item, visit);
    if (next !== item) {
      copy ??= { ...record };
      copy[key] = next;
    }
  }
  return copy ?? value;
}
