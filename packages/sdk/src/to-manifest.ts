/**
 * Definitions out as manifests: objects for `kubectl apply` or the Kubernetes client, and YAML that
 * `freehold validate`, `freehold dev` and `kubectl` read.
 *
 * @module
 */
import { stringify } from "yaml";
import type { Definition, DefinitionKind, Manifest } from "./definitions.ts";

/**
 * The manifest of a definition (apiVersion, kind, metadata, spec as written), a copy the caller may
 * change.
 *
 * @example
 * ```ts
 * toManifest(defineModel({ name: "default", provider: "local", model: "gemma3-270m" }));
 * // { apiVersion: "freehold.dev/v1alpha1", kind: "Model", metadata: { name: "default" },
 * //   spec: { provider: "local", model: "gemma3-270m" } }
 * ```
 */
export function toManifest<Kind extends DefinitionKind>(definition: Definition<Kind>): Manifest<Kind> {
  return structuredClone(definition.manifest);
}

/**
 * The manifests of definitions as one YAML stream, in the order given; the same definitions give
 * the same text.
 *
 * @example
 * ```ts
 * await writeFile("manifests.yaml", toYaml([model, agent]));
 * ```
 */
export function toYaml(definitions: readonly Definition[]): string {
  return definitions.map((definition) => stringify(definition.manifest, { lineWidth: 0 })).join("---\n");
}
