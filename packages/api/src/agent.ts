/**
 * `Agent`: a model, instructions, tools (MCP servers, other agents), handoffs (agents, human queues),
 * the framework that drives its loop, its limits and how its workers run.
 *
 * @module
 */
import { z } from "zod";
import { statusBase } from "./conditions.ts";
import { DnsLabel, ResourceName, SecretKeySelector, ToolName } from "./names.ts";
import { defineResource } from "./resource.ts";
import { withRules } from "./validation-rule.ts";

/** The frameworks that can drive an agent's loop. `freehold` is the built-in loop. */
export const frameworks = ["freehold", "vercel-ai", "openai-agents", "langgraph", "mastra"] as const;
export const Framework = z.enum(frameworks);
export type Framework = z.infer<typeof Framework>;

/**
 * What a resumed run does with a tool call its worker was running when it stopped (a crash, a kill):
 * the call may or may not have reached the tool. `retry` runs it again (at least once); `fail` gives
 * the model an error saying the outcome is unknown; `ask` waits for a person to approve running it
 * again (rejecting tells the model it was not run again).
 */
export const interruptPolicies = ["retry", "fail", "ask"] as const;
export const InterruptPolicy = z.enum(interruptPolicies);
export type InterruptPolicy = z.infer<typeof InterruptPolicy>;

/** A tool source: an MCP server with an allow-list, or another agent used as a tool. */
export const AgentTool = withRules(
  z
    .strictObject({
      mcpServer: ResourceName.optional().describe(
        "The name of an MCPServer in the agent's namespace whose tools the agent may call.",
      ),
      agent: ResourceName.optional().describe(
        "The name of another Agent in the namespace, called as a tool: it runs as a child run and the " +
          "calling agent resumes with its answer.",
      ),
      allow: z
        .array(ToolName)
        .max(256)
        .optional()
        .describe(
          "The tools of the MCP server the agent may call. Enforced by the runtime, not by the prompt. " +
            "Absent: every tool the server lists.",
        ),
      requireApproval: z
        .array(ToolName)
        .max(256)
        .optional()
        .describe(
          "Tools whose every call waits for a person to approve it in the agent's approval queue. " +
            "Each must be allowed.",
        ),
      allowSelfApproval: z
        .boolean()
        .optional()
        .describe(
          "True: the person who started a run may approve this server's tool calls in it (and in its " +
            "child runs) themselves. Default false: another person must decide (separation of duties).",
        ),
      onInterrupt: z
        .strictObject({
          default: InterruptPolicy.optional().describe(
            "The policy of this server's tools not named in tools. Absent: retry for tools the server " +
              "annotates readOnlyHint or idempotentHint, fail for the others.",
          ),
          tools: z
            .record(ToolName, InterruptPolicy)
            .optional()
            .describe("The policy of single tools, by their name on the server (at most 256)."),
        })
        .optional()
        .describe(
          "What a resumed run does with a call of this server's tools that its worker was running when it " +
            "stopped: retry (run it again), fail (the model gets an error saying the outcome is unknown) " +
            "or ask (a person decides in the approval queue whether to run it again).",
        ),
      description: z
        .string()
        .max(1024)
        .optional()
        .describe("For an agent used as a tool: the tool description the model sees. Default: the agent's."),
      timeoutSeconds: z
        .int()
        .min(1)
        .max(3600)
        .optional()
        .describe("How long one tool call may take before it fails with a timeout (default 60)."),
    })
    .describe("One tool source: exactly one of mcpServer or agent."),
  [
    {
      rule: "[has(self.mcpServer), has(self.agent)].exists_one(set, set)",
      message: "a tool must name exactly one of mcpServer or agent",
      check: (tool) => (tool.mcpServer === undefined) !== (tool.agent === undefined),
    },
    {
      rule: "!has(self.allow) || has(self.mcpServer)",
      message: "allow applies only to an mcpServer tool",
      fieldPath: ".allow",
      reason: "FieldValueForbidden",
      check: (tool) => tool.allow === undefined || tool.mcpServer !== undefined,
    },
    {
      rule: "!has(self.requireApproval) || has(self.mcpServer)",
      message: "requireApproval applies only to an mcpServer tool",
      fieldPath: ".requireApproval",
      reason: "FieldValueForbidden",
      check: (tool) => tool.requireApproval === undefined || tool.mcpServer !== undefined,
    },
    {
      rule: "!has(self.allowSelfApproval) || has(self.mcpServer)",
      message: "allowSelfApproval applies only to an mcpServer tool",
      fieldPath: ".allowSelfApproval",
      reason: "FieldValueForbidden",
      check: (tool) => tool.allowSelfApproval === undefined || tool.mcpServer !== undefined,
    },
    {
      rule: "!has(self.onInterrupt) || has(self.mcpServer)",
      message: "onInterrupt applies only to an mcpServer tool",
      fieldPath: ".onInterrupt",
      reason: "FieldValueForbidden",
      check: (tool) => tool.onInterrupt === undefined || tool.mcpServer !== undefined,
    },
    {
      rule: "!has(self.onInterrupt) || !has(self.onInterrupt.tools) || size(self.onInterrupt.tools) <= 256",
      message: "onInterrupt.tools names at most 256 tools",
      fieldPath: ".onInterrupt.tools",
      check: (tool) => Object.keys(tool.onInterrupt?.tools ?? {}).length <= 256,
    },
    {
      rule: "!has(self.requireApproval) || !has(self.allow) || self.requireApproval.all(t, t in self.allow)",
      message: "requireApproval may only name tools listed in allow",
      fieldPath: ".requireApproval",
      check: (tool) =>
        tool.requireApproval === undefined ||
        tool.allow === undefined ||
        tool.requireApproval.every((name) => tool.allow?.includes(name) ?? false),
    },
  ],
);
export type AgentTool = z.infer<typeof AgentTool>;

