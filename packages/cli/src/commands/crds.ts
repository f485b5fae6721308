/**
 * `freehold crds`: prints the CustomResourceDefinitions generated from the zod schemas, ready for
 * `kubectl apply --server-side -f -`.
 *
 * @module
 */
import {
  customResourceDefinition,
  customResourceDefinitionYaml,
  FreeholdError,
  resourceKinds,
} from "@freehold/api";
import type { Output } from "../output.ts";

export interface CrdsOptions {
  /** Only this kind (`Agent`, `agent`). Default: every kind. */
  readonly kind?: string;
  readonly output: "yaml" | "json";
}

/**
 * @example
 * ```ts
 * crdsCommand({ output: "yaml" }, processOutput()); // every CRD, as a YAML stream
 * ```
 */
export function crdsCommand(options: CrdsOptions, output: Output): void {
  const wanted = options.kind?.toLowerCase();
  const kinds = resourceKinds.filter((kind) => wanted === undefined || kind.kind.toLowerCase() === wanted);
  if (kinds.length === 0) {
    throw new FreeholdError(
      "cli.unknown-kind",
      `unknown kind ${JSON.stringify(options.kind)}; choose one of ${resourceKinds.map((known) => known.kind).join(", ")}`,
    );
  }
  if (options.output === "json") {
    const items = kinds.map((kind) => customResourceDefinition(kind));
    const document = items.length === 1 ? items[0] : { apiVersion: "v1", kind: "List", items };
    output.stdout(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    output.stdout(kinds.map((kind) => customResourceDefinitionYaml(kind)).join("---\n"));
  }
}
