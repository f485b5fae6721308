/**
 * Names and references, following Kubernetes conventions: structured references (`{ref: name}`,
 * `{name, key}`), never `"namespace/name"` strings.
 *
 * @module
 */
import { z } from "zod";

/** The API group and version of every Freehold resource. */
export const group = "freehold.dev";
export const version = "v1alpha1";
export const apiVersion = `${group}/${version}`;

const dnsLabelPattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1035LabelPattern = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** A DNS-1123 label: lower-case letters, digits and '-', at most 63 characters. */
export const DnsLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(
    dnsLabelPattern,
    "must be lower-case letters, digits and '-', starting and ending with a letter or digit",
  );

/**
 * The name of a Freehold resource that becomes a Service (Agent, MCPServer): a DNS-1035 label,
 * which must start with a letter.
 */
export const ResourceName = z
  .string()
  .min(1)
  .max(63)
  .regex(dns1035LabelPattern, "must be lower-case letters, digits and '-', starting with a letter");

/** The CEL form of {@link ResourceName}'s pattern, for rules on `metadata.name`. */
export const resourceNamePattern = dns1035LabelPattern.source;

/** A tool's name as MCP servers publish it. */
export const ToolName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.\-/]+$/, "must be letters, digits, '_', '-', '.' or '/'")
  .describe("The name of a tool as its MCP server lists it (tools/list).");

/** A key in a Secret. */
export const SecretKeySelector = z
  .strictObject({
    name: DnsLabel.describe("The name of a Secret in the resource's namespace."),
    key: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[-._a-zA-Z0-9]+$/, "must be letters, digits, '-', '_' or '.'")
      .describe("The key within the Secret."),
  })
  .describe("A key of a Secret in the same namespace. Its value is never copied into other objects.");
export type SecretKeySelector = z.infer<typeof SecretKeySelector>;

/** Labels and annotations: string to string. */
export const StringMap = z.record(z.string().max(317), z.string().max(65536));

/**
 * The metadata Freehold reads from a manifest. The API server validates the rest; `freehold dev`
 * and the SDK validate these fields themselves.
 */
export const ObjectMeta = z.looseObject({
  name: DnsLabel.describe("The resource's name, unique in its namespace."),
  namespace: DnsLabel.optional().describe("The namespace; `freehold dev` uses `default` when absent."),
  labels: StringMap.optional(),
  annotations: StringMap.optional(),
  generation: z.int().min(0).optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
});
export type ObjectMeta = z.infer<typeof ObjectMeta>;
