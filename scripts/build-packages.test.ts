/**
 * Each public package's manifest points its tarball at what scripts/build-packages.ts compiles: a
 * package whose `publishConfig` is missing or behind its `exports` would install as TypeScript under
 * node_modules, which Node refuses to run.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { publicPackages, publishedFields } from "./build-packages.ts";

describe("public packages' manifests", () => {
  const packages = publicPackages();

  it("are found in the workspace, private ones left out", () => {
    const names = packages.map((workspacePackage) => workspacePackage.name);
    expect(names).toContain("@freehold/api");
    expect(names).toContain("freehold");
    expect(names).not.toContain("@freehold/test");
    expect(names.filter((name) => name.startsWith("@freehold/example-"))).toEqual([]);
  });

  it.each(packages.map((workspacePackage) => [workspacePackage.name, workspacePackage.directory]))(
    "%s: its tarball runs dist/",
    (name, directory) => {
      const manifest = JSON.parse(readFileSync(join(directory, "package.json"), "utf8")) as {
        exports?: Record<string, unknown>;
        bin?: Record<string, string>;
        files?: unknown;
        publishConfig?: unknown;
      };
      const expected = publishedFields(manifest);
      expect(
        { files: manifest.files, publishConfig: manifest.publishConfig },
        `${name}'s package.json needs exactly these fields:\n${JSON.stringify(expected, null, 2)}`,
      ).toEqual(expected);
    },
  );
});
