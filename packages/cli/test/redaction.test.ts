/**
 * Secrets never printed: `freehold gateway` run as a process with a Redis URL that carries a
 * password, against a port where no Redis listens, fails with an error that names the Redis
 * without its password.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@freehold/handoff";
import { describe, expect, it } from "vitest";

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
