/**
 * The gateway's edge, in the order it runs: the cheap refusals before authentication (Host on a
 * loopback gateway, Origin and CORS, JSON bodies only, path ids), so that a flood of bad or
 * unauthenticated requests costs no token check and no Redis call; then, after authentication,
 * the per-identity limits (request rate, open event streams).
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { identityKey } from "./identity-key.ts";
import { jsonBodiesOnly } from "./json-bodies.ts";
import { isLoopbackHost, loopbackHostCheck, type ListenAddress } from "./loopback-host.ts";
import { originCheck } from "./origin-check.ts";
import { pathIdCheck } from "./path-ids.ts";
import { rateLimit } from "./rate-limit.ts";
import { streamLimit } from "./stream-limit.ts";

/** Options of the gateway's edge (`GatewayOptions.edge`). */
export interface EdgeOptions {
  /**
   * Origins browsers may call the gateway from (`https://console.acme.com`), besides the gateway's
   * own (its public URL, and where it listens). A request with any other `Origin` is a 403.
   */
  readonly allowedOrigins?: readonly string[];
  /** Requests per second each caller may make on average (default 20). */
  readonly requestsPerSecond?: number;
  /** Requests a caller may make at once (default 100). */
  readonly burst?: number;
  /** Event streams (SSE) one caller may hold open at once (default 50). */
  readonly maxStreamsPerCaller?: number;
}

/** What the edge needs to know of the gateway. */
export interface EdgeContext {
  /** Where the gateway listens now (undefined before `listen`). */
  readonly listening: () => ListenAddress | undefined;
  /** The gateway's configured public URL. */
  readonly publicUrl: string | undefined;
  /** The OpenAPI path templates of the gateway's routes, for the path id check. */
  readonly paths: readonly string[];
}

/** The gateway's own origins: its public URL's, and where it listens (by every loopback name). */
function ownOrigins(context: EdgeContext): Set<string> {
  const origins = new Set<string>();
  if (context.publicUrl !== undefined) origins.add(new URL(context.publicUrl).origin);
  const address = context.listening();
  if (address !== undefined) {
    const hosts = isLoopbackHost(address.host)
      ? ["localhost", "127.0.0.1", "[::1]"]
      : [address.host.includes(":") ? `[${address.host}]` : address.host];
    for (const host of hosts) origins.add(`http://${host}:${address.port}`);
  }
  return origins;
}

/**
 * The edge middlewares: `refusals` go before authentication, `limits` after it.
 *
 * @example
 * ```ts
 * const edge = createEdge({ allowedOrigins: ["https://console.acme.com"] }, { listening, publicUrl, paths });
 * for (const middleware of edge.refusals) app.use(middleware);
 * app.use(authentication(...));
 * for (const middleware of edge.limits) app.use(middleware);
 * ```
 */
export function createEdge(
  options: EdgeOptions,
  context: EdgeContext,
): { readonly refusals: MiddlewareHandler[]; readonly limits: MiddlewareHandler[] } {
  const allowed = new Set((options.allowedOrigins ?? []).map((origin) => new URL(origin).origin));
  return {
    refusals: [
      loopbackHostCheck(context.listening),
      originCheck({ isAllowed: (origin) => allowed.has(origin) || ownOrigins(context).has(origin) }),
      jsonBodiesOnly(),
      pathIdCheck(context.paths),
    ],
    limits: [
      rateLimit({
        key: identityKey,
        ...(options.requestsPerSecond === undefined ? {} : { requestsPerSecond: options.requestsPerSecond }),
        ...(options.burst === undefined ? {} : { burst: options.burst }),
      }),
      streamLimit({
        key: identityKey,
        ...(options.maxStreamsPerCaller === undefined
          ? {}
          : { maxStreamsPerCaller: options.maxStreamsPerCaller }),
      }),
    ],
  };
}
