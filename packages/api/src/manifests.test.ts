import { describe, expect, it } from "vitest";
import { FreeholdError } from "./errors.ts";
import { formatPath, parseManifest, parseManifests } from "./manifests.ts";

const agentYaml = `
apiVersion: freehold.dev/v1alpha1
kind: Agent
metadata: {name: billing, namespace: acme}
spec:
  model: {ref: default}
  instructions: Help with invoices.
  tools:
    - mcpServer: billing-api
      allow: [get_invoice, refund]
      requireApproval: [refund]
`;

function errorOf(action: () => unknown): FreeholdError {
  try {
    action();
  } catch (error) {
    if (error instanceof FreeholdError) return error;
    throw error;
  }
  throw new Error("expected a FreeholdError");
}

describe("parseManifests", () => {
  it("parses a stream and applies the defaults the CRD applies", () => {
    const [agent, model] = parseManifests(
      `${agentYaml}---\napiVersion: freehold.dev/v1alpha1\nkind: Model\nmetadata: {name: default}\nspec: {provider: local, model: gemma3-270m}\n---\n`,
    );
    expect(agent?.kind).toBe("Agent");
    expect(agent?.kind === "Agent" && agent.spec.limits).toEqual({
      maxSteps: 20,
      timeoutSeconds: 300,
      maxHandoffs: 10,
      maxDelegationDepth: 5,
      maxChildRuns: 50,
    });
    expect(agent?.kind === "Agent" && agent.spec.framework).toBe("freehold");
    expect(model?.kind === "Model" && model.spec.maxRetries).toBe(2);
  });

  it("names the line of a YAML syntax error", () => {
    const error = errorOf(() => parseManifests("kind: Agent\nspec: [unclosed\n", "agents.yaml"));
    expect(error.code).toBe("manifest.yaml");
    expect(error.message).toMatch(/^agents\.yaml:\d+:\d+: not valid YAML/);
  });

  it("names the document, the resource and every bad field", () => {
    const bad = agentYaml
      .replace("requireApproval: [refund]", "requireApproval: [delete]")
      .replace("Help with invoices.", "''");
    const error = errorOf(() => parseManifests(bad, "agents.yaml"));
    expect(error.code).toBe("manifest.invalid");
    expect(error.message).toContain('agents.yaml (document 1): Agent "billing" is invalid:');
    expect(error.details?.issues).toEqual([
      { path: "spec.instructions", message: "Too small: expected string to have >=1 characters" },
      {
        path: "spec.tools[0].requireApproval",
        message: "requireApproval may only name tools listed in allow",
      },
    ]);
  });

  it("takes framework code as a relative module path and an export, and refuses paths that leave the root", () => {
    const native = agentYaml.replace(
      "  model: {ref: default}",
      "  framework: openai-agents\n  code: {module: agents/support.ts}\n  model: {ref: default}",
    );
    const [agent] = parseManifests(native);
    expect(agent?.kind === "Agent" && agent.spec.code).toEqual({
      module: "agents/support.ts",
      export: "default",
    });
    for (const module of [
      "../support.ts",
      "/app/support.ts",
      "agents/../../etc/x.ts",
      "./support.ts",
      "support.json",
    ]) {
      const error = errorOf(() => parseManifests(native.replace("agents/support.ts", module)));
      expect(error.details?.issues, module).toEqual([
        { path: "spec.code.module", message: expect.any(String) as string },
      ]);
    }
    const builtIn = errorOf(() =>
      parseManifests(native.replace("framework: openai-agents", "framework: freehold")),
    );
    expect(builtIn.details?.issues).toEqual([
      { path: "spec.code", message: expect.stringContaining("set framework to vercel-ai") as string },
    ]);
  });

  it("refuses unknown fields like the API server's strict field validation", () => {
    const error = errorOf(() =>
      parseManifests(agentYaml.replace("model: {ref: default}", "model: {ref: default, name: x}")),
    );
    expect(error.details?.issues).toEqual([{ path: "spec.model.name", message: 'unknown field "name"' }]);
  });
});

describe("parseManifest", () => {
  it("refuses what is not a Freehold resource, listing the kinds", () => {
    const error = errorOf(() => parseManifest({ apiVersion: "apps/v1", kind: "Deployment" }));
    expect(error.code).toBe("manifest.unknown-kind");
    expect(error.message).toContain("kind one of Agent, Model, MCPServer, HumanQueue, Tenant");
  });
});

describe("formatPath", () => {
  it("writes paths as the API server does", () => {
    expect(formatPath(["spec", "tools", 0, "allow", 2])).toBe("spec.tools[0].allow[2]");
  });
});
