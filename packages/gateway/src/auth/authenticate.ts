/**
 * The gateway's first middleware: every request but those of public routes (health, the A2A agent
 * card) must carry a bearer token that an authenticator verifies; the identity is set as the Hono
 * context variable `identity` for everything after it. Otherwise: 401 with
 * `WWW-Authenticate: Bearer realm="freehold"` (and `error="invalid_token"` for a token refused).
 * Identity headers sent by the caller (`X-Freehold-User`, `X-Remote-User`...) are never read.
 *
 * @module
 */
import type { FreeholdError } from "@freehold/api";
import type { MiddlewareHandler } from "hono";
import { errorResponse } from "../error-status.ts";
import {
  authRealm,
  bearerToken,
  invalidTokenError,
  missingTokenError,
  type Authenticator,
  type AuthVariables,
} from "./identity.ts";

/** A route served without authentication. */
export interface PublicRoute {
  readonly method: string;
  /** OpenAPI style: `/a2a/{namespace}/{agent}/.well-known/agent-card.json`. */
  readonly path: string;
}

function pattern(route: PublicRoute): { readonly method: string; readonly path: RegExp } {
  const escaped = route.path
    .split(/\{[A-Za-z]+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join("[^/]+");
  return { method: route.method.toUpperCase(), path: new RegExp(`^${escaped}$`) };
}

function unauthenticated(error: FreeholdError, challenge: string): Response {
  const response = errorResponse(error);
  response.headers.set("www-authenticate", challenge);
  return response;
}

/**
 * @example
 * ```ts
 * app.use(authentication({ authenticator, publicRoutes: [{ method: "get", path: "/healthz" }] }));
 * app.get("/v1/whoami", (context) => context.json(context.get("identity")));
 * ```
 */
export function authentication(options: {
  readonly authenticator: Authenticator;
  readonly publicRoutes: readonly PublicRoute[];
}): MiddlewareHandler<{ Variables: AuthVariables }> {
  const publicRoutes = options.publicRoutes.map(pattern);
  return async (context, next) => {
    const method = context.req.method === "HEAD" ? "GET" : context.req.method;
    const path = new URL(context.req.url).pathname;
    if (publicRoutes.some((route) => route.method === method && route.path.test(path))) return next();
    const token = bearerToken(context.req.raw.headers);
    if (token === undefined) return unauthenticated(missingTokenError(), `Bearer realm="${authRealm}"`);
    const identity = await options.authenticator.authenticate(token, context.req.raw.signal);
    if (identity === undefined)
      return unauthenticated(invalidTokenError(), `Bearer realm="${authRealm}", error="invalid_token"`);
    context.set("identity", identity);
    return next();
  };
}
