import { describe, expect, it } from "vitest";
import { credentialOfUrl, redactUrls, redisCredential, redisEndpoint } from "./redis-url.ts";

describe("redisCredential", () => {
  it("puts the user and password into the worker URL, keeping host, port and database", () => {
    expect(
      redisCredential("rediss://:admin@redis.example.com:6380/2", "freehold-tenant-acme", "p@ss/word"),
    ).toEqual({
      url: "rediss://freehold-tenant-acme:p%40ss%2Fword@redis.example.com:6380/2",
      username: "freehold-tenant-acme",
      password: "p@ss/word",
    });
  });
});

describe("credentialOfUrl", () => {
  it("reads the default user when the URL names none", () => {
    expect(credentialOfUrl("redis://:admin@127.0.0.1:6379")).toMatchObject({
      username: "default",
      password: "admin",
    });
    expect(credentialOfUrl("redis://127.0.0.1:6379")).toMatchObject({ username: "default", password: "" });
  });
});

describe("redisEndpoint", () => {
  it("defaults the port and unwraps IPv6", () => {
    expect(redisEndpoint("redis://redis.freehold-system.svc")).toEqual({
      host: "redis.freehold-system.svc",
      port: 6379,
    });
    expect(redisEndpoint("redis://[fd00::5]:7000")).toEqual({ host: "fd00::5", port: 7000 });
  });
});

describe("redactUrls", () => {
  it("hides the credentials of every URL in a line", () => {
    expect(
      redactUrls(
        "redis: redis://freehold-tenant-acme:s3cret@10.0.0.5:6379 and https://user:pw@example.com/x",
      ),
    ).toBe("redis: redis://***@10.0.0.5:6379 and https://***@example.com/x");
  });

  it("leaves URLs without credentials alone", () => {
    expect(redactUrls("health at http://127.0.0.1:8081")).toBe("health at http://127.0.0.1:8081");
  });
});
