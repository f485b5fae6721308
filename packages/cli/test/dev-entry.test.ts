/**
 * `freehold dev <entry.ts>`: the agents an entry module defines with `@freehold/sdk` run as a folder's
 * do, and the gateway command it prints reads the same resources (written beside the dev tokens).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRedisServer } from "@freehold/handoff";
import { describe, expect, it } from "vitest";
import { loadResources } from "../src/dev/load-folder.ts";
import { devOnce } from "./dev-once.ts";

const sdk = join(import.meta.dirname, "..", "..", "sdk", "src", "index.ts");

describe("freehold dev <entry.ts>", () => {
  it("runs the module's definitions and prints a gateway command that reads them", async () => {
    await using redis = await startRedisServer();
    const folder = mkdtempSync(join(tmpdir(), "freehold-dev-entry-"));
    writeFileSync(
      join(folder, "agents.ts"),
      [
        `import { defineAgent, defineHumanQueue, defineModel } from ${JSON.stringify(sdk)};`,
        `export const model = defineModel({ name: "remote", namespace: "acme", provider: "openai-compatible", model: "m", baseUrl: "http://127.0.0.1:9/v1" });`,
        `export const desk = defineHumanQueue({ name: "desk", namespace: "acme", description: "People." });`,
        `export const assistant = defineAgent({ name: "assistant", namespace: "acme", model: { ref: "remote" }, instructions: "Answer.", handoffs: [{ humanQueue: "desk" }] });`,
        "",
      ].join("\n"),
    );
    const { out: printed } = await devOnce({
      directory: "agents.ts",
      redisUrl: redis.url,
      cwd: folder,
      environment: { HOME: folder, USER: "ann", PATH: process.env.PATH },
    });
    const manifests = join(folder, ".freehold", "dev", "manifests");
    expect(printed).toContain(`--manifests ${manifests}\n`);
    expect(printed).toContain("freehold run assistant -n acme");
    const resources = loadResources(manifests, folder);
    expect(
      resources.map(
        (resource) => `${resource.kind} ${resource.metadata.namespace}/${resource.metadata.name}`,
      ),
    ).toEqual(["Model acme/remote", "HumanQueue acme/desk", "Agent acme/assistant"]);
  }, 60_000);
});
