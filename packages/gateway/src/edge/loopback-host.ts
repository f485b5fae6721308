/**
 * DNS rebinding: a gateway listening on a loopback address (`freehold dev`) serves only requests
 * whose `Host` is a loopback name with its port (`localhost`, `127.0.0.1`, `[::1]`). A page on
 * `evil.example` whose name was rebound to 127.0.0.1 sends `Host: evil.example:<port>` and gets
 * 421 `request.misdirected`. Gateways on other addresses are not checked here (their `Host` is the
 * ingress's business).
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import type { MiddlewareHandler } from "hono";
import { errorResponse } from "../error-status.ts";

/** The code of a request for another host (421). */
export const misdirectedCode = "request.misdirected";

/** Where the gateway listens. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "localhost" || bare === "::1" || /^127(\.\d{1,3}){3}$/.test(bare);
}

/**
 * Refuses a foreign `Host` while the gateway listens on loopback; `listening` says where it
 * listens now (`undefined` before `listen`: nothing to check).
 *
 * @example
 * ```ts
 * app.use(loopbackHostCheck(() => ({ host: "127.0.0.1", port: 8080 })));
 * // curl -H 'Host: evil.example:8080' http://127.0.0.1:8080/healthz   → 421
 * ```
 */
export function loopbackHostCheck(listening: () => ListenAddress | undefined): MiddlewareHandler {
  return async (context, next) => {
    const address = listening();
    if (address !== undefined && isLoopbackHost(address.host)) {
      const host = (context.req.header("host") ?? "").toLowerCase();
      const allowed = [`localhost:${address.port}`, `127.0.0.1:${address.port}`, `[::1]:${address.port}`];
      if (!allowed.includes(host)) {
        return errorResponse(
          new FreeholdError(
            misdirectedCode,
            `this gateway listens on loopback and serves only Host ${allowed.join(", ")}; ` +
              "open it by one of those names",
            { details: { host, allowed } },
          ),
        );
      }
    }
    await next();
    return undefined;
  };
}
