/**
 * A request that does not match its schema becomes one `request.invalid` error (HTTP 400) whose
 * message names every offending field: `input: required; runId: expected string, received number;
 * color: unknown field`.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import type { z } from "zod";

/** Where in the request a value came from. */
export type RequestPart = "body" | "path" | "query" | "header";

/** One problem with one field. */
export interface RequestIssue {
  /** Dotted path within the part, e.g. `message.parts.0.text`; empty for the whole part. */
  readonly field: string;
  readonly problem: string;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function dotted(path: readonly PropertyKey[]): string {
  return path.map(String).join(".");
}

/** The issues of a zod error, one per field, in words a caller can act on. */
export function requestIssues(error: z.ZodError, input: unknown): RequestIssue[] {
  return error.issues.flatMap((issue): RequestIssue[] => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ field: dotted([...issue.path, key]), problem: "unknown field" }));
    }
    const missing = issue.code === "invalid_type" && valueAt(input, issue.path) === undefined;
    return [
      {
        field: dotted(issue.path),
        problem: missing ? "required" : issue.message.replace(/^Invalid input: /, ""),
      },
    ];
  });
}

const partNames: Record<RequestPart, string> = {
  body: "request body",
  path: "path parameter",
  query: "query parameter",
  header: "header",
};

/**
 * The `request.invalid` error for a value that failed its schema.
 *
 * @example
 * ```ts
 * const result = StartRunBody.safeParse(body);
 * if (!result.success) throw invalidRequest("body", result.error, body);
 * // request.invalid: invalid request body: input: required
 * ```
 */
export function invalidRequest(part: RequestPart, error: z.ZodError, input: unknown): FreeholdError {
  const issues = requestIssues(error, input);
  const text = issues
    .map((issue) => (issue.field === "" ? issue.problem : `${issue.field}: ${issue.problem}`))
    .join("; ");
  return new FreeholdError("request.invalid", `invalid ${partNames[part]}: ${text}`, {
    details: { in: part, issues },
  });
}