/** Where the agent may hand a conversation: another agent, or a human team's queue. */
export const AgentHandoff = withRules(
  z
    .strictObject({
      agent: ResourceName.optional().describe(
        "The name of an Agent in the namespace; the model gets a transfer_to_<agent> tool.",
      ),
      humanQueue: DnsLabel.optional().describe(
        "The name of a HumanQueue in the namespace; the model gets a transfer_to_human_<queue> tool.",
      ),
      description: z
        .string()
        .max(1024)
        .optional()
        .describe("When to hand off, as the model sees it. Default: the target's description."),
    })
    .describe("One handoff target: exactly one of agent or humanQueue."),
  [
    {
      rule: "[has(self.agent), has(self.humanQueue)].exists_one(set, set)",
      message: "a handoff must name exactly one of agent or humanQueue",
      check: (handoff) => (handoff.agent === undefined) !== (handoff.humanQueue === undefined),
    },
  ],
);
export type AgentHandoff = z.infer<typeof AgentHandoff>;

/** Bounds on one run. */
export const AgentLimits = z
  .strictObject({
    maxSteps: z
      .int()
      .min(1)
      .max(1000)
      .default(20)
      .describe("The most model calls in one run before it stops with status limit_exceeded."),
    maxTokens: z
      .int()
      .min(1)
      .max(100_000_000)
      .optional()
      .describe("The most tokens (input + output, all steps) one run may use."),
    timeoutSeconds: z
      .int()
      .min(1)
      .max(86_400)
      .default(300)
      .describe("Wall-clock limit of one run, not counting time waiting for people or other agents."),
    maxHandoffs: z
      .int()
      .min(0)
      .max(100)
      .default(10)
      .describe("The most transfers between agents in one run; stops ping-pong loops."),
    maxDelegationDepth: z
      .int()
      .min(1)
      .max(32)
      .default(5)
      .describe(
        "How deeply runs of agents used as tools may nest: a delegation that would start a child run deeper than this is refused (the model gets an error).",
      ),
    maxChildRuns: z
      .int()
      .min(0)
      .max(1000)
      .default(50)
      .describe(
        "The most child runs (agents used as tools) one run may start; past it a delegation is refused (the model gets an error).",
      ),
  })
  .describe("Limits on one run: steps, tokens, time, handoffs, delegation depth and child runs.");
export type AgentLimits = z.infer<typeof AgentLimits>;

/** A Kubernetes resource quantity: `500m`, `1Gi`, `2`. */
const Quantity = z
  .string()
  .max(64)
  .regex(
    /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+|[KMGTPE]i?|[numkMGTPE])?$/,
    "must be a quantity such as 500m or 1Gi",
  )
  .describe("A resource quantity such as 500m (CPU) or 512Mi (memory).");

const ResourceList = z
  .strictObject({
    cpu: Quantity.optional().describe("CPU, e.g. 500m."),
    memory: Quantity.optional().describe("Memory, e.g. 512Mi."),
  })
  .describe("CPU and memory.");

/** Queue-depth autoscaling of the agent's workers. */
export const AgentAutoscaling = withRules(
  z
    .strictObject({
      minReplicas: z
        .int()
        .min(0)
        .max(1000)
        .default(1)
        .describe("The fewest workers; 0 scales to zero when idle."),
      maxReplicas: z.int().min(1).max(1000).describe("The most workers."),
      targetQueueDepth: z
        .int()
        .min(1)
        .max(100_000)
        .default(10)
        .describe("Waiting runs per worker that the autoscaler aims for."),
    })
    .describe("Scale workers on the depth of the agent's queue (HPA on an external metric, or KEDA)."),
  [
    {
      rule: "self.minReplicas <= self.maxReplicas",
      message: "minReplicas must not exceed maxReplicas",
      fieldPath: ".minReplicas",
      check: (autoscaling) => autoscaling.minReplicas <= autoscaling.maxReplicas,
    },
  ],
);

