/**
 * The tools the runtime adds from an agent's spec, beside its MCP tools: `transfer_to_<agent>` for
 * each agent handoff, `transfer_to_human_<queue>` for each human queue handoff, and `ask_<agent>` for
 * each agent used as a tool. The model calls them like any tool; the loop turns the calls into a
 * transfer, an inbox item, or a child run.
 *
 * @module
 */
import type { AgentSpec, HumanQueueSpec } from "@freehold/api";
import type { ToolDefinition } from "@freehold/models";

/** What a special tool does. */
export type SpecialKind = "transfer" | "human" | "delegate";

export interface SpecialTool {
  readonly kind: SpecialKind;
  /** The agent or human queue it leads to. */
  readonly target: string;
  readonly definition: ToolDefinition;
}

/** What the runtime knows of the namespace's other agents and human queues. */
export interface Directory {
  readonly agents: ReadonlyMap<string, { readonly description?: string | undefined }>;
  readonly humanQueues: ReadonlyMap<string, HumanQueueSpec>;
}

function safe(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, "_");
}

/**
 * @example
 * ```ts
 * specialTools(agent.spec, directory).map((tool) => tool.definition.name);
 * // ["transfer_to_support", "transfer_to_human_billing-desk", "ask_researcher"]
 * ```
 */
export function specialTools(spec: AgentSpec, directory: Directory): SpecialTool[] {
  const tools: SpecialTool[] = [];
  for (const handoff of spec.handoffs ?? []) {
    if (handoff.agent !== undefined) {
      const target = handoff.agent;
      const about = handoff.description ?? directory.agents.get(target)?.description ?? `the ${target} agent`;
      tools.push({
        kind: "transfer",
        target,
        definition: {
          name: `transfer_to_${safe(target)}`.slice(0, 64),
          description: `Hand the whole conversation to the ${target} agent, who takes over from here: ${about}`,
          inputSchema: {
            type: "object",
            properties: {
              note: {
                type: "string",
                description: `What ${target} should know: the customer's need so far.`,
              },
            },
            required: ["note"],
          },
        },
      });
    } else if (handoff.humanQueue !== undefined) {
      const target = handoff.humanQueue;
      const about =
        handoff.description ?? directory.humanQueues.get(target)?.description ?? `the ${target} team`;
      tools.push({
        kind: "human",
        target,
        definition: {
          name: `transfer_to_human_${safe(target)}`.slice(0, 64),
          description: `Hand the conversation to a person in ${target}, and wait for them: ${about}`,
          inputSchema: {
            type: "object",
            properties: {
              summary: { type: "string", description: "The conversation so far, in a few sentences." },
              reason: { type: "string", description: "Why a person is needed." },
              priority: {
                type: "string",
                enum: ["low", "normal", "high", "urgent"],
                description: "How urgent it is.",
              },
            },
            required: ["summary", "reason"],
          },
        },
      });
    }
  }
  for (const tool of spec.tools ?? []) {
    if (tool.agent === undefined) continue;
    const target = tool.agent;
    const about = tool.description ?? directory.agents.get(target)?.description ?? `the ${target} agent`;
    tools.push({
      kind: "delegate",
      target,
      definition: {
        name: `ask_${safe(target)}`.slice(0, 64),
        description: `Ask the ${target} agent and get its answer: ${about}`,
        inputSchema: {
          type: "object",
          properties: { input: { type: "string", description: `What to ask ${target}.` } },
          required: ["input"],
        },
      },
    });
  }
  return tools;
}
