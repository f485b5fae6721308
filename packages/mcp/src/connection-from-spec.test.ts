import { FreeholdError, McpServerSpec, type SecretKeySelector } from "@freehold/api";
import { describe, expect, it } from "vitest";
import { connectionFromSpec } from "./connection-from-spec.ts";

const secrets: Record<string, string> = { "billing/token": "Bearer s3cret", "files/key": "k-123" };
async function resolveSecret({ name, key }: SecretKeySelector): Promise<string> {
  const value = secrets[`${name}/${key}`];
  if (value === undefined) throw new Error(`Secret ${name} has no key ${key}`);
  return await Promise.resolve(value);
}

describe("connectionFromSpec", () => {
  it("builds an http connection with headers from literals and Secrets", async () => {
    const spec = McpServerSpec.parse({
      http: {
        url: "http://billing-mcp:8080/mcp",
        headers: [
          { name: "Authorization", secretKeyRef: { name: "billing", key: "token" } },
          { name: "X-Tenant", value: "acme" },
        ],
      },
    });
    expect(await connectionFromSpec(spec, resolveSecret)).toEqual({
      transport: "http",
      url: "http://billing-mcp:8080/mcp",
      headers: { Authorization: "Bearer s3cret", "X-Tenant": "acme" },
      timeoutMs: 60_000,
    });
  });

  it("builds an sse connection", async () => {
    const spec = McpServerSpec.parse({ sse: { url: "https://legacy.example/sse" }, timeoutSeconds: 5 });
    expect(await connectionFromSpec(spec, resolveSecret)).toEqual({
      transport: "sse",
      url: "https://legacy.example/sse",
      timeoutMs: 5_000,
    });
  });

  it("builds a stdio connection with its environment and working directory", async () => {
    const spec = McpServerSpec.parse({
      stdio: {
        command: "npx",
        args: ["-y", "@modelcontextprotocol/server-filesystem", "/data"],
        env: [
          { name: "API_KEY", secretKeyRef: { name: "files", key: "key" } },
          { name: "LOG_LEVEL", value: "debug" },
        ],
        workingDir: "/srv",
      },
    });
    expect(await connectionFromSpec(spec, resolveSecret)).toEqual({
      transport: "stdio",
      command: "npx",
      args: ["-y", "@modelcontextprotocol/server-filesystem", "/data"],
      env: { API_KEY: "k-123", LOG_LEVEL: "debug" },
      cwd: "/srv",
      timeoutMs: 60_000,
    });
  });

  it("names the Secret and key it could not read, never a value", async () => {
    const spec = McpServerSpec.parse({
      http: {
        url: "http://x:1/mcp",
        headers: [{ name: "Authorization", secretKeyRef: { name: "gone", key: "token" } }],
      },
    });
    const error = await connectionFromSpec(spec, resolveSecret).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FreeholdError);
    expect(error).toMatchObject({
      code: "mcp.secret-unresolved",
      message:
        'could not read header Authorization from key "token" of Secret "gone": Secret gone has no key token',
    });
  });
});
