import { FreeholdError } from "@freehold/api";
import { runsExceededCode, storeFullCode } from "@freehold/handoff";
import { describe, expect, it } from "vitest";
import { jsonRpcError } from "./json-rpc.ts";

describe("jsonRpcError", () => {
  it("gives A2A's and JSON-RPC's own errors their numbers", () => {
    expect(jsonRpcError(new FreeholdError("run.not-found", "no run x")).code).toBe(-32001);
    expect(jsonRpcError(new FreeholdError("request.invalid", "bad")).code).toBe(-32602);
  });

  it("gives refusals server-defined numbers by their status, keeping the code and the message", () => {
    const forbidden = jsonRpcError(
      new FreeholdError("auth.forbidden", "ann may not delete runs: ask an admin", {
        details: { verb: "delete" },
      }),
    );
    expect(forbidden).toEqual({
      code: -32041,
      message: "ann may not delete runs: ask an admin",
      data: { code: "auth.forbidden", details: { verb: "delete" } },
    });
    expect(jsonRpcError(new FreeholdError("auth.unauthenticated", "no token")).code).toBe(-32040);
    expect(jsonRpcError(new FreeholdError(runsExceededCode, "over the quota")).code).toBe(-32042);
    expect(jsonRpcError(new FreeholdError(storeFullCode, "Redis is full")).code).toBe(-32043);
  });

  it("keeps -32603 for internal errors, without their message", () => {
    const internal = jsonRpcError(new Error("secret stack detail"));
    expect(internal.code).toBe(-32603);
    expect(internal.message).not.toContain("secret stack detail");
  });
});
