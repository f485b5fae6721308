import { describe, expect, it } from "vitest";
import { childName, objectKey, splitObjectKey } from "./names.ts";

describe("childName", () => {
  it("appends the suffix", () => {
    expect(childName("billing", "agent")).toBe("billing-agent");
  });

  it("stays within 63 characters and unique when the name is long", () => {
    const long = `a${"b".repeat(61)}c`;
    const other = `a${"b".repeat(61)}d`;
    expect(childName(long, "agent")).toHaveLength(63);
    expect(childName(long, "agent")).toMatch(/^a[b]+-[0-9a-f]{8}-agent$/);
    expect(childName(long, "agent")).not.toBe(childName(other, "agent"));
  });
});

describe("object keys", () => {
  it("round-trip namespace/name", () => {
    expect(splitObjectKey(objectKey("acme", "billing"))).toEqual({ namespace: "acme", name: "billing" });
    expect(splitObjectKey(objectKey(undefined, "acme"))).toEqual({ namespace: "", name: "acme" });
  });
});