/** An environment variable of the agent's workers. */
export const EnvVar = withRules(
  z
    .strictObject({
      name: z
        .string()
        .min(1)
        .max(256)
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a valid environment variable name")
        .describe("The variable's name."),
      value: z.string().max(32_768).optional().describe("A literal value."),
      secretKeyRef: SecretKeySelector.optional().describe("Take the value from a Secret key."),
    })
    .describe("An environment variable: a literal value or a Secret key."),
  [
    {
      rule: "[has(self.value), has(self.secretKeyRef)].exists_one(set, set)",
      message: "an environment variable needs exactly one of value or secretKeyRef",
      check: (env) => (env.value === undefined) !== (env.secretKeyRef === undefined),
    },
  ],
);

/** How the agent's workers run. */
export const AgentRuntime = withRules(
  z
    .strictObject({
      replicas: z
        .int()
        .min(0)
        .max(1000)
        .default(1)
        .describe("How many worker pods; ignored when autoscaling is set."),
      concurrency: z
        .int()
        .min(1)
        .max(10_000)
        .default(10)
        .describe("How many runs one worker works on at once."),
      image: z
        .string()
        .max(512)
        .optional()
        .describe("The worker image; default: the operator's runtime image."),
      resources: z
        .strictObject({ requests: ResourceList.optional(), limits: ResourceList.optional() })
        .optional()
        .describe("CPU and memory requests and limits of each worker."),
      autoscaling: AgentAutoscaling.optional(),
      env: z.array(EnvVar).max(128).optional().describe("Extra environment variables of the workers."),
    })
    .describe("Where and how the agent's workers run."),
  [
    {
      rule: "!has(self.env) || self.env.all(e, self.env.exists_one(o, o.name == e.name))",
      message: "environment variable names must be unique",
      fieldPath: ".env",
      check: (runtime) => new Set(runtime.env?.map((env) => env.name)).size === (runtime.env?.length ?? 0),
    },
  ],
);
export type AgentRuntime = z.infer<typeof AgentRuntime>;

/**
 * The team's own framework code that is the agent (native mode of a framework adapter): a module
 * file and the export in it, e.g. an OpenAI Agents `Agent`, a compiled LangGraph graph.
 */
export const AgentCode = withRules(
  z
    .strictObject({
      module: z
        .string()
        .min(1)
        .max(512)
        .regex(
          /^[A-Za-z0-9_@+-][A-Za-z0-9._@+/-]*\.(?:[cm]?js|[cm]?ts)$/,
          "a relative path to a .js, .mjs, .cjs, .ts, .mts or .cts file inside the code root",
        )
        .describe(
          "The module file, relative to the worker's code root: the folder under freehold dev, the worker's " +
            "--code-root (default: its working directory) in a cluster. A .js, .mjs, .ts or .mts file.",
        ),
      export: z
        .string()
        .min(1)
        .max(128)
        .regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, "a JavaScript identifier")
        .default("default")
        .describe("The module's export that is the agent; default: its default export."),
    })
    .describe(
      "The agent as the team's own framework code (native mode): the adapter of spec.framework loads " +
        "the export and supplies the model, tools, handoffs and approvals where the code asks for them.",
    ),
  [
    {
      rule: "!self.module.contains('/./') && !self.module.contains('/../')",
      message: "module is a path inside the code root: no . or .. segments",
      fieldPath: ".module",
      check: (code) => !code.module.includes("/./") && !code.module.includes("/../"),
    },
  ],
);
export type AgentCode = z.infer<typeof AgentCode>;

/** Whether and how the agent is reachable over A2A (agent card and JSON-RPC on the gateway). */
export const AgentA2A = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        "Serve the agent's A2A card and JSON-RPC endpoint on the gateway. Default false: the gateway " +
          "answers 404 for the agent's A2A paths.",
      ),
  })
  .describe("A2A exposure of the agent; absent or enabled: false, the agent is not reachable over A2A.");
export type AgentA2A = z.infer<typeof AgentA2A>;

