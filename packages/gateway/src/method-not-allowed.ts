/**
 * A request for a path the gateway serves, with a method it does not serve there: a 405
 * `request.method-not-allowed` whose `Allow` header lists the methods that path takes (RFC 9110),
 * instead of a 404 that says the path does not exist.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";

/** The code of a method the path does not take (405). */
export const methodNotAllowedCode = "request.method-not-allowed";

/**
 * The methods each path of `routes` takes (GET also answers HEAD), as a lookup by request path;
 * an empty list for a path no route has.
 *
 * @example
 * ```ts
 * const allowed = allowedMethods([{ method: "get", path: "/v1/namespaces/{namespace}/runs/{runId}" }]);
 * allowed("/v1/namespaces/acme/runs/r1"); // ["GET", "HEAD"]
 * ```
 */
export function allowedMethods(
  routes: readonly { readonly method: string; readonly path: string }[],
): (pathname: string) => string[] {
  const patterns = routes.map((route) => ({
    method: route.method.toUpperCase(),
    pattern: new RegExp(
      `^${route.path
        .split(/\{[A-Za-z]+\}/)
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
        .join("[^/]+")}$`,
    ),
  }));
  return (pathname) => {
    const methods = new Set<string>();
    for (const { method, pattern } of patterns) {
      if (!pattern.test(pathname)) continue;
      methods.add(method);
      if (method === "GET") methods.add("HEAD");
    }
    return [...methods];
  };
}

/** The error of a method `path` does not take; `allowed` goes into the `Allow` header. */
export function methodNotAllowed(method: string, path: string, allowed: readonly string[]): FreeholdError {
  return new FreeholdError(
    methodNotAllowedCode,
    `${path} does not take ${method}; it takes ${allowed.join(", ")} (see /openapi.json)`,
    { details: { allowed } },
  );
}
