/**
 * A model script: the turns a scripted model server answers with, in order. Each turn is a text
 * answer, tool calls (arguments as an object, or raw text to send invalid JSON), or an HTTP error;
 * any turn may wait before answering and may `match` only some conversations. Scripts are YAML or
 * JSON, validated with zod; a bad script is refused with the turn and the field.
 *
 * @module
 */
import { formatPath, FreeholdError } from "@freehold/api";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { z } from "zod";

/** A tool call the scripted model makes. */
export const ScriptToolCall = z.strictObject({
  name: z.string().min(1).describe("The tool's name."),
  arguments: z
    .union([z.record(z.string(), z.unknown()), z.string()])
    .default({})
    .describe("An object sent as JSON, or raw text sent as it is (possibly invalid JSON)."),
  id: z.string().min(1).optional().describe("The call's id. Default: call_<step>_<index>."),
});

/** An HTTP error the server answers with instead of a completion. */
export const ScriptError = z.strictObject({
  status: z.int().min(400).max(599).describe("The HTTP status."),
  message: z.string().optional().describe("The error's message in the OpenAI error body."),
  type: z.string().optional().describe("The error's type in the OpenAI error body."),
  code: z.string().optional().describe("The error's code in the OpenAI error body."),
  body: z
    .union([z.string(), z.record(z.string(), z.unknown())])
    .optional()
    .describe("A whole body that replaces the OpenAI error body: an object sent as JSON, or text."),
  retryAfterSeconds: z.number().min(0).optional().describe("Sent as the Retry-After header."),
  times: z
    .int()
    .min(1)
    .default(1)
    .describe("How many times one conversation gets this error before the turn is passed."),
});

/** When a turn applies. All conditions given must hold; a turn without `match` always applies. */
export const ScriptMatch = z
  .strictObject({
    role: z.enum(["system", "user", "assistant", "tool"]).optional().describe("The last message's role."),
    toolName: z.string().min(1).optional().describe("The last message is the result of this tool."),
    contains: z.string().min(1).optional().describe("The last message's content contains this text."),
    anyMessageContains: z.string().min(1).optional().describe("Some message's content contains this text."),
  })
  .refine(
    (match) =>
      match.role !== undefined ||
      match.toolName !== undefined ||
      match.contains !== undefined ||
      match.anyMessageContains !== undefined,
    {
      message: "match needs at least one of role, toolName, contains, anyMessageContains",
    },
  );

/** One turn of a script. */
export const ScriptTurn = z
  .strictObject({
    text: z.string().optional().describe("The assistant's text; with toolCalls, the text before them."),
    toolCalls: z.array(ScriptToolCall).min(1).optional().describe("Tool calls the assistant makes."),
    error: ScriptError.optional().describe("An HTTP error instead of a completion."),
    finishReason: z
      .enum(["stop", "length", "content_filter"])
      .optional()
      .describe("The finish_reason of a text answer. Default stop."),
    delayMs: z.int().min(0).max(600_000).optional().describe("Milliseconds to wait before answering."),
    match: ScriptMatch.optional(),
  })
  .superRefine((turn, context) => {
    const answers = [turn.text !== undefined || turn.toolCalls !== undefined, turn.error !== undefined];
    if (answers.every((answer) => !answer)) {
      context.addIssue({ code: "custom", message: "a turn needs one of text, toolCalls or error", path: [] });
    }
    if (answers.every(Boolean)) {
      context.addIssue({
        code: "custom",
        message: "an error turn takes no text or toolCalls",
        path: ["error"],
      });
    }
  });

/** A whole script. */
export const ModelScript = z.strictObject({
  model: z.string().min(1).default("scripted-model").describe("The model id GET /v1/models lists."),
  loop: z
    .boolean()
    .default(false)
    .describe("Start again from the first turn after the last (for benchmarks), instead of refusing."),
  turns: z.array(ScriptTurn).min(1).describe("The turns, in order."),
});

export type ModelScript = z.output<typeof ModelScript>;
/** A script as written: defaults not yet applied. A bare list of turns is a script too. */
export type ModelScriptInput = z.input<typeof ModelScript> | z.input<typeof ScriptTurn>[];
export type ScriptTurn = z.output<typeof ScriptTurn>;
export type ScriptToolCall = z.output<typeof ScriptToolCall>;
export type ScriptError = z.output<typeof ScriptError>;
export type ScriptMatch = z.output<typeof ScriptMatch>;

/** One problem in a script: the turn (1-based) when it is about one, the field, and what. */
export interface ModelScriptIssue {
  readonly turn?: number;
  readonly field: string;
  readonly message: string;
}

function issueOf(issue: z.core.$ZodIssue): ModelScriptIssue {
  const [first, index, ...rest] = issue.path;
  const keys = issue.code === "unrecognized_keys" ? issue.keys : [undefined];
  const message = issue.code === "unrecognized_keys" ? `unknown field` : issue.message;
  if (first === "turns" && typeof index === "number") {
    const field = formatPath(rest);
    return {
      turn: index + 1,
      field: keys[0] === undefined ? field : formatPath([...rest, keys[0]]),
      message,
    };
  }
  return { field: formatPath(keys[0] === undefined ? issue.path : [...issue.path, keys[0]]), message };
}

/**
 * Validates a script and applies its defaults.
 *
 * @throws FreeholdError `model-script.invalid` naming each bad turn and field (`details.issues`).
 * @example
 * ```ts
 * const script = parseModelScript({ turns: [{ toolCalls: [{ name: "get_invoice", arguments: { id: "7" } }] },
 *   { text: "Invoice 7 is paid." }] });
 * ```
 */
export function parseModelScript(value: unknown, source = "model script"): ModelScript {
  const result = ModelScript.safeParse(Array.isArray(value) ? { turns: value } : value);
  if (result.success) return result.data;
  const issues = result.error.issues.map(issueOf);
  const lines = issues.map((issue) => {
    const where = issue.turn === undefined ? "" : `turn ${issue.turn}`;
    const field = issue.field === "" ? "" : `${where === "" ? "" : ", "}field ${issue.field}`;
    return `  ${where}${field}: ${issue.message}`;
  });
  throw new FreeholdError("model-script.invalid", `${source} is invalid:\n${lines.join("\n")}`, {
    details: { source, issues },
  });
}

/**
 * Reads a script from YAML (or JSON) text.
 *
 * @throws FreeholdError `model-script.yaml` for a YAML syntax error (with line and column), or
 *   `model-script.invalid`.
 * @example
 * ```ts
 * const script = loadModelScript(`
 * turns:
 *   - toolCalls: [{ name: get_invoice, arguments: { id: "7" } }]
 *   - text: Invoice 7 is paid.
 * `);
 * ```
 */
export function loadModelScript(text: string, source = "model script"): ModelScript {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    const position = error instanceof YAMLParseError ? error.linePos?.[0] : undefined;
    throw new FreeholdError(
      "model-script.yaml",
      `${source}${position === undefined ? "" : `:${position.line}:${position.col}`} is not valid YAML: ` +
        (error instanceof Error ? error.message : String(error)),
      { cause: error, details: { source } },
    );
  }
  return parseModelScript(value, source);
}
