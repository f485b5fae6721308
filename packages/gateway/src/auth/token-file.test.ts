import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createTokenFileAuthenticator, parseTokenFile, readTokenFile } from "./token-file.ts";

const annToken = "a".repeat(32);
const bobToken = "b".repeat(32);

describe("the token file", () => {
  const folders: string[] = [];
  afterEach(() => {
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  it("reads token,user,groups lines, skipping comments and blank lines", () => {
    expect(
      parseTokenFile(`# people\n\n${annToken},ann,billing-desk|acme\n${bobToken},bob\n`, "t.csv"),
    ).toEqual([
      { token: annToken, user: "ann", groups: ["billing-desk", "acme"] },
      { token: bobToken, user: "bob", groups: [] },
    ]);
  });

  it("refuses a line without a user, with extra cells, or with a short token, naming the line and never the token", () => {
    expect(() => parseTokenFile(`${annToken}\n`, "t.csv")).toThrow(/t\.csv line 1 is not token,user/);
    expect(() => parseTokenFile(`# x\n${annToken},ann,g,extra\n`, "t.csv")).toThrow(/t\.csv line 2/);
    let message = "";
    try {
      parseTokenFile("short-secret,ann\n", "t.csv");
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/shorter than 16 characters/);
    expect(message).not.toContain("short-secret");
  });

  it("refuses a file others may read, saying how to fix it", () => {
    const folder = mkdtempSync(join(tmpdir(), "freehold-tokens-"));
    folders.push(folder);
    const path = join(folder, "tokens.csv");
    writeFileSync(path, `${annToken},ann\n`);
    chmodSync(path, 0o644);
    expect(() => readTokenFile(path)).toThrow(`chmod 600 ${path}`);
    chmodSync(path, 0o600);
    expect(readTokenFile(path)).toHaveLength(1);
  });

  it("authenticates exactly the listed tokens", async () => {
    const authenticator = createTokenFileAuthenticator(
      parseTokenFile(`${annToken},ann,desk\n${bobToken},bob\n`, "t"),
    );
    expect(await authenticator.authenticate(annToken)).toEqual({ user: "ann", groups: ["desk"] });
    expect(await authenticator.authenticate(bobToken)).toEqual({ user: "bob", groups: [] });
    expect(await authenticator.authenticate(annToken.slice(1))).toBeUndefined();
    expect(await authenticator.authenticate(`${annToken}a`)).toBeUndefined();
    expect(await authenticator.authenticate("")).toBeUndefined();
  });
});