/** The desired state of an Agent. */
export const AgentSpec = withRules(
  z
    .strictObject({
      description: z
        .string()
        .max(1024)
        .optional()
        .describe(
          "What the agent does, in a sentence. Other agents and people see it: handoff tool descriptions, " +
            "agent cards.",
        ),
      model: z
        .strictObject({ ref: DnsLabel.describe("The name of a Model in the agent's namespace.") })
        .describe("The model that drives the agent."),
      instructions: z
        .string()
        .min(1)
        .max(100_000)
        .describe("The system prompt: who the agent is and what it does."),
      tools: z
        .array(AgentTool)
        .max(64)
        .optional()
        .describe("Tool sources: MCP servers and agents used as tools."),
      handoffs: z
        .array(AgentHandoff)
        .max(64)
        .optional()
        .describe("Where the agent may hand the conversation: other agents and human queues."),
      framework: Framework.default("freehold").describe(
        "The framework that drives the loop: freehold, vercel-ai, openai-agents, langgraph or mastra.",
      ),
      code: AgentCode.optional(),
      limits: AgentLimits.prefault({}),
      runtime: AgentRuntime.prefault({}),
      a2a: AgentA2A.optional(),
    })
    .describe("The desired state of an Agent."),
  [
    {
      rule: "!has(self.tools) || self.tools.all(t, !has(t.mcpServer) || self.tools.exists_one(o, has(o.mcpServer) && o.mcpServer == t.mcpServer))",
      message: "each mcpServer may appear only once in tools; merge its allow-lists",
      fieldPath: ".tools",
      check: (spec) => unique(spec.tools?.flatMap((tool) => tool.mcpServer ?? []) ?? []),
    },
    {
      rule: "!has(self.handoffs) || self.handoffs.all(h, self.handoffs.exists_one(o, (has(h.agent) && has(o.agent) && o.agent == h.agent) || (has(h.humanQueue) && has(o.humanQueue) && o.humanQueue == h.humanQueue)))",
      message: "each handoff target may appear only once",
      fieldPath: ".handoffs",
      check: (spec) =>
        unique(spec.handoffs?.map((handoff) => `${handoff.agent ?? ""}|${handoff.humanQueue ?? ""}`) ?? []),
    },
    {
      rule: "!has(self.code) || self.framework != 'freehold'",
      message:
        "code is the agent in a framework's own code: set framework to vercel-ai, openai-agents, langgraph or mastra",
      fieldPath: ".code",
      check: (spec) => spec.code === undefined || spec.framework !== "freehold",
    },
  ],
);
export type AgentSpec = z.infer<typeof AgentSpec>;

function unique(values: readonly string[]): boolean {
  return new Set(values).size === values.length;
}

/** What the operator observed. */
export const AgentStatus = z
  .strictObject({
    ...statusBase,
    replicas: z.int().min(0).optional().describe("Worker pods that exist."),
    readyReplicas: z.int().min(0).optional().describe("Worker pods that are ready."),
    model: z
      .string()
      .optional()
      .describe("The provider and model the agent resolved to, e.g. openai/gpt-4o."),
    tools: z.int().min(0).optional().describe("How many tools the agent can call, handoff tools included."),
  })
  .describe("The observed state of an Agent.");

export const Agent = defineResource({
  kind: "Agent",
  plural: "agents",
  shortNames: ["ag"],
  scope: "Namespaced",
  description: "An agent: a model, instructions, tools and handoffs, run by a pool of workers.",
  spec: AgentSpec,
  status: AgentStatus,
  printerColumns: [
    { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: "Model", type: "string", jsonPath: ".spec.model.ref" },
    { name: "Framework", type: "string", jsonPath: ".spec.framework" },
    { name: "Replicas", type: "integer", jsonPath: ".status.readyReplicas" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
  nameRule: "service",
});
export type Agent = z.infer<typeof Agent.schema>;

/**
 * A cycle of agents used as tools that starts at `start` (A asks B, B asks A; or A asks itself), as
 * the path that closes it (`["a", "b", "a"]`), or undefined. `uses` gives the agents an agent calls as
 * tools (undefined: an agent not known, whose tools are not followed).
 *
 * @example
 * ```ts
 * const tools = new Map([["a", ["b"]], ["b", ["a"]]]);
 * agentToolCycle("a", (name) => tools.get(name)); // ["a", "b", "a"]
 * ```
 */
export function agentToolCycle(
  start: string,
  uses: (agent: string) => readonly string[] | undefined,
): string[] | undefined {
  const done = new Set<string>();
  const walk = (path: readonly string[]): string[] | undefined => {
    const current = path[path.length - 1] ?? start;
    for (const next of uses(current) ?? []) {
      if (next === start) return [...path, next];
      if (done.has(next) || path.includes(next)) continue;
      const found = walk([...path, next]);
      if (found !== undefined) return found;
      done.add(next);
    }
    return undefined;
  };
  return walk([start]);
}
