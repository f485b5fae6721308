import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadResources } from "./load-folder.ts";

const model = (baseUrl: string): string =>
  `apiVersion: freehold.dev/v1alpha1\nkind: Model\nmetadata: {name: default}\nspec: {provider: openai-compatible, model: m, baseUrl: "${baseUrl}"}\n`;

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function folder(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "freehold-load-"));
  folders.push(root);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(root, name, ".."), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return root;
}

describe("loadResources", () => {
  it("reads every manifest of the folder and its subfolders, not those inside node_modules", () => {
    const root = folder({
      "models.yaml": model("http://127.0.0.1:1/v1"),
      "node_modules/pkg/crd.yaml": "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n",
    });
    expect(loadResources(root, "/").map((resource) => resource.metadata.name)).toEqual(["default"]);
  });

  it("refuses a resource defined twice, naming both files", () => {
    const root = folder({
      "resources.yaml": model("http://127.0.0.1:1/v1"),
      "cluster/resources.yaml": model("http://vllm:8000/v1"),
    });
    expect(() => loadResources(root, root)).toThrow(
      expect.objectContaining({
        code: "dev.duplicate-resource",
        message: expect.stringContaining(
          "Model default/default is defined in cluster/resources.yaml and again in resources.yaml",
        ) as string,
      }),
    );
  });
});
