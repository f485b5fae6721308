/**
 * CORS and `Origin`: a request that carries an `Origin` header is served only when that origin is
 * on the allow-list (403 otherwise, whatever the method); a preflight (`OPTIONS` with
 * `Access-Control-Request-Method`) is answered only for allowed origins, and their responses get
 * the CORS headers. Requests without `Origin` (curl, the CLI, servers) pass.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import type { MiddlewareHandler } from "hono";
import { errorResponse } from "../error-status.ts";

/** The code of a request from an origin that is not allowed (403). */
export const originForbiddenCode = "request.origin-forbidden";

/** Options of {@link originCheck}. */
export interface OriginCheckOptions {
  /** Whether browsers on `origin` (e.g. `https://console.acme.com`) may call the gateway. */
  readonly isAllowed: (origin: string) => boolean;
  /** Seconds browsers may cache a preflight answer (default 600). */
  readonly maxAgeSeconds?: number;
}

const allowedMethods = "GET, POST, OPTIONS";
const allowedHeaders = "Authorization, Content-Type, Last-Event-ID";
const exposedHeaders = "Location, Retry-After, WWW-Authenticate";

/**
 * Checks `Origin` against the allow-list and answers CORS preflights.
 *
 * @example
 * ```ts
 * const allowed = new Set(["https://console.acme.com"]);
 * app.use(originCheck({ isAllowed: (origin) => allowed.has(origin) }));
 * ```
 */
export function originCheck(options: OriginCheckOptions): MiddlewareHandler {
  const maxAge = String(options.maxAgeSeconds ?? 600);
  return async (context, next) => {
    const origin = context.req.header("origin");
    if (origin === undefined) {
      await next();
      return undefined;
    }
    if (!options.isAllowed(origin)) {
      return errorResponse(
        new FreeholdError(
          originForbiddenCode,
          `requests from origin ${origin} are not allowed: add it to the gateway's allowed origins ` +
            "(freehold gateway --allowed-origin, chart value gateway.edge.allowedOrigins)",
          { details: { origin } },
        ),
      );
    }
    const cors = {
      "access-control-allow-origin": origin,
      "access-control-expose-headers": exposedHeaders,
      vary: "Origin",
    };
    if (
      context.req.method === "OPTIONS" &&
      context.req.header("access-control-request-method") !== undefined
    ) {
      return new Response(null, {
        status: 204,
        headers: {
          ...cors,
          "access-control-allow-methods": allowedMethods,
          "access-control-allow-headers": allowedHeaders,
          "access-control-max-age": maxAge,
        },
      });
    }
    await next();
    for (const [name, value] of Object.entries(cors)) context.res.headers.set(name, value);
    return undefined;
  };
}
