/**
 * Resources defined in TypeScript: `defineAgent`, `defineModel`, `defineHumanQueue` and
 * `defineMCPServer` take the resource's name (and namespace, labels, annotations) beside the fields
 * of its spec, typed by the same zod schemas as the CRDs, and check them with the project's own
 * manifest parser: a wrong field is a type error, and at run time the same `manifest.invalid`
 * error, naming the field, as `freehold validate` and `freehold dev` give for YAML.
 *
 * @module
 */
import {
  apiVersion,
  FreeholdError,
  parseManifest,
  type AgentSpec,
  type HumanQueueSpec,
  type McpServerSpec,
  type ModelSpec,
} from "@freehold/api";
import type { z } from "zod";

/** The metadata of a definition: its name, and optionally its namespace, labels and annotations. */
export interface DefinitionMetadata {
  /** The resource's name, unique among its kind in its namespace. */
  readonly name: string;
  /** Absent: the namespace it is applied to (`default` under `freehold dev`). */
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The kinds a definition can have. */
export type DefinitionKind = "Agent" | "Model" | "HumanQueue" | "MCPServer";

/** A manifest as `kubectl apply` and `freehold dev` read it: the spec as it was written, no defaults filled in. */
export interface Manifest<Kind extends DefinitionKind = DefinitionKind> {
  readonly apiVersion: typeof apiVersion;
  readonly kind: Kind;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly spec: Readonly<Record<string, unknown>>;
}

/** A checked resource definition. */
export interface Definition<Kind extends DefinitionKind = DefinitionKind, Spec = unknown> {
  readonly kind: Kind;
  readonly name: string;
  readonly namespace: string | undefined;
  /** The spec with the CRD's defaults applied, as the runtime and the operator see it. */
  readonly spec: Spec;
  /** The manifest, with the spec as written. */
  readonly manifest: Manifest<Kind>;
}

/** What {@link defineAgent} takes: the metadata and the fields of an Agent's spec. */
export type AgentDefinitionInput = DefinitionMetadata & z.input<typeof AgentSpec>;
/** What {@link defineModel} takes: the metadata and the fields of a Model's spec. */
export type ModelDefinitionInput = DefinitionMetadata & z.input<typeof ModelSpec>;
/** What {@link defineHumanQueue} takes: the metadata and the fields of a HumanQueue's spec. */
export type HumanQueueDefinitionInput = DefinitionMetadata & z.input<typeof HumanQueueSpec>;
/** What {@link defineMCPServer} takes: the metadata and the fields of an MCPServer's spec. */
export type McpServerDefinitionInput = DefinitionMetadata & z.input<typeof McpServerSpec>;

export type AgentDefinition = Definition<"Agent", AgentSpec>;
export type ModelDefinition = Definition<"Model", ModelSpec>;
export type HumanQueueDefinition = Definition<"HumanQueue", HumanQueueSpec>;
export type McpServerDefinition = Definition<"MCPServer", McpServerSpec>;

/**
 * Defines an Agent. Framework-native agents (their own code, `code`) are defined the same way.
 *
 * @throws FreeholdError `manifest.invalid` naming every offending field (`spec.instructions: …`).
 * @example
 * ```ts
 * const billing = defineAgent({
 *   name: "billing",
 *   model: { ref: "default" },
 *   instructions: "Answer questions about invoices.",
 *   tools: [{ mcpServer: "billing-tools", allow: ["get_invoice"] }],
 * });
 * billing.spec.limits.maxSteps; // 20
 * ```
 */
export function defineAgent(definition: AgentDefinitionInput): AgentDefinition {
  return define("Agent", "defineAgent", definition) as AgentDefinition;
}

/**
 * Defines a Model.
 *
 * @throws FreeholdError `manifest.invalid` naming every offending field.
 * @example
 * ```ts
 * const model = defineModel({ name: "default", provider: "openai", model: "gpt-4o-mini",
 *   apiKeySecretRef: { name: "openai", key: "api-key" } });
 * ```
 */
export function defineModel(definition: ModelDefinitionInput): ModelDefinition {
  return define("Model", "defineModel", definition) as ModelDefinition;
}

/**
 * Defines a HumanQueue.
 *
 * @throws FreeholdError `manifest.invalid` naming every offending field.
 * @example
 * ```ts
 * const billingTeam = defineHumanQueue({ name: "billing-team", description: "Refunds and disputes.",
 *   sla: { claimWithinSeconds: 900 } });
 * ```
 */
export function defineHumanQueue(definition: HumanQueueDefinitionInput): HumanQueueDefinition {
  return define("HumanQueue", "defineHumanQueue", definition) as HumanQueueDefinition;
}

/**
 * Defines an MCPServer.
 *
 * @throws FreeholdError `manifest.invalid` naming every offending field.
 * @example
 * ```ts
 * const tools = defineMCPServer({ name: "billing-tools", http: { url: "http://billing-tools:8080/mcp",
 *   headers: [{ name: "Authorization", secretKeyRef: { name: "billing-tools", key: "authorization" } }] } });
 * ```
 */
export function defineMCPServer(definition: McpServerDefinitionInput): McpServerDefinition {
  return define("MCPServer", "defineMCPServer", definition) as McpServerDefinition;
}

/**
 * The mark every definition carries (a registered symbol, so it is the same in every copy of this
 * package): how `freehold build` finds definitions among an entry module's exports.
 */
export const definitionMark = Symbol.for("freehold.dev/definition");

/**
 * True when `value` is a definition made by `defineAgent`, `defineModel`, `defineHumanQueue` or
 * `defineMCPServer` (of any copy of this package).
 */
export function isDefinition(value: unknown): value is Definition {
  return typeof value === "object" && value !== null && definitionMark in value;
}

const metadataKeys = ["name", "namespace", "labels", "annotations"] as const;

function define(kind: DefinitionKind, caller: string, definition: unknown): Definition {
  if (typeof definition !== "object" || definition === null || Array.isArray(definition)) {
    throw new FreeholdError(
      "manifest.invalid",
      `${caller}: takes an object with the ${kind}'s name and the fields of its spec`,
      { details: { source: caller, issues: [{ path: "", message: "expected an object" }] } },
    );
  }
  const metadata: Record<string, unknown> = {};
  const spec: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(definition)) {
    if (value === undefined) continue;
    if ((metadataKeys as readonly string[]).includes(key)) metadata[key] = value;
    else spec[key] = value;
  }
  const manifest = withoutUndefined({ apiVersion, kind, metadata, spec }) as Manifest;
  const resource = parseManifest(manifest, caller);
  const checked = {
    kind,
    name: resource.metadata.name,
    namespace: resource.metadata.namespace,
    spec: resource.spec,
    manifest,
  };
  Object.defineProperty(checked, definitionMark, { value: true });
  return Object.freeze(checked);
}

/** A deep copy without `undefined` members, as JSON and YAML would carry it. */
function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefined);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .map(([key, member]) => [key, withoutUndefined(member)]),
  );
}
