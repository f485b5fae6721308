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
        "quota.runs_exceeded",
        "store.full",
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
      "quota.runs_exceeded": 429,
      "store.full": 503,
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

describe("quotas and a full Redis", () => {
  it("refuses a run past runsPerMinute with 429 and Retry-After from the error's details", async () => {
    const response = errorResponse(
      new FreeholdError("quota.runs_exceeded", "tenant acme may start 2 runs per minute; retry in 17 s", {
        retryable: true,
        details: { tenant: "acme", limit: 2, retryAfterSeconds: 17 },
      }),
    );
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("17");
    expect(await response.json()).toMatchObject({
      code: "quota.runs_exceeded",
      details: { tenant: "acme", limit: 2, retryAfterSeconds: 17 },
    });
  });

  it("turns Redis's OOM reply into a retryable store.full 503 with Retry-After, not a 500", async () => {
    const reply = new Error("OOM command not allowed when used memory > 'maxmemory'.");
    expect(toResponseError(reply)).toMatchObject({ code: "store.full", retryable: true });
    const response = errorResponse(reply);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("30");
    expect(((await response.json()) as { message: string }).message).toMatch(/Redis is full/);
  });
});
