/**
 * The operator's MCP tool discovery against a real MCP server (the counter fixture on 127.0.0.1):
 * loopback, link-local, cloud metadata and unspecified addresses are refused, by address or by what
 * a name resolves to, unless allowed; failures reach status as one generic message, the detail only
 * the operator's log (a closed port and a refused address cannot be told apart by a port scan
 * through status).
 */
import { createServer } from "node:net";
import type { McpServer } from "@freehold/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCounterServer, type CounterServer } from "../../../test/fixtures/mcp/counter-server.ts";
import { isInternalAddress } from "../src/internal-address.ts";
import { discoverTools } from "../src/tool-discovery.ts";

let counter: CounterServer;

beforeAll(async () => {
  counter = await startCounterServer({ transport: "http" });
});

afterAll(async () => {
  await counter.close();
});

function httpServer(url: string): McpServer {
  return {
    apiVersion: "freehold.dev/v1alpha1",
    kind: "MCPServer",
    metadata: { name: "probe", namespace: "acme" },
    spec: { http: { url }, timeoutSeconds: 60 },
  };
}

async function discover(url: string, allowInternalAddresses?: boolean) {
  const logs: string[] = [];
  const result = await discoverTools(httpServer(url), {
    url,
    resolveSecret: () => Promise.reject(new Error("no Secret here")),
    timeoutMs: 3_000,
    log: (line) => logs.push(line),
    ...(allowInternalAddresses === undefined ? {} : { allowInternalAddresses }),
  });
  return { result, logs };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("MCP tool discovery", () => {
  it("refuses a real MCP server on 127.0.0.1 with the generic message, without connecting", async () => {
    const before = counter.listRequests();
    const { result, logs } = await discover(counter.url);
    expect(result).toEqual({
      ok: false,
      error: `could not discover tools at ${counter.url}: the operator does not connect to loopback, link-local, cloud metadata or unspecified addresses`,
    });
    expect(counter.listRequests()).toBe(before);
    expect(logs.join("\n")).toContain("127.0.0.1");
    expect(logs.join("\n")).toContain("FREEHOLD_DISCOVERY_ALLOW_INTERNAL=true");
  });

  it("refuses a name that resolves to a loopback address", async () => {
    const url = counter.url.replace("127.0.0.1", "localhost");
    const { result, logs } = await discover(url);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/^could not discover tools at http:\/\/localhost:\d+\/mcp: /);
    expect(logs.join("\n")).toMatch(/localhost is \(or resolves to\) (127\.0\.0\.1|::1)/);
  });

  it.each([
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.10.1:8080/mcp",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[fe80::1]:8080/mcp",
    "http://[::1]:8080/mcp",
    "http://[::ffff:127.0.0.1]:8080/mcp",
    "http://0.0.0.0:8080/mcp",
    "http://[::]:8080/mcp",
  ])("refuses %s", async (url) => {
    const { result, logs } = await discover(url);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(
      /^could not discover tools at .*: the operator does not connect to/,
    );
    expect(logs).toHaveLength(1);
  });

  it("lists the tools when internal addresses are allowed", async () => {
    const { result } = await discover(counter.url, true);
    expect(result.ok && result.tools.map((tool) => tool.name)).toContain("add");
  });

  it("says only 'could not discover tools at <url>' when the port is closed: the detail goes to the log", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/mcp`;
    const { result, logs } = await discover(url, true);
    expect(result).toEqual({ ok: false, error: `could not discover tools at ${url}` });
    expect(logs.join("\n")).toMatch(/ECONNREFUSED|refused|unavailable/i);
  });

  it("says the same when the name does not resolve", async () => {
    const url = "http://no-such-host.invalid:8080/mcp";
    const { result, logs } = await discover(url);
    expect(result).toEqual({ ok: false, error: `could not discover tools at ${url}` });
    expect(logs.join("\n")).toMatch(/ENOTFOUND|EAI_AGAIN/);
  });

  it("classifies addresses: internal ones refused, cluster and public ones allowed", () => {
    for (const address of [
      "127.0.0.1",
      "127.1.2.3",
      "169.254.169.254",
      "0.0.0.0",
      "::1",
      "::",
      "fe80::abcd",
      "fd00:ec2::254",
      "::ffff:169.254.169.254",
    ]) {
      expect(isInternalAddress(address), address).toBe(true);
    }
    for (const address of [
      "10.96.0.12",
      "192.168.1.10",
      "172.16.0.1",
      "8.8.8.8",
      "fd00::1",
      "2001:db8::1",
      "::ffff:10.0.0.1",
    ]) {
      expect(isInternalAddress(address), address).toBe(false);
    }
  });
});
