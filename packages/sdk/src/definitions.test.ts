import { FreeholdError, parseManifests } from "@freehold/api";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { defineAgent, defineHumanQueue, defineMCPServer, defineModel, isDefinition } from "./definitions.ts";
import { toManifest, toYaml } from "./to-manifest.ts";

function errorOf(action: () => unknown): FreeholdError {
  try {
    action();
  } catch (error) {
    if (error instanceof FreeholdError) return error;
    throw error;
  }
  throw new Error("expected a FreeholdError");
}

const model = defineModel({
  name: "default",
  namespace: "acme",
  provider: "openai-compatible",
  model: "llama3.1:8b",
  baseUrl: "http://vllm.models:8000/v1",
  parameters: { temperature: 0.2 },
  fallbacks: [{ ref: "small" }],
});
const billingTools = defineMCPServer({
  name: "billing-tools",
  namespace: "acme",
  description: "Invoices and refunds.",
  http: {
    url: "http://billing-tools.acme.svc:8080/mcp",
    headers: [{ name: "Authorization", secretKeyRef: { name: "billing-tools", key: "authorization" } }],
  },
});
const team = defineHumanQueue({
  name: "billing-team",
  namespace: "acme",
  labels: { team: "billing" },
  description: "Refunds and disputes.",
  sla: { claimWithinSeconds: 900, resolveWithinSeconds: 3600 },
  members: [{ group: "billing" }],
});
const billing = defineAgent({
  name: "billing",
  namespace: "acme",
  annotations: { "freehold.dev/owner": "billing" },
  description: "Answers questions about invoices.",
  model: { ref: model.name },
  instructions: "Answer questions about invoices. Hand refunds over 100 EUR to the billing team.",
  tools: [
    {
      mcpServer: billingTools.name,
      allow: ["get_invoice", "refund"],
      requireApproval: ["refund"],
      onInterrupt: { tools: { refund: "ask" } },
    },
  ],
  handoffs: [{ humanQueue: team.name }],
  limits: { maxSteps: 8 },
});
const native = defineAgent({
  name: "triage",
  model: { ref: "default" },
  instructions: "Triage.",
  framework: "openai-agents",
  code: { module: "agents/triage.ts", export: "triage" },
});

describe("definitions", () => {
  it("apply the CRD's defaults to the spec and keep the manifest as written", () => {
    expect(billing.kind).toBe("Agent");
    expect(billing.name).toBe("billing");
    expect(billing.namespace).toBe("acme");
    expect(billing.spec.limits).toEqual({
      maxSteps: 8,
      timeoutSeconds: 300,
      maxHandoffs: 10,
      maxDelegationDepth: 5,
      maxChildRuns: 50,
    });
    expect(billing.spec.framework).toBe("freehold");
    expect(toManifest(billing)).toEqual({
      apiVersion: "freehold.dev/v1alpha1",
      kind: "Agent",
      metadata: { name: "billing", namespace: "acme", annotations: { "freehold.dev/owner": "billing" } },
      spec: {
        description: "Answers questions about invoices.",
        model: { ref: "default" },
        instructions: "Answer questions about invoices. Hand refunds over 100 EUR to the billing team.",
        tools: [
          {
            mcpServer: "billing-tools",
            allow: ["get_invoice", "refund"],
            requireApproval: ["refund"],
            onInterrupt: { tools: { refund: "ask" } },
          },
        ],
        handoffs: [{ humanQueue: "billing-team" }],
        limits: { maxSteps: 8 },
      },
    });
    expect(native.spec.code).toEqual({ module: "agents/triage.ts", export: "triage" });
    expect(native.namespace).toBeUndefined();
    expect(native.manifest.metadata).toEqual({ name: "triage" });
  });

  it("round-trip: definition → manifest → YAML → the project's manifest parser → the same resources", () => {
    const definitions = [model, billingTools, team, billing, native];
    const yaml = toYaml(definitions);
    const parsed = parseManifests(yaml, "built.yaml");
    expect(parsed).toHaveLength(definitions.length);
    parsed.forEach((resource, index) => {
      const definition = definitions[index];
      expect(resource.kind).toBe(definition?.kind);
      expect(resource.metadata.name).toBe(definition?.name);
      expect(resource.metadata.namespace).toBe(definition?.namespace);
      expect(resource.spec).toEqual(definition?.spec);
      expect({ ...resource.metadata }).toEqual(definition?.manifest.metadata);
    });
    expect(toYaml(definitions)).toBe(yaml);
  });

  it("a copy from toManifest does not change the definition", () => {
    const manifest = toManifest(billing) as unknown as { spec: { instructions: string } };
    manifest.spec.instructions = "Changed.";
    expect(billing.manifest.spec.instructions).not.toBe("Changed.");
    expect(Object.isFrozen(billing)).toBe(true);
    expect(isDefinition(billing)).toBe(true);
    expect(isDefinition({ ...billing })).toBe(false);
    expect(isDefinition(billing.manifest)).toBe(false);
  });
});

