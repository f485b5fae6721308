/**
 * The console's files, served by a real gateway: the page under its strict policy, hashed assets
 * cached, nothing outside the built set reachable, and the API behind it as closed as before.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleContentSecurityPolicy } from "../src/index.ts";
import { startHarness, type Harness } from "./harness.ts";

function builtConsole(): string {
  const directory = mkdtempSync(join(tmpdir(), "freehold-console-"));
  mkdirSync(join(directory, "assets"));
  writeFileSync(
    join(directory, "index.html"),
    '<!doctype html><script type="module" src="/assets/app-1a2b.js"></script>',
  );
  writeFileSync(join(directory, "assets", "app-1a2b.js"), "console.log('console');\n");
  writeFileSync(join(directory, "assets", "app-1a2b.css"), "body { margin: 0 }\n");
  writeFileSync(join(directory, ".fingerprint"), "secret-ish build detail");
  return directory;
}

describe("the console's files", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ gateway: { console: { directory: builtConsole() } } });
  });
  afterAll(async () => {
    await harness.close();
  });

  it("serves the page at / without a token, under a strict policy, never cached", async () => {
    for (const path of ["/", "/index.html"]) {
      const response = await fetch(`${harness.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      const policy = consoleContentSecurityPolicy();
      expect(response.headers.get("content-security-policy")).toBe(policy);
      expect(policy).toContain("script-src 'self'");
      expect(policy).toContain("connect-src 'self';");
      expect(policy).not.toContain("unsafe");
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("cache-control")).toBe("no-cache");
      expect(await response.text()).toContain("/assets/app-1a2b.js");
    }
  });

  it("tells the page to take a pasted token when no OIDC client is set", async () => {
    const config = await fetch(`${harness.url}/console-config.json`);
    expect(config.status).toBe(200);
    expect(config.headers.get("cache-control")).toBe("no-cache");
    expect(await config.json()).toEqual({});
  });

  it("serves hashed assets cached for good, answers HEAD and If-None-Match", async () => {
    const script = await fetch(`${harness.url}/assets/app-1a2b.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(script.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const etag = script.headers.get("etag") ?? "";
    expect(etag).toMatch(/^".+"$/);
    expect(await script.text()).toBe("console.log('console');\n");
    const style = await fetch(`${harness.url}/assets/app-1a2b.css`);
    expect(style.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const head = await fetch(`${harness.url}/assets/app-1a2b.js`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const again = await fetch(`${harness.url}/assets/app-1a2b.js`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
  });

  it("serves nothing else: no other file, no dotfile, no way out of the folder, no other method", async () => {
    for (const path of [
      "/.fingerprint",
      "/assets/missing.js",
      "/assets/%2e%2e/%2e%2e/etc/passwd",
      "/assets/..%2f..%2fetc%2fpasswd",
      "/..%2f..%2fetc%2fpasswd",
      "/etc/passwd",
    ]) {
      const response = await fetch(`${harness.url}${path}`);
      // Not a console file: on to the API, which wants a token first.
      expect([401, 404], path).toContain(response.status);
      expect(await response.text(), path).not.toContain("console.log");
    }
    const posted = await fetch(`${harness.url}/`, {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    expect(posted.status).toBe(401);
  });

  it("leaves the API as closed as before", async () => {
    const anonymous = await fetch(`${harness.url}/v1/namespaces/acme/agents`);
    expect(anonymous.status).toBe(401);
    const signed = await fetch(`${harness.url}/v1/namespaces/acme/agents`, {
      headers: { authorization: `Bearer ${harness.tokens.get("tester") ?? ""}` },
    });
    expect(signed.status).toBe(200);
  });
});

describe("a console that signs people in with OIDC", () => {
  it("names the issuer and the client, and lets the page reach the issuer's origin only", async () => {
    const harness = await startHarness({
      gateway: {
        console: {
          directory: builtConsole(),
          oidc: {
            issuer: "https://login.example.com/realms/acme",
            clientId: "freehold-console",
            scopes: ["groups"],
          },
        },
      },
    });
    try {
      expect(await (await fetch(`${harness.url}/console-config.json`)).json()).toEqual({
        oidc: {
          issuer: "https://login.example.com/realms/acme",
          clientId: "freehold-console",
          scopes: ["openid", "groups"],
        },
      });
      const page = await fetch(`${harness.url}/`);
      expect(page.headers.get("content-security-policy")).toContain(
        "connect-src 'self' https://login.example.com;",
      );
    } finally {
      await harness.close();
    }
  });
});

describe("a gateway without a built console", () => {
  it("refuses to start with a folder that has no page, and says how to build it", async () => {
    const empty = mkdtempSync(join(tmpdir(), "freehold-console-"));
    await expect(startHarness({ gateway: { console: { directory: empty } } })).rejects.toMatchObject({
      code: "gateway.console-missing",
      message: expect.stringContaining("node packages/console/scripts/build.ts") as unknown,
    });
  });

  it("serves no page when the console is off", async () => {
    const harness = await startHarness();
    try {
      expect((await fetch(`${harness.url}/`)).status).toBe(401);
    } finally {
      await harness.close();
    }
  });
});
