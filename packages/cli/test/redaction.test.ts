/**
 * Secrets never printed: `freehold gateway` run as a process with a Redis URL that carries a
 * password, against a port where no Redis listens, fails with an error that names the Redis
 * without its password; `freehold dev` on a password-protected Redis prints its URL without it.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startRedisServer } from "@freehold/handoff";
import { describe, expect, it } from "vitest";
import { devOnce } from "./dev-once.ts";

const bin = join(import.meta.dirname, "..", "src", "bin.ts");

describe("freehold gateway", () => {
  it("never prints the password of its Redis URL", async () => {
    const folder = mkdtempSync(join(tmpdir(), "freehold-redaction-"));
    const tokenFile = join(folder, "tokens.csv");
    writeFileSync(tokenFile, "0123456789abcdef0123456789abcdef,ann,testers\n");
    chmodSync(tokenFile, 0o600);
    const policyFile = join(folder, "policy.yaml");
    writeFileSync(policyFile, "bindings: []\n");
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        bin,
        "gateway",
        "--redis-url",
        `redis://freehold:s3cret-pass@127.0.0.1:${port}`,
        "--token-file",
        tokenFile,
        "--policy-file",
        policyFile,
        "--port",
        "0",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let printed = "";
    child.stdout.on("data", (chunk: Buffer) => (printed += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (printed += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).not.toBe(0);
    expect(printed).toContain(`redis://***@127.0.0.1:${port}`);
    expect(printed).not.toContain("s3cret-pass");
  }, 60_000);
});

describe("freehold dev", () => {
  it("prints the Redis URL it uses without its password", async () => {
    await using redis = await startRedisServer({ password: "s3cret-pass" });
    const folder = mkdtempSync(join(tmpdir(), "freehold-dev-redaction-"));
    writeFileSync(
      join(folder, "agent.yaml"),
      [
        "apiVersion: freehold.dev/v1alpha1",
        "kind: Agent",
        "metadata: { name: assistant }",
        "spec: { model: { ref: remote }, instructions: Answer. }",
        "---",
        "apiVersion: freehold.dev/v1alpha1",
        "kind: Model",
        "metadata: { name: remote }",
        "spec: { provider: openai-compatible, model: m, baseUrl: 'http://127.0.0.1:9/v1' }",
        "",
      ].join("\n"),
    );
    const { out, err } = await devOnce({
      directory: folder,
      redisUrl: redis.url,
      cwd: folder,
      environment: { HOME: folder, USER: "ann", PATH: process.env.PATH },
    });
    const printed = out + err;
    expect(redis.url).toContain("s3cret-pass");
    expect(printed).toContain(`export FREEHOLD_REDIS_URL=redis://***@127.0.0.1:${redis.port} `);
    expect(printed).toContain("credentials are hidden");
    expect(printed).not.toContain("s3cret-pass");
  }, 60_000);
});