describe("invalid definitions", () => {
  const cases: {
    readonly title: string;
    readonly define: () => unknown;
    readonly message: string;
    readonly issues: readonly { path: string; message: string }[];
  }[] = [
    {
      title: "an empty instruction and a tool needing approval that is not allowed",
      define: () =>
        defineAgent({
          name: "billing",
          model: { ref: "default" },
          instructions: "",
          tools: [{ mcpServer: "billing-tools", allow: ["get_invoice"], requireApproval: ["refund"] }],
        }),
      message:
        'defineAgent: Agent "billing" is invalid:\n' +
        "  spec.instructions: Too small: expected string to have >=1 characters\n" +
        "  spec.tools[0].requireApproval: requireApproval may only name tools listed in allow",
      issues: [
        { path: "spec.instructions", message: "Too small: expected string to have >=1 characters" },
        {
          path: "spec.tools[0].requireApproval",
          message: "requireApproval may only name tools listed in allow",
        },
      ],
    },
    {
      title: "a name that cannot name a Service",
      define: () => defineAgent({ name: "Billing_Agent", model: { ref: "default" }, instructions: "Help." }),
      message:
        'defineAgent: Agent "Billing_Agent" is invalid:\n' +
        "  metadata.name: must be lower-case letters, digits and '-', starting and ending with a letter or digit\n" +
        "  metadata.name: metadata.name must be at most 63 lower-case letters, digits and '-', starting with a letter (it names a Service)",
      issues: [
        {
          path: "metadata.name",
          message: "must be lower-case letters, digits and '-', starting and ending with a letter or digit",
        },
        {
          path: "metadata.name",
          message:
            "metadata.name must be at most 63 lower-case letters, digits and '-', starting with a letter (it names a Service)",
        },
      ],
    },
    {
      title: "native code on the built-in loop",
      define: () =>
        defineAgent({
          name: "triage",
          model: { ref: "default" },
          instructions: "Triage.",
          code: { module: "a.ts" },
        }),
      message:
        'defineAgent: Agent "triage" is invalid:\n' +
        "  spec.code: code is the agent in a framework's own code: set framework to vercel-ai, openai-agents, langgraph or mastra",
      issues: [
        {
          path: "spec.code",
          message:
            "code is the agent in a framework's own code: set framework to vercel-ai, openai-agents, langgraph or mastra",
        },
      ],
    },
    {
      title: "an openai-compatible model without baseUrl, its own fallback",
      define: () =>
        defineModel({
          name: "default",
          provider: "openai-compatible",
          model: "m",
          fallbacks: [{ ref: "default" }],
        }),
      message:
        'defineModel: Model "default" is invalid:\n' +
        "  spec.baseUrl: baseUrl is required when provider is openai-compatible\n" +
        "  spec.fallbacks: a model cannot be its own fallback",
      issues: [
        { path: "spec.baseUrl", message: "baseUrl is required when provider is openai-compatible" },
        { path: "spec.fallbacks", message: "a model cannot be its own fallback" },
      ],
    },
    {
      title: "an MCP server with two transports",
      define: () =>
        defineMCPServer({
          name: "tools",
          http: { url: "http://tools:8080/mcp" },
          stdio: { command: "tools" },
        }),
      message:
        'defineMCPServer: MCPServer "tools" is invalid:\n' +
        "  spec: an MCPServer needs exactly one transport: http, sse or stdio",
      issues: [{ path: "spec", message: "an MCPServer needs exactly one transport: http, sse or stdio" }],
    },
    {
      title: "a queue that escalates without an SLA",
      define: () =>
        defineHumanQueue({
          name: "billing-team",
          description: "Refunds.",
          escalateTo: { humanQueue: "leads" },
        }),
      message:
        'defineHumanQueue: HumanQueue "billing-team" is invalid:\n' +
        "  spec.sla: escalateTo needs an sla that says when to escalate",
      issues: [{ path: "spec.sla", message: "escalateTo needs an sla that says when to escalate" }],
    },
  ];

  for (const { title, define, message, issues } of cases) {
    it(`fail naming the field: ${title}`, () => {
      const error = errorOf(define);
      expect(error.code).toBe("manifest.invalid");
      expect(error.message).toBe(message);
      expect(error.details?.issues).toEqual(issues);
    });
  }

  it("give the manifest parser's own message for the same resource written as YAML", () => {
    const input = { name: "billing", model: { ref: "default" }, instructions: "", limits: { maxSteps: 0 } };
    const fromCode = errorOf(() => defineAgent(input));
    const { name, ...spec } = input;
    const fromYaml = errorOf(() =>
      parseManifests(
        stringify({ apiVersion: "freehold.dev/v1alpha1", kind: "Agent", metadata: { name }, spec }),
      ),
    );
    expect(fromCode.details?.issues).toEqual(fromYaml.details?.issues);
    expect(fromCode.message.replace(/^defineAgent:/, "")).toBe(
      fromYaml.message.replace(/^manifest \(document 1\):/, ""),
    );
  });

  it("refuse at run time what the types refuse", () => {
    const untyped = {
      name: "billing",
      model: { ref: "default" },
      instructions: "Help.",
      instructionz: "Help!",
    };
    const typed = () =>
      defineAgent({
        name: "billing",
        model: { ref: "default" },
        instructions: "Help.",
        // @ts-expect-error: an unknown field is a type error ...
        instructionz: "Help!",
      });
    // ... and, from JavaScript or untyped data, a run-time error naming it.
    for (const define of [typed, () => defineAgent(untyped)]) {
      const error = errorOf(define);
      expect(error.details?.issues).toEqual([
        { path: "spec.instructionz", message: 'unknown field "instructionz"' },
      ]);
    }
    const wrongType = () =>
      defineModel({
        name: "m",
        provider: "local",
        model: "gemma3-270m",
        // @ts-expect-error: a field of the wrong type is a type error
        timeoutSeconds: "60",
      });
    expect(errorOf(wrongType).details?.issues).toEqual([
      { path: "spec.timeoutSeconds", message: "Invalid input: expected number, received string" },
    ]);
    const wrongProvider = () =>
      defineModel({
        name: "m",
        // @ts-expect-error: a provider that does not exist
        provider: "azure",
        model: "gpt-4o",
      });
    expect(errorOf(wrongProvider).message).toContain("spec.provider:");
    expect(errorOf(() => defineAgent(null as never)).message).toBe(
      "defineAgent: takes an object with the Agent's name and the fields of its spec",
    );
  });
});
