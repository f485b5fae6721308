import { describe, expect, it } from "vitest";
import { credentialOfUrl, redactUrls, redisCredential, redisEndpoint, redisEndpoints } from "./redis-url.ts";

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

  it("puts them into a Redis Cluster URL, keeping TLS and every node", () => {
    expect(
      redisCredential(
        "rediss+cluster://:admin@10.0.0.1:6379,10.0.0.2:6380",
        "freehold-tenant-acme",
        "p@ss/word",
      ),
    ).toEqual({
      url: "rediss+cluster://freehold-tenant-acme:p%40ss%2Fword@10.0.0.1:6379,10.0.0.2:6380",
      username: "freehold-tenant-acme",
      password: "p@ss/word",
    });
  });

  it("refuses a malformed Redis Cluster URL", () => {
    expect(() => redisCredential("redis+cluster://10.0.0.1", "u", "p")).toThrow(
      expect.objectContaining({ code: "config.invalid-redis-url" }),
    );
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

  it("reads a Redis Cluster URL's", () => {
    expect(credentialOfUrl("redis+cluster://ops:s%40cret@10.0.0.1:6379,10.0.0.2:6379")).toEqual({
      url: "redis+cluster://ops:s%40cret@10.0.0.1:6379,10.0.0.2:6379",
      username: "ops",
      password: "s@cret",
    });
    expect(credentialOfUrl("redis+cluster://10.0.0.1:6379")).toMatchObject({
      username: "default",
      password: "",
    });
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

describe("redisEndpoints", () => {
  it("lists every node of a Redis Cluster URL, and the one endpoint of a Redis URL", () => {
    expect(redisEndpoints("redis+cluster://redis-0.redis.data.svc:6379,redis-1.redis.data.svc:6380")).toEqual(
      [
        { host: "redis-0.redis.data.svc", port: 6379 },
        { host: "redis-1.redis.data.svc", port: 6380 },
      ],
    );
    expect(redisEndpoints("redis://redis.freehold-system.svc")).toEqual([
      { host: "redis.freehold-system.svc", port: 6379 },
    ]);
  });
});

describe("redactUrls", () => {
  it("hides the credentials of every URL in a line", () => {
    expect(
      redactUrls(
        "redis: redis://freehold-tenant-acme:s3cret@10.0.0.5:6379 and https://user:pw@example.com/x",
      ),
    ).toBe("redis: redis://***@10.0.0.5:6379 and https://***@example.com/x");
    expect(redactUrls("at redis+cluster://ops:s3cret@10.0.0.1:6379,10.0.0.2:6379")).toBe(
      "at redis+cluster://***@10.0.0.1:6379,10.0.0.2:6379",
    );
  });

  it("leaves URLs without credentials alone", () => {
    expect(redactUrls("health at http://127.0.0.1:8081")).toBe("health at http://127.0.0.1:8081");
  });
});
