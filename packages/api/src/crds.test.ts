import { describe, expect, it } from "vitest";
import { customResourceDefinition, generatedFiles } from "./crds.ts";
import { resourceKinds } from "./resources.ts";
import type { JsonSchema } from "./structural-schema.ts";

/** Every property below `node`, with its path. */
function properties(node: JsonSchema, path: string): [string, JsonSchema][] {
  const found: [string, JsonSchema][] = [];
  const children = (node.properties ?? {}) as Record<string, JsonSchema>;
  for (const [name, child] of Object.entries(children)) {
    found.push([`${path}.${name}`, child], ...properties(child, `${path}.${name}`));
  }
  if (node.items !== undefined) found.push(...properties(node.items as JsonSchema, `${path}[]`));
  return found;
}

describe.each(resourceKinds.map((kind) => [kind.kind, kind] as const))("the %s CRD", (_name, kind) => {
  const crd = customResourceDefinition(kind);
  const [version] = crd.spec.versions;
  const schema = version?.schema.openAPIV3Schema as unknown as JsonSchema;

  it("documents every field, so kubectl explain can show it", () => {
    const specAndStatus = properties(schema, "").filter(([path]) => /^\.(spec|status)\./.test(path));
    expect(specAndStatus.length).toBeGreaterThan(3);
    const undocumented = specAndStatus
      .filter(([, node]) => typeof node.description !== "string")
      .map(([path]) => path);
    expect(undocumented).toEqual([]);
  });

  it("types every node and never forbids extra properties (a structural schema)", () => {
    for (const [path, node] of properties(schema, "")) {
      expect(node.type ?? node["x-kubernetes-preserve-unknown-fields"], path).toBeDefined();
      expect(node.additionalProperties, path).not.toBe(false);
    }
  });

  it("has the status subresource, printer columns and a short name", () => {
    expect(version?.subresources).toEqual({ status: {} });
    expect(version?.additionalPrinterColumns.length).toBeGreaterThan(1);
    expect(crd.spec.names.shortNames.length).toBeGreaterThan(0);
  });

  it("states conditions as a map keyed by type", () => {
    const conditions = properties(schema, "").find(([path]) => path === ".status.conditions")?.[1];
    expect(conditions?.["x-kubernetes-list-type"]).toBe("map");
    expect(conditions?.["x-kubernetes-list-map-keys"]).toEqual(["type"]);
  });
});

describe("generatedFiles", () => {
  it("holds one CRD and one JSON Schema per kind", () => {
    const files = [...generatedFiles().keys()];
    expect(files.filter((file) => file.startsWith("crds/"))).toHaveLength(resourceKinds.length);
    expect(files.filter((file) => file.startsWith("json-schema/"))).toHaveLength(resourceKinds.length);
  });
});
