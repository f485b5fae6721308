import { describe, expect, it } from "vitest";
import { prepareMcpSchemas } from "./prepare-schemas.ts";

describe("prepareMcpSchemas", () => {
  // The worker's startup snapshot calls it while it is built: a sample the installed SDK's schemas
  // refuse fails that build, so an SDK upgrade that changes them is caught here first.
  it("parses its samples with the installed SDK's schemas", () => {
    expect(() => {
      prepareMcpSchemas();
    }).not.toThrow();
  });
});
