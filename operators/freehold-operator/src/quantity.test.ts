import { describe, expect, it } from "vitest";
import { divideQuantity, formatBytes, parseQuantity, smallerQuantity } from "./quantity.ts";

describe("parseQuantity", () => {
  it.each([
    ["16", 16n, 1n],
    ["500m", 500n, 1000n],
    ["1.5", 15n, 10n],
    ["64Gi", 64n << 30n, 1n],
    ["2k", 2000n, 1n],
    ["2e3", 2000n, 1n],
    ["1E-3", 1n, 1000n],
    [".5", 5n, 10n],
  ])("reads %s exactly", (text, numerator, denominator) => {
    const parsed = parseQuantity(text);
    expect(parsed).toBeDefined();
    if (parsed === undefined) return;
    expect(parsed.numerator * denominator).toBe(numerator * parsed.denominator);
  });

  it.each(["", "lots", "-1", "1.2.3", "5 Gi", "1Gb", "Gi"])("refuses %j", (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });
});

describe("divideQuantity", () => {
  it.each([
    ["16", 2, "cpu", "8"],
    ["16", 3, "cpu", "5333m"],
    ["500m", 2, "cpu", "250m"],
    ["1.5", 1, "cpu", "1500m"],
    ["64Gi", 2, "memory", "32Gi"],
    ["8Gi", 3, "memory", "2796202Ki"],
    ["1G", 2, "memory", "500M"],
    ["100", 3, "memory", "33"],
  ] as const)("%s over %i namespaces (%s) is %s each", (text, parts, kind, share) => {
    expect(divideQuantity(text, parts, kind)).toBe(share);
  });

  it("refuses a quantity it cannot read", () => {
    expect(divideQuantity("plenty", 2, "cpu")).toBeUndefined();
  });
});

describe("formatBytes and smallerQuantity", () => {
  it("prefers the largest exact unit", () => {
    expect(formatBytes(1n << 20n)).toBe("1Mi");
    expect(formatBytes(3n * 10n ** 9n)).toBe("3G");
  });

  it("picks the smaller of two quantities", () => {
    expect(smallerQuantity("128Mi", "64Mi")).toBe("64Mi");
    expect(smallerQuantity("100m", "2")).toBe("100m");
  });
});
