import { isFreeholdError, parseManifests } from "@freehold/api";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTool } from "./define-tool.ts";
import { isDefinition } from "./definitions.ts";
import { toYaml } from "./to-manifest.ts";
import { defineToolServer } from "./tool-server-definition.ts";

const lookup = defineTool({
  name: "lookup",
  description: "The status of an order.",
  input: z.object({ order: z.string() }),
  annotations: { readOnlyHint: true },
  run: ({ order }) => `${order} shipped`,
});

describe("defineToolServer", () => {
  it("is an MCPServer reached at the Service of its name by default, and carries its tools", () => {
    const server = defineToolServer({ name: "orders", namespace: "shop", tools: [lookup] });
    expect(isDefinition(server)).toBe(true);
    expect(server.kind).toBe("MCPServer");
    expect(server.manifest.spec).toEqual({ http: { url: "http://orders:8080/mcp" } });
    expect(server.tools.map((tool) => tool.name)).toEqual(["lookup"]);
    // Its manifest is an MCPServer like any other: the tools stay out of it.
    const [resource] = parseManifests(toYaml([server]), "built");
    expect(resource).toMatchObject({ kind: "MCPServer", spec: { http: { url: "http://orders:8080/mcp" } } });
  });

  it("takes the URL and headers agents use in a cluster, checked as an MCPServer's", () => {
    const server = defineToolServer({
      name: "orders",
      tools: [lookup],
      http: {
        url: "https://orders.shop.svc:8443/mcp",
        headers: [{ name: "Authorization", secretKeyRef: { name: "orders", key: "authorization" } }],
      },
      timeoutSeconds: 5,
    });
    expect(server.spec).toMatchObject({
      timeoutSeconds: 5,
      http: { url: "https://orders.shop.svc:8443/mcp" },
    });
    let refused: unknown;
    try {
      defineToolServer({ name: "orders", tools: [lookup], http: { url: "ftp://orders/mcp" } });
    } catch (error) {
      refused = error;
    }
    expect(isFreeholdError(refused, "manifest.invalid")).toBe(true);
    expect((refused as Error).message).toContain("spec.http.url");
  });

  it("refuses a server without tools, or with two tools of one name", () => {
    expect(() => defineToolServer({ name: "orders", tools: [] })).toThrow(/no tools to serve/);
    expect(() => defineToolServer({ name: "orders", tools: [lookup, lookup] })).toThrow(/lookup/);
  });

  it("serves its tools in this process, a new MCP server per session", async () => {
    const server = defineToolServer({ name: "orders", tools: [lookup] });
    for (let session = 0; session < 2; session += 1) {
      const client = new Client({ name: "test", version: "1.0.0" });
      await client.connect(await server.connectInProcess());
      const { tools } = await client.listTools();
      expect(tools.map((tool) => [tool.name, tool.annotations?.readOnlyHint])).toEqual([["lookup", true]]);
      const result = await client.callTool({ name: "lookup", arguments: { order: "A-1" } });
      expect(result.content).toEqual([{ type: "text", text: "A-1 shipped" }]);
      await client.close();
    }
  });
});
