/**
 * Path ids checked at the edge, before authentication and before any Redis key is built from
 * them: names (namespace, agent, queue) are DNS labels, ids (run, item) are letters, digits, '.',
 * '_' and '-' (no ':', no '/', at most 200 characters). A bad segment is a 400 that names the
 * parameter. The route templates come from the gateway's route list, so nothing is listed twice.
 *
 * @module
 */
import { DnsLabel, FreeholdError } from "@freehold/api";
import type { MiddlewareHandler } from "hono";
import { errorResponse } from "../error-status.ts";
import { PathId } from "../schemas.ts";

/** What is wrong with a parameter's value, or undefined. */
function problemOf(parameter: string, value: string): string | undefined {
  // Run and item ids: no ':', no '/', bounded; the document's schema of them.
  const result = (names.has(parameter) ? DnsLabel : PathId).safeParse(value);
  return result.success ? undefined : (result.error.issues[0]?.message ?? "is not a valid id");
}

const names = new Set(["namespace", "agent", "queue"]);

type Segment = { readonly literal: string } | { readonly parameter: string };

function template(path: string): Segment[] {
  return path
    .split("/")
    .slice(1)
    .map((part) => {
      const match = /^\{([A-Za-z]+)\}$/.exec(part);
      return match?.[1] === undefined ? { literal: part } : { parameter: match[1] };
    });
}

function invalid(parameter: string, problem: string): Response {
  return errorResponse(
    new FreeholdError("request.invalid", `invalid path parameter: ${parameter}: ${problem}`, {
      details: { in: "path", issues: [{ field: parameter, problem }] },
    }),
  );
}

/**
 * Validates the path parameters of requests that match one of `paths` (OpenAPI templates).
 *
 * @example
 * ```ts
 * app.use(pathIdCheck(["/v1/namespaces/{namespace}/runs/{runId}"]));
 * // GET /v1/namespaces/acme/runs/a:b   → 400 invalid path parameter: runId: ...
 * ```
 */
export function pathIdCheck(paths: readonly string[]): MiddlewareHandler {
  const templates = [...new Set(paths)].map(template);
  return async (context, next) => {
    const segments = new URL(context.req.url).pathname.split("/").slice(1);
    const matching = templates.find(
      (candidate) =>
        candidate.length === segments.length &&
        candidate.every((segment, index) => !("literal" in segment) || segment.literal === segments[index]),
    );
    for (const [index, segment] of (matching ?? []).entries()) {
      if ("literal" in segment) continue;
      let value: string;
      try {
        value = decodeURIComponent(segments[index] ?? "");
      } catch {
        return invalid(segment.parameter, "is not valid percent-encoding");
      }
      const problem = problemOf(segment.parameter, value);
      if (problem !== undefined) return invalid(segment.parameter, problem);
    }
    await next();
    return undefined;
  };
}
