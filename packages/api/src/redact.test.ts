import { describe, expect, it } from "vitest";
import { redactUrls } from "./redact.ts";

describe("redactUrls", () => {
  it("hides the user and password of every URL, and nothing else", () => {
    expect(
      redactUrls(
        "cannot reach redis://freehold-tenant-acme:s3cret@redis:6379/0 nor rediss://:p%40ss@10.0.0.1:6380; see http://example.com/a@b",
      ),
    ).toBe(
      "cannot reach redis://***@redis:6379/0 nor rediss://***@10.0.0.1:6380; see http://example.com/a@b",
    );
    expect(redactUrls('{"url":"redis://default:pw@h:1"}')).toBe('{"url":"redis://***@h:1"}');
    // A password may hold a ' (URLs do not encode it in their user and password).
    expect(redactUrls("redis://ann:it's-secret@redis:6379")).toBe("redis://***@redis:6379");
    expect(redactUrls(`'redis://ann:it's-secret@redis:6379'`)).toBe("'redis://***@redis:6379'");
    expect(redactUrls("redis://127.0.0.1:6379 has no credential")).toBe(
      "redis://127.0.0.1:6379 has no credential",
    );
  });
});
