/**
 * A tool written in TypeScript: a name, a description, a zod schema of its input (and optionally of
 * its output), MCP annotations and the function that runs it. Tools are served over MCP
 * (`serveTools`, `connectInMemory`), so every agent reaches them the way it reaches any MCP server:
 * through its allow-list, its approvals and its interruption policy (which reads `readOnlyHint` and
 * `idempotentHint`).
 *
 * @module
 */
import { FreeholdError, formatPath, ToolName } from "@freehold/api";
import type { CallToolResult, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import type { z } from "zod";

export type { ToolAnnotations };

/** What a running call gets besides its input. */
export interface ToolContext {
  /** Aborted when the caller cancels the call or the server closes. */
  readonly signal: AbortSignal;
  /**
   * The call's idempotency key when the caller sent one (Freehold's runtime always does, the same
   * for every retry of one call: `_meta["freehold.dev/idempotency-key"]`). A tool with effects can
   * answer a retried call with the earlier result instead of acting twice.
   */
  readonly idempotencyKey: string | undefined;
  /**
   * Reports progress when the caller asked for it (a progress token); otherwise does nothing. In
   * Freehold's runtime each report starts the call's timeout again.
   */
  progress(progress: number, total?: number, message?: string): Promise<void>;
}

/** What a tool's `run` returns: the output schema's input when there is one, else a string or any JSON value. */
export type ToolResult<Output extends z.ZodObject | undefined> = Output extends z.ZodObject
  ? z.input<Output>
  : unknown;

/** Options of {@link defineTool}. */
export interface ToolOptions<Input extends z.ZodObject, Output extends z.ZodObject | undefined = undefined> {
  /** The name the model calls it by: letters, digits, `_`, `-`, `.` or `/`, at most 128. */
  readonly name: string;
  /** A human-readable name, for people. */
  readonly title?: string;
  /** What the tool does and when to use it, as the model sees it. */
  readonly description: string;
  /** Its arguments. Invalid arguments never reach `run`: the model gets an error naming the field. */
  readonly input: Input;
  /**
   * Its result: `run`'s return value is checked against it and sent as structured content (and as
   * JSON text). A result that does not match is an error result, not a crash.
   */
  readonly output?: Output;
  /** Hints for clients: readOnlyHint, destructiveHint, idempotentHint, openWorldHint, title. */
  readonly annotations?: ToolAnnotations;
  /** Runs one call; what it throws reaches the model as an error result (isError) with its message. */
  run(input: z.output<Input>, context: ToolContext): ToolResult<Output> | Promise<ToolResult<Output>>;
}

/** A defined tool. */
export type Tool<
  Input extends z.ZodObject = z.ZodObject,
  Output extends z.ZodObject | undefined = z.ZodObject | undefined,
> = Readonly<ToolOptions<Input, Output>>;

/**
 * Defines a tool.
 *
 * @throws FreeholdError `tool.invalid` for a name MCP cannot carry, an empty description, or an input or
 *   output that is not a zod object schema.
 * @example
 * ```ts
 * const getInvoice = defineTool({
 *   name: "get_invoice",
 *   description: "The invoice with the given number.",
 *   input: z.object({ number: z.string().regex(/^INV-\d+$/) }),
 *   output: z.object({ number: z.string(), total: z.number(), paid: z.boolean() }),
 *   annotations: { readOnlyHint: true },
 *   run: async ({ number }) => await invoices.get(number),
 * });
 * ```
 */
export function defineTool<Input extends z.ZodObject, Output extends z.ZodObject | undefined = undefined>(
  options: ToolOptions<Input, Output>,
): Tool<Input, Output> {
  const problems: string[] = [];
  const name = ToolName.safeParse(options.name);
  if (!name.success)
    problems.push(`name ${JSON.stringify(options.name)} ${name.error.issues[0]?.message ?? ""}`);
  if (typeof options.description !== "string" || options.description.trim() === "") {
    problems.push("description must say what the tool does, for the model");
  }
  if (!isObjectSchema(options.input)) problems.push("input must be a zod object schema: z.object({...})");
  if (options.output !== undefined && !isObjectSchema(options.output)) {
    problems.push("output must be a zod object schema: z.object({...})");
  }
  if (typeof options.run !== "function") problems.push("run must be a function");
  if (problems.length > 0) {
    throw new FreeholdError(
      "tool.invalid",
      `defineTool: tool ${JSON.stringify(options.name)} is invalid: ${problems.join("; ")}`,
      { details: { tool: options.name, problems } },
    );
  }
  return Object.freeze({ ...options });
}

function isObjectSchema(value: unknown): value is z.ZodObject {
  const definition = (value as { _zod?: { def?: { type?: unknown } } } | undefined)?._zod?.def;
  return definition?.type === "object";
}

/**
 * The MCP result of what `run` returned: with an output schema, the checked output as structured
 * content and JSON text; otherwise a string as text, a JSON object as structured content and text,
 * any other JSON value as text.
 *
 * @throws FreeholdError `tool.output-invalid` naming each field that does not match the output schema.
 */
export function toolResult(tool: Tool, value: unknown): CallToolResult {
  if (tool.output !== undefined) {
    const parsed = tool.output.safeParse(value);
    if (!parsed.success) {
      const issues = parsed.error.issues.map(
        (issue) => `${formatPath(issue.path) || "(output)"}: ${issue.message}`,
      );
      throw new FreeholdError(
        "tool.output-invalid",
        `tool ${tool.name} returned output that does not match its output schema: ${issues.join("; ")}`,
        { details: { tool: tool.name, issues } },
      );
    }
    return structured(parsed.data);
  }
  if (typeof value === "string") return { content: [{ type: "text", text: value }] };
  if (value === undefined) return { content: [] };
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    return structured(value as Record<string, unknown>);
  }
  return { content: [{ type: "text", text: JSON.stringify(value) }] };
}

function structured(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value };
}
