import { describe, expect, it } from "vitest";
import { parseEdgeArguments, parseOrigin } from "./gateway-edge.ts";

const parsed = (args: readonly string[], environment: Record<string, string> = {}) =>
  parseEdgeArguments(args, environment);

describe("gatewayEdgeOptions", () => {
  it("takes origins repeated and comma-separated, and the limits as whole numbers", () => {
    expect(
      parsed([
        "--allowed-origin",
        "https://console.acme.com,http://localhost:3000",
        "--allowed-origin",
        "https://OPS.acme.com:8443",
        "--requests-per-second",
        "50",
        "--burst",
        "200",
        "--max-streams-per-caller",
        "5",
      ]),
    ).toEqual({
      allowedOrigins: ["https://console.acme.com", "http://localhost:3000", "https://ops.acme.com:8443"],
      requestsPerSecond: 50,
      burst: 200,
      maxStreamsPerCaller: 5,
    });
    expect(parsed([])).toEqual({});
  });

  it("falls back to the environment, and a flag wins over it", () => {
    const environment = {
      FREEHOLD_GATEWAY_ALLOWED_ORIGINS: "https://a.acme.com,https://b.acme.com",
      FREEHOLD_GATEWAY_REQUESTS_PER_SECOND: "7",
      FREEHOLD_GATEWAY_BURST: "9",
      FREEHOLD_GATEWAY_MAX_STREAMS_PER_CALLER: "3",
    };
    expect(parsed([], environment)).toEqual({
      allowedOrigins: ["https://a.acme.com", "https://b.acme.com"],
      requestsPerSecond: 7,
      burst: 9,
      maxStreamsPerCaller: 3,
    });
    expect(parsed(["--allowed-origin", "https://c.acme.com", "--burst", "10"], environment)).toMatchObject({
      allowedOrigins: ["https://c.acme.com"],
      burst: 10,
    });
  });

  it("refuses a limit that is not a whole number from 1 to its maximum, saying what to write", () => {
    for (const [flag, value] of [
      ["--requests-per-second", "0"],
      ["--requests-per-second", "2.5"],
      ["--burst", "-1"],
      ["--burst", "lots"],
      ["--burst", "1000001"],
      ["--max-streams-per-caller", "10001"],
    ] as const) {
      expect(() => parsed([flag, value])).toThrow(
        expect.objectContaining({
          code: "cli.invalid-option",
          message: expect.stringMatching(
            new RegExp(
              `^${flag} \\(or FREEHOLD_GATEWAY_[A-Z_]+\\) must be a whole number from 1 to \\d+, not "${value}"$`,
            ),
          ) as unknown,
        }),
      );
    }
    expect(() => parsed([], { FREEHOLD_GATEWAY_BURST: "none" })).toThrow(/FREEHOLD_GATEWAY_BURST/);
  });

  it("refuses an origin with a path, a query, a user or another scheme, saying how to write one", () => {
    for (const origin of [
      "https://console.acme.com/",
      "https://console.acme.com/app",
      "https://console.acme.com?x=1",
      "https://ann@console.acme.com",
      "console.acme.com",
      "ftp://console.acme.com",
      "https://console.acme.com:99999",
    ]) {
      expect(() => parseOrigin(origin)).toThrow(
        expect.objectContaining({
          code: "cli.invalid-option",
          message: expect.stringContaining(
            "write an origin as browsers send it, scheme://host[:port]",
          ) as unknown,
        }),
      );
    }
    expect(() => parsed(["--allowed-origin", "https://console.acme.com/app"])).toThrow(/--allowed-origin/);
    const many = Array.from({ length: 101 }, (_, index) => `https://c${index}.acme.com`).join(",");
    expect(() => parsed(["--allowed-origin", many])).toThrow(/101 origins/);
  });
});
