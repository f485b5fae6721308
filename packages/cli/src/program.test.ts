import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { captureOutput } from "./output.ts";
import { createProgram } from "./program.ts";

const root = join(import.meta.dirname, "..", "..", "..");

async function run(...args: string[]) {
  const output = captureOutput();
  await createProgram({ output, cwd: root, environment: {}, stopped: () => Promise.resolve() }).parseAsync(
    args,
    {
      from: "user",
    },
  );
  return { stdout: output.out.join(""), stderr: output.err.join("") };
}

afterEach(() => {
  process.exitCode = undefined;
});

describe("freehold crds", () => {
  it("prints every CRD as one YAML stream", async () => {
    const { stdout } = await run("crds");
    const names = parseAllDocuments(stdout).map(
      (document) => (document.toJS() as { metadata: { name: string } }).metadata.name,
    );
    expect(names).toEqual([
      "agents.freehold.dev",
      "models.freehold.dev",
      "mcpservers.freehold.dev",
      "humanqueues.freehold.dev",
      "tenants.freehold.dev",
    ]);
  });

  it("prints one kind as JSON", async () => {
    const { stdout } = await run("crds", "--kind", "mcpserver", "-o", "json");
    expect((JSON.parse(stdout) as { metadata: { name: string } }).metadata.name).toBe(
      "mcpservers.freehold.dev",
    );
  });

  it("refuses an unknown kind, listing the kinds", async () => {
    await expect(run("crds", "--kind", "Widget")).rejects.toThrow(
      /unknown kind "Widget"; choose one of Agent/,
    );
  });
});

describe("freehold validate", () => {
  it("accepts the examples", async () => {
    const { stdout } = await run("validate", "examples");
    expect(stdout).toContain("ok    examples/acme-support/agents.yaml: Agent acme/billing");
    expect(stdout).not.toContain("error");
    expect(process.exitCode).toBeUndefined();
  });

  it("reports every bad file and fails", async () => {
    const directory = mkdtempSync(join(tmpdir(), "freehold-validate-"));
    writeFileSync(
      join(directory, "bad.yaml"),
      "apiVersion: freehold.dev/v1alpha1\nkind: MCPServer\nmetadata: {name: tools}\nspec: {}\n",
    );
    const { stdout } = await run("validate", directory);
    expect(stdout).toContain("spec: an MCPServer needs exactly one transport: http, sse or stdio");
    expect(process.exitCode).toBe(1);
  });

  it("names a path that does not exist", async () => {
    await expect(run("validate", "no/such/folder")).rejects.toThrow("no/such/folder: no such file or folder");
  });
});
