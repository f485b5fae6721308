/**
 * JSON bodies only: a request that carries a body must name `application/json` as its type. Anything else (`text/plain`, form posts, multipart) is refused with 415
 * before it is read, so a web page cannot send the gateway a "simple" cross-site request that
 * skips the CORS preflight.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import type { MiddlewareHandler } from "hono";
import { errorResponse } from "../error-status.ts";

/** The code of a body that is not JSON (415). */
export const unsupportedMediaTypeCode = "request.unsupported-media-type";

const json = /^application\/json\s*(;.*)?$/i;

function carriesBody(headers: Headers): boolean {
  const length = headers.get("content-length");
  return headers.has("transfer-encoding") || (length !== null && length.trim() !== "0");
}

/**
 * Refuses requests with a non-JSON body or content type (415 `request.unsupported-media-type`).
 *
 * @example
 * ```ts
 * app.use(jsonBodiesOnly());
 * // curl -X POST $G/v1/namespaces/acme/agents/billing/runs -d 'input=hi'   → 415
 * ```
 */
export function jsonBodiesOnly(): MiddlewareHandler {
  return async (context, next) => {
    const headers = context.req.raw.headers;
    const type = headers.get("content-type");
    if (carriesBody(headers) && (type === null || !json.test(type))) {
      return errorResponse(
        new FreeholdError(
          unsupportedMediaTypeCode,
          `the gateway takes JSON bodies only, not ${type ?? "a body without a content type"}: ` +
            "send Content-Type: application/json",
          { details: { contentType: type } },
        ),
      );
    }
    await next();
    return undefined;
  };
}
