/**
 * The committed manifests (manifests/resources.yaml) are what `freehold build` writes from
 * src/resources.ts, so they cannot drift from the code (`pnpm build` writes them again), and every
 * one of them passes `freehold validate`, the checks the cluster's API server makes.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { project, runFreehold } from "./freehold-cli.ts";

describe("manifests/resources.yaml", () => {
  it("is what freehold build writes from src/resources.ts (run pnpm build after changing the code)", async () => {
    const built = await runFreehold(["build", "src/resources.ts"]);
    expect(built.stderr).toContain("built 5 manifests from src/resources.ts");
    expect(built.code).toBe(0);
    const committed = readFileSync(join(project, "manifests", "resources.yaml"), "utf8");
    expect(built.stdout).toBe(committed);
  });

  it("holds only valid manifests: a Model, an MCPServer, a HumanQueue and two Agents", async () => {
    const validated = await runFreehold(["validate", "manifests/resources.yaml"]);
    expect(validated.stderr).toContain("5 resources valid, 0 files with errors");
    expect(validated.code).toBe(0);
    const kinds = [
      ...readFileSync(join(project, "manifests", "resources.yaml"), "utf8").matchAll(/^kind: (\w+)$/gm),
    ];
    expect(kinds.map((match) => match[1])).toEqual(["Model", "MCPServer", "HumanQueue", "Agent", "Agent"]);
  });
});
