import { describe, expect, it } from "vitest";
import { statusOfCode } from "./error-status.ts";
import { allowedMethods, methodNotAllowed, methodNotAllowedCode } from "./method-not-allowed.ts";

const routes = [
  { method: "get", path: "/healthz" },
  { method: "get", path: "/v1/namespaces/{namespace}/runs/{runId}" },
  { method: "post", path: "/v1/namespaces/{namespace}/runs/{runId}/cancel" },
  { method: "get", path: "/a2a/{namespace}/{agent}/.well-known/agent-card.json" },
  { method: "post", path: "/a2a/{namespace}/{agent}" },
];

describe("allowedMethods", () => {
  const allowed = allowedMethods(routes);

  it("lists the methods of the routes whose template the path matches, HEAD with GET", () => {
    expect(allowed("/healthz")).toEqual(["GET", "HEAD"]);
    expect(allowed("/v1/namespaces/acme/runs/r1")).toEqual(["GET", "HEAD"]);
    expect(allowed("/v1/namespaces/acme/runs/r1/cancel")).toEqual(["POST"]);
    expect(allowed("/a2a/acme/billing")).toEqual(["POST"]);
  });

  it("matches a parameter to one segment only, and literals exactly", () => {
    expect(allowed("/v1/namespaces/acme/runs/r1/r2")).toEqual([]);
    expect(allowed("/v1/namespaces/acme/runs/")).toEqual([]);
    expect(allowed("/healthzz")).toEqual([]);
    // The '.' of the card's path is a literal dot, not "any character".
    expect(allowed("/a2a/acme/billing/.well-known/agent-card.json")).toEqual(["GET", "HEAD"]);
    expect(allowed("/a2a/acme/billing/.well-known/agent-cardxjson")).toEqual([]);
  });
});

describe("methodNotAllowed", () => {
  it("is a 405 that names the methods the path takes", () => {
    const error = methodNotAllowed("TRACE", "/healthz", ["GET", "HEAD"]);
    expect(error.code).toBe(methodNotAllowedCode);
    expect(statusOfCode(error.code)).toBe(405);
    expect(error.message).toBe("/healthz does not take TRACE; it takes GET, HEAD (see /openapi.json)");
    expect(error.details).toEqual({ allowed: ["GET", "HEAD"] });
  });
});
