import { describe, expect, it } from "vitest";
import { durationMilliseconds, retryAfterMilliseconds } from "./retry-after.ts";

describe("retryAfterMilliseconds", () => {
  it("reads seconds, an HTTP date, and retry-after-ms", () => {
    expect(retryAfterMilliseconds(new Headers({ "retry-after": "20" }))).toBe(20_000);
    expect(retryAfterMilliseconds(new Headers({ "retry-after": "0.5" }))).toBe(500);
    const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
    expect(retryAfterMilliseconds(new Headers({ "retry-after": "Wed, 21 Oct 2015 07:28:30 GMT" }), now)).toBe(
      30_000,
    );
    expect(retryAfterMilliseconds(new Headers({ "retry-after-ms": "1500", "retry-after": "2" }))).toBe(1500);
  });

  it("is undefined without a usable header", () => {
    expect(retryAfterMilliseconds(new Headers())).toBeUndefined();
    expect(retryAfterMilliseconds(new Headers({ "retry-after": "soon" }))).toBeUndefined();
  });
});

describe("durationMilliseconds", () => {
  it("reads protobuf durations", () => {
    expect(durationMilliseconds("22s")).toBe(22_000);
    expect(durationMilliseconds("10.689924287s")).toBe(10_690);
    expect(durationMilliseconds("22")).toBeUndefined();
    expect(durationMilliseconds(22)).toBeUndefined();
  });
});
