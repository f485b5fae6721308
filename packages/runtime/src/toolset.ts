/**
 * The tools an agent's model sees in one run: the MCP tools its grants allow, under names every
 * provider accepts (`^[a-zA-Z0-9_-]{1,64}$`, unique), each with a validator for the arguments the
 * model writes.
 *
 * @module
 */
import type { AgentTool, InterruptPolicy } from "@freehold/api";
import type { McpTool } from "@freehold/mcp";
import type { ToolDefinition } from "@freehold/models";
import { Ajv, type ValidateFunction } from "ajv";
import type { SpecialKind, SpecialTool } from "./special-tools.ts";

/** A tool as the runtime knows it. */
export interface RuntimeTool {
  /** The name the model sees and calls. */
  readonly name: string;
  readonly server: string;
  /** The tool's name on its MCP server. */
  readonly toolName: string;
  readonly definition: ToolDefinition;
  /** Calls wait for a person's approval. */
  readonly requireApproval: boolean;
  /** What a resumed run does with a call of this tool that was running when its worker stopped. */
  readonly onInterrupt: InterruptPolicy;
  /** Its server annotates it `readOnlyHint`: a call changes nothing outside the run. */
  readonly readOnly?: boolean;
  readonly timeoutMs?: number;
  /** Set for a handoff or delegation tool: what it leads to instead of an MCP server. */
  readonly special?: { readonly kind: SpecialKind; readonly target: string };
}

/** The outcome of checking a tool call the model wrote. */
export type CheckedCall =
  | { readonly ok: true; readonly tool: RuntimeTool; readonly arguments: Record<string, unknown> }
  | { readonly ok: false; readonly error: string };

export interface Toolset {
  readonly tools: readonly RuntimeTool[];
  /** The definitions passed to the model. */
  readonly definitions: readonly ToolDefinition[];
  /** Checks a call: known tool, JSON arguments, arguments valid against the tool's schema. */
  check(name: string, argumentsText: string): CheckedCall;
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const validators = new WeakMap<object, ValidateFunction | null>();

function validatorOf(schema: Record<string, unknown>): ValidateFunction | null {
  let validate = validators.get(schema);
  if (validate === undefined) {
    try {
      validate = ajv.compile(schema);
    } catch {
      validate = null; // A schema Ajv cannot compile is passed to the model unchanged and not checked.
    }
    validators.set(schema, validate);
  }
  return validate;
}

function providerSafeName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64);
}

/**
 * The interruption policy of a tool: the agent's per-tool choice, else its per-server default, else
 * `retry` for a tool its server says is safe to repeat (`readOnlyHint`, `idempotentHint`) and `fail`
 * for the others.
 */
export function interruptPolicyOf(tool: McpTool, grant: AgentTool | undefined): InterruptPolicy {
  const chosen = grant?.onInterrupt?.tools?.[tool.name] ?? grant?.onInterrupt?.default;
  if (chosen !== undefined) return chosen;
  const hints = tool.annotations ?? {};
  return hints.readOnlyHint === true || hints.idempotentHint === true ? "retry" : "fail";
}

/**
 * Builds the toolset from the MCP tools the broker allows and the agent's tool grants (for
 * `requireApproval` and timeouts). A name two servers share is prefixed with the server's name.
 *
 * @example
 * ```ts
 * const toolset = createToolset(await broker.listTools(), agent.spec.tools ?? []);
 * const call = toolset.check("get_invoice", '{"id":"INV-1"}');
 * ```
 */
export function createToolset(
  mcpTools: readonly McpTool[],
  grants: readonly AgentTool[],
  specials: readonly SpecialTool[] = [],
): Toolset {
  const counts = new Map<string, number>();
  for (const tool of mcpTools) counts.set(tool.name, (counts.get(tool.name) ?? 0) + 1);
  const used = new Set<string>();
  const tools = mcpTools.map((tool): RuntimeTool => {
    const grant = grants.find((candidate) => candidate.mcpServer === tool.server);
    let name = providerSafeName(
      (counts.get(tool.name) ?? 0) > 1 ? `${tool.server}__${tool.name}` : tool.name,
    );
    for (let suffix = 2; used.has(name); suffix += 1) name = `${name.slice(0, 60)}_${suffix}`;
    used.add(name);
    return {
      name,
      server: tool.server,
      toolName: tool.name,
      definition: {
        name,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        inputSchema: tool.inputSchema,
      },
      requireApproval: grant?.requireApproval?.includes(tool.name) ?? false,
      onInterrupt: interruptPolicyOf(tool, grant),
      ...(tool.annotations?.readOnlyHint === true ? { readOnly: true } : {}),
      ...(grant?.timeoutSeconds === undefined ? {} : { timeoutMs: grant.timeoutSeconds * 1000 }),
    };
  });
  for (const special of specials) {
    let name = special.definition.name;
    for (let suffix = 2; used.has(name); suffix += 1)
      name = `${special.definition.name.slice(0, 60)}_${suffix}`;
    used.add(name);
    tools.push({
      name,
      server: "",
      toolName: special.definition.name,
      definition: { ...special.definition, name },
      requireApproval: false,
      // Handoffs and delegations are checkpointed as they happen: never half done.
      onInterrupt: "retry",
      special: { kind: special.kind, target: special.target },
    });
  }
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  return {
    tools,
    definitions: tools.map((tool) => tool.definition),
    check(name, argumentsText) {
      const tool = byName.get(name);
      if (tool === undefined) {
        return {
          ok: false,
          error: `there is no tool named ${JSON.stringify(name)}; the tools are: ${[...byName.keys()].join(", ") || "(none)"}`,
        };
      }
      let parsed: unknown;
      try {
        parsed = argumentsText.trim() === "" ? {} : JSON.parse(argumentsText);
      } catch (error) {
        return {
          ok: false,
          error: `the arguments of ${name} are not valid JSON (${(error as Error).message}); send a JSON object`,
        };
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        return { ok: false, error: `the arguments of ${name} must be a JSON object` };
      }
      const validate = validatorOf(tool.definition.inputSchema);
      if (validate !== null && !validate(parsed)) {
        const problems = (validate.errors ?? [])
          .map(
            (problem) =>
              `${problem.instancePath === "" ? "arguments" : problem.instancePath} ${problem.message ?? "is invalid"}`,
          )
          .join("; ");
        return { ok: false, error: `the arguments of ${name} do not match its schema: ${problems}` };
      }
      return { ok: true, tool, arguments: parsed as Record<string, unknown> };
    },
  };
}
