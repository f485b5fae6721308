import { describe, expect, it } from "vitest";
import { FreeholdError } from "@freehold/api";
import { retryDelay } from "./retrying-model.ts";

const retryable = new FreeholdError("model.provider", "failed", { retryable: true });
const options = { maxRetries: 5, timeoutMs: 60_000, initialDelayMs: 100, maxDelayMs: 1000 };

describe("retryDelay", () => {
  it("doubles the delay, with half of it random, up to the maximum", () => {
    expect(retryDelay(0, retryable, { ...options, random: () => 0 })).toBe(50);
    expect(retryDelay(0, retryable, { ...options, random: () => 0.999_999 })).toBe(100);
    expect(retryDelay(2, retryable, { ...options, random: () => 0.5 })).toBe(300);
    expect(retryDelay(4, retryable, { ...options, random: () => 1 })).toBe(1000);
  });

  it("waits at least as long as the provider asked", () => {
    const limited = new FreeholdError("model.rate-limit", "slow down", {
      retryable: true,
      details: { retryAfterMs: 20_000 },
    });
    expect(retryDelay(0, limited, { ...options, random: () => 0 })).toBe(20_000);
  });

  it("does not retry past maxRetries, errors that are not retryable, or a wait beyond maxRetryAfterMs", () => {
    expect(retryDelay(5, retryable, options)).toBeUndefined();
    expect(retryDelay(0, new FreeholdError("model.auth", "bad key"), options)).toBeUndefined();
    const long = new FreeholdError("model.rate-limit", "tomorrow", {
      retryable: true,
      details: { retryAfterMs: 3_600_000 },
    });
    expect(retryDelay(0, long, options)).toBeUndefined();
  });
});
