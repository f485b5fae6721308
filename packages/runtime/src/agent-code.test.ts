import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isFreeholdError } from "@freehold/api";
import { loadAgentCode } from "./agent-code.ts";

const base = mkdtempSync(join(tmpdir(), "freehold-code-"));
const root = join(base, "root");
mkdirSync(join(root, "agents"), { recursive: true });
writeFileSync(
  join(root, "agents", "support.ts"),
  "export const support: { name: string } = { name: 'support' };\nexport default 42;\n",
);
writeFileSync(join(root, "agents", "broken.mjs"), "export const x = ;\n");
writeFileSync(join(root, "agents", "throws.mjs"), "throw new Error('no API key');\n");
writeFileSync(join(base, "secret.mjs"), "export default 'outside';\n");
symlinkSync(join(base, "secret.mjs"), join(root, "agents", "link.mjs"));
afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error: unknown = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isFreeholdError(error)) throw new Error(`expected a FreeholdError, got ${String(error)}`);
  return { code: error.code, message: error.message };
}

describe("loadAgentCode", () => {
  it("imports the named export of a TypeScript module under the root, and the default export", async () => {
    await expect(loadAgentCode({ module: "agents/support.ts", export: "support" }, root)).resolves.toEqual({
      name: "support",
    });
    await expect(loadAgentCode({ module: "agents/support.ts", export: "default" }, root)).resolves.toBe(42);
  });

  it("names the exports there are when the one asked for is missing", async () => {
    const { code, message } = await failure(
      loadAgentCode({ module: "agents/support.ts", export: "billing" }, root),
    );
    expect(code).toBe("agent.code-export-missing");
    expect(message).toContain("its exports: support, default");
  });

  it("refuses a path that leaves the root, by .. or through a symbolic link", async () => {
    expect((await failure(loadAgentCode({ module: "../secret.mjs", export: "default" }, root))).code).toBe(
      "agent.code-outside-root",
    );
    expect((await failure(loadAgentCode({ module: "agents/link.mjs", export: "default" }, root))).code).toBe(
      "agent.code-outside-root",
    );
  });

  it("says which file is missing, and which module failed to import and why", async () => {
    const missing = await failure(loadAgentCode({ module: "agents/none.ts", export: "default" }, root));
    expect(missing.code).toBe("agent.code-not-found");
    expect(missing.message).toContain("agents/none.ts");
    const broken = await failure(loadAgentCode({ module: "agents/broken.mjs", export: "x" }, root));
    expect(broken.code).toBe("agent.code-import-failed");
    const throws = await failure(loadAgentCode({ module: "agents/throws.mjs", export: "default" }, root));
    expect(throws).toMatchObject({ code: "agent.code-import-failed" });
    expect(throws.message).toContain("no API key");
  });
});
