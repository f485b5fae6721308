import { describe, expect, it } from "vitest";
import { isoTime } from "./time.ts";

describe("isoTime", () => {
  it("formats as toISOString does, each millisecond its own text", () => {
    const first = new Date(Date.UTC(2026, 11, 7, 11, 32, 14, 123));
    expect(isoTime(first)).toBe("2026-12-07T11:32:14.123Z");
    expect(isoTime(new Date(first.getTime()))).toBe("2026-12-07T11:32:14.123Z");
    expect(isoTime(new Date(first.getTime() + 1))).toBe("2026-12-07T11:32:14.124Z");
    expect(isoTime(first)).toBe("2026-12-07T11:32:14.123Z");
    expect(isoTime(new Date(-1))).toBe("1969-12-31T23:59:59.999Z");
  });

  it("throws for an invalid date, as toISOString does", () => {
    expect(() => isoTime(new Date(Number.NaN))).toThrow(RangeError);
    expect(() => isoTime(new Date(Number.NaN))).toThrow(RangeError);
  });
});
