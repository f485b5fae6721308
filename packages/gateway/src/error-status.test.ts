import { FreeholdError } from "@freehold/api";
import { describe, expect, it } from "vitest";
import { errorResponse, statusOfCode, toResponseError } from "./error-status.ts";

describe("statusOfCode", () => {
  it("maps codes to statuses by what happened", () => {
    const statuses = Object.fromEntries(
      [
        "request.unauthenticated",
        "agent.not-found",
        "run.not-found",
        "inbox.item-not-found",
        "approval.not-found",
        "request.too-large",
        "run.finished",
        "run.exists",
        "run.conflict",
        "inbox.already-claimed",
        "inbox.not-claimed-by-you",
        "inbox.stale-item",
        "approval.stale",
        "run.precondition-failed",
        "request.invalid",
        "request.malformed",
        "manifest.invalid-field",
        "thing.unprocessable",
        "redis.unavailable",
        "model.timeout",
        "gateway.internal",
        "something.else",
      ].map((code) => [code, statusOfCode(code)]),
    );
    expect(statuses).toEqual({
      "request.unauthenticated": 401,
      "agent.not-found": 404,
      "run.not-found": 404,
      "inbox.item-not-found": 404,
      "approval.not-found": 404,
      "request.too-large": 413,
      "run.finished": 409,
      "run.exists": 409,
      "run.conflict": 409,
      "inbox.already-claimed": 409,
      "inbox.not-claimed-by-you": 409,
      "inbox.stale-item": 409,
      "approval.stale": 409,
      "run.precondition-failed": 409,
      "request.invalid": 400,
      "request.malformed": 400,
      "manifest.invalid-field": 400,
      "thing.unprocessable": 422,
      "redis.unavailable": 503,
      "model.timeout": 503,
      "gateway.internal": 500,
      "something.else": 500,
    });
  });
});

describe("errorResponse", () => {
  it("sends {code, message, details} with the code's status, never the stack or the cause", async () => {
    const response = errorResponse(
      new FreeholdError("run.finished", "run r1 already ended", {
        details: { runId: "r1" },
        cause: new Error("inner"),
      }),
    );
    expect(response.status).toBe(409);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.json()).toEqual({
      code: "run.finished",
      message: "run r1 already ended",
      details: { runId: "r1" },
    });
  });

  it("hides what an unexpected error says, and turns Redis being down into a retryable 503", async () => {
    const internal = errorResponse(new TypeError("cannot read properties of undefined (reading 'secret')"));
    expect(internal.status).toBe(500);
    expect(await internal.json()).toEqual({
      code: "gateway.internal",
      message: "the gateway failed to handle the request; see its log",
    });
    const down = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6379"), { code: "ECONNREFUSED" });
    expect(toResponseError(down)).toMatchObject({ code: "redis.unavailable", retryable: true });
    const response = errorResponse(down);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
  });
});
