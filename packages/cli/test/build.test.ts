/**
 * `freehold build <entry.ts>`: an entry module that defines resources with `@freehold/sdk` gives the
 * same, validated YAML every time; in-process through the program, and as a real `freehold` process
 * (Node importing the TypeScript entry itself).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseManifests } from "@freehold/api";
import { afterEach, describe, expect, it } from "vitest";
import { captureOutput } from "../src/output.ts";
import { createProgram } from "../src/program.ts";

const root = join(import.meta.dirname, "..", "..", "..");
const sdk = join(root, "packages", "sdk", "src", "index.ts");

async function freehold(cwd: string, ...args: string[]) {
  const output = captureOutput();
  await createProgram({ output, cwd, environment: {}, stopped: () => Promise.resolve() }).parseAsync(args, {
    from: "user",
  });
  return { stdout: output.out.join(""), stderr: output.err.join("") };
}

/** A folder with `entry.ts` of the given body, after an import of the SDK. */
function entry(body: string): string {
  const folder = mkdtempSync(join(tmpdir(), "freehold-build-"));
  writeFileSync(
    join(folder, "entry.ts"),
    `import { defineAgent, defineHumanQueue, defineMCPServer, defineModel } from ${JSON.stringify(sdk)};\n${body}`,
  );
  return folder;
}

const definitions = `
export const billing = defineAgent({ name: "billing", namespace: "acme", model: { ref: "default" },
  instructions: "Answer questions about invoices.", tools: [{ mcpServer: "billing-tools", allow: ["get_invoice"] }],
  handoffs: [{ humanQueue: "billing-team" }] });
export const front = defineAgent({ name: "front", namespace: "acme", model: { ref: "default" }, instructions: "Triage.",
  handoffs: [{ agent: "billing" }] });
export const model = defineModel({ name: "default", namespace: "acme", provider: "local", model: "gemma3-270m" });
export const tools = defineMCPServer({ name: "billing-tools", namespace: "acme", http: { url: "http://billing-tools:8080/mcp" } });
export const team = defineHumanQueue({ name: "billing-team", namespace: "acme", description: "Refunds." });
export const all = [billing, front, model, tools, team];
export const notADefinition = { kind: "Agent", manifest: {} };
`;

afterEach(() => {
  process.exitCode = undefined;
});

describe("freehold build", () => {
  it("writes the exported definitions' manifests: validated, in a fixed order, the same every time", async () => {
    const folder = entry(definitions);
    const { stdout, stderr } = await freehold(folder, "build", "entry.ts");
    expect(stderr).toBe("built 5 manifests from entry.ts\n");
    const resources = parseManifests(stdout, "built");
    expect(resources.map((resource) => `${resource.kind} ${resource.metadata.name}`)).toEqual([
      "Model default",
      "MCPServer billing-tools",
      "HumanQueue billing-team",
      "Agent billing",
      "Agent front",
    ]);
    expect(stdout).toContain("instructions: Answer questions about invoices.\n");
    // Written as defined: no defaults filled in.
    expect(stdout).not.toContain("maxSteps");
    expect((await freehold(folder, "build", "entry.ts")).stdout).toBe(stdout);

    await freehold(folder, "build", "entry.ts", "--output", "manifests.yaml");
    expect(readFileSync(join(folder, "manifests.yaml"), "utf8")).toBe(stdout);
  });

  it("runs as a freehold process, Node loading the TypeScript entry", async () => {
    const folder = entry(definitions);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(root, "packages", "cli", "src", "bin.ts"), "build", "entry.ts"],
      { cwd: folder },
    );
    expect((await freehold(folder, "build", "entry.ts")).stdout).toBe(stdout);
  });

  it("refuses two definitions of one resource, naming both exports", async () => {
    const folder = entry(`${definitions}
export const billingAgain = defineAgent({ name: "billing", namespace: "acme", model: { ref: "default" }, instructions: "Again." });
`);
    await expect(freehold(folder, "build", "entry.ts")).rejects.toMatchObject({
      code: "build.duplicate-resource",
      message:
        "entry.ts: Agent acme/billing is defined by export billing and again by export billingAgain; keep one definition per resource",
    });
  });

  it("says what is wrong with an entry: an invalid definition, no definitions, no file", async () => {
    const invalid = entry(
      `export const bad = defineAgent({ name: "bad", model: { ref: "default" }, instructions: "" });\n`,
    );
    await expect(freehold(invalid, "build", "entry.ts")).rejects.toMatchObject({
      code: "manifest.invalid",
      message:
        'defineAgent: Agent "bad" is invalid:\n  spec.instructions: Too small: expected string to have >=1 characters',
    });
    const empty = entry("export const nothing = 1;\n");
    await expect(freehold(empty, "build", "entry.ts")).rejects.toMatchObject({
      code: "build.no-definitions",
      message: expect.stringContaining("entry.ts exports no definitions") as unknown,
    });
    await expect(freehold(empty, "build", "missing.ts")).rejects.toMatchObject({
      code: "cli.path-not-found",
      message: "missing.ts: no such file",
    });
    const throwing = entry('throw new Error("no database");\n');
    await expect(freehold(throwing, "build", "entry.ts")).rejects.toMatchObject({
      code: "build.entry-failed",
      message: "failed to load entry.ts: no database",
    });
  });
});
