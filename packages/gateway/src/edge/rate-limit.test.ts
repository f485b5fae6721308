import { describe, expect, it } from "vitest";
import { createTokenBuckets } from "./rate-limit.ts";

describe("token buckets", () => {
  it("allow a burst, then one request per refill, per key", () => {
    let time = 0;
    const buckets = createTokenBuckets({ requestsPerSecond: 2, burst: 3, now: () => time });
    expect([1, 2, 3].map(() => buckets.take("ann"))).toEqual([0, 0, 0]);
    expect(buckets.take("ann")).toBeCloseTo(0.5);
    expect(buckets.take("bob")).toBe(0);
    time = 500;
    expect(buckets.take("ann")).toBe(0);
    expect(buckets.take("ann")).toBeCloseTo(0.5);
  });

  it("forget full buckets of idle callers once there are maxCallers", () => {
    let time = 0;
    const buckets = createTokenBuckets({ requestsPerSecond: 1, burst: 1, maxCallers: 100, now: () => time });
    for (let index = 0; index < 100; index++) buckets.take(`caller-${index}`);
    expect(buckets.size()).toBe(100);
    time = 10_000;
    buckets.take("late");
    expect(buckets.size()).toBe(1);
  });
});
