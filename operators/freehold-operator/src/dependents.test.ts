import { parseManifests, type Agent, type McpServer, type Model, type Resource } from "@freehold/api";
import { describe, expect, it } from "vitest";
import { clusterViewFromObjects } from "./cluster-view.ts";
import {
  agentsUsingAgent,
  agentsUsingHumanQueue,
  agentsUsingMcpServer,
  agentsUsingModel,
  usersOfSecret,
  type ListingClusterView,
} from "./dependents.ts";

const resources: Resource[] = parseManifests(`
apiVersion: freehold.dev/v1alpha1
kind: Model
metadata: { name: default, namespace: acme }
spec: { provider: openai-compatible, model: qwen, baseUrl: "http://vllm:8000/v1", fallbacks: [{ ref: hosted }] }
---
apiVersion: freehold.dev/v1alpha1
kind: Model
metadata: { name: hosted, namespace: acme }
spec: { provider: openai, model: gpt-4o-mini, apiKeySecretRef: { name: openai, key: api-key } }
---
apiVersion: freehold.dev/v1alpha1
kind: MCPServer
metadata: { name: billing-api, namespace: acme }
spec: { http: { url: "http://billing:8080/mcp", headers: [{ name: Authorization, secretKeyRef: { name: billing, key: token } }] } }
---
apiVersion: freehold.dev/v1alpha1
kind: Agent
metadata: { name: billing, namespace: acme }
spec:
  model: { ref: default }
  instructions: Billing.
  tools: [{ mcpServer: billing-api }]
  handoffs: [{ humanQueue: desk }]
---
apiVersion: freehold.dev/v1alpha1
kind: Agent
metadata: { name: triage, namespace: acme }
spec:
  model: { ref: hosted }
  instructions: Triage.
  handoffs: [{ agent: billing }]
  runtime: { env: [{ name: TOKEN, secretKeyRef: { name: extra, key: token } }] }
`);

function listing(objects: readonly Resource[]): ListingClusterView {
  const view = clusterViewFromObjects(objects);
  const of =
    <T extends Resource>(kind: T["kind"]) =>
    (namespace: string): T[] =>
      objects.filter(
        (object): object is T => object.kind === kind && object.metadata.namespace === namespace,
      );
  return {
    ...view,
    agents: of<Agent>("Agent"),
    models: of<Model>("Model"),
    mcpServers: of<McpServer>("MCPServer"),
  };
}

describe("dependents", () => {
  const cluster = listing(resources);

  it("finds the agents of a Model, directly or as a fallback", () => {
    expect(agentsUsingModel(cluster, "acme", "default")).toEqual(["billing"]);
    expect(agentsUsingModel(cluster, "acme", "hosted").sort()).toEqual(["billing", "triage"]);
  });

  it("finds the agents of an MCPServer, a HumanQueue and an Agent", () => {
    expect(agentsUsingMcpServer(cluster, "acme", "billing-api")).toEqual(["billing"]);
    expect(agentsUsingHumanQueue(cluster, "acme", "desk")).toEqual(["billing"]);
    expect(agentsUsingAgent(cluster, "acme", "billing")).toEqual(["triage"]);
  });

  it("finds everything that reads a Secret", () => {
    expect(usersOfSecret(cluster, "acme", "openai")).toEqual({
      agents: ["billing", "triage"],
      models: ["hosted"],
      mcpServers: [],
    });
    expect(usersOfSecret(cluster, "acme", "billing")).toEqual({
      agents: ["billing"],
      models: [],
      mcpServers: ["billing-api"],
    });
    expect(usersOfSecret(cluster, "acme", "extra").agents).toEqual(["triage"]);
    expect(usersOfSecret(cluster, "other", "openai").agents).toEqual([]);
  });
});
