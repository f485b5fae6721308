/**
 * Signing in to the console with OIDC, in Chromium, at a real OpenID provider (panva's
 * oidc-provider, certified, in this process on a loopback port): the authorization code flow with
 * PKCE as a public client, the ID token the console then sends verified by the gateway's own OIDC
 * authenticator (signature against the provider's JWKS, issuer, audience), and refusals said
 * plainly: an answer this tab did not ask for, a sign-in the provider refused.
 */
import { createOidcAuthenticator } from "@freehold/gateway";
import { buildConsole, consoleDirectory } from "@freehold/console";
import { freePort } from "@freehold/handoff";
import { exportJWK, generateKeyPair } from "jose";
import type { Server } from "node:http";
import Provider, { type ClientMetadata } from "oidc-provider";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "../../packages/gateway/test/harness.ts";
import { axeViolations, launchChromium } from "../fixtures/browser.ts";

const clientId = "freehold-console";
let harness: Harness;
let issuer: string;
let provider: Server;
let browser: Browser;

beforeAll(async () => {
  await buildConsole();
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  harness = await startHarness({
    authenticators: [createOidcAuthenticator({ issuer, audience: clientId })],
    gateway: { console: { directory: consoleDirectory, oidc: { issuer, clientId, scopes: ["groups"] } } },
  });
  const client: ClientMetadata = {
    client_id: clientId,
    token_endpoint_auth_method: "none",
    application_type: "web",
    redirect_uris: [`${harness.url}/`],
    grant_types: ["authorization_code"],
    response_types: ["code"],
  };
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const oidc = new Provider(issuer, {
    clients: [client],
    // The console's page calls the token endpoint from the gateway's origin.
    clientBasedCORS: (_context, origin) => origin === new URL(harness.url).origin,
    pkce: { required: () => true },
    scopes: ["openid", "groups"],
    claims: { openid: ["sub"], groups: ["groups"] },
    conformIdTokenClaims: false,
    findAccount: (_context, sub) => ({
      accountId: sub,
      claims: () => ({ sub, groups: sub === "ann" ? ["testers"] : [] }),
    }),
    cookies: { keys: ["a-cookie-key-for-the-test-provider-only"] },
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: "test", alg: "RS256", use: "sig" }] },
    ttl: {
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      AccessToken: 600,
      IdToken: 600,
      AuthorizationCode: 60,
    },
    features: { devInteractions: { enabled: true } },
  });
  provider = oidc.listen(port, "127.0.0.1");
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser.close();
  await harness.close();
  await new Promise((resolve) => provider.close(resolve));
});

async function freshPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  return context.newPage();
}

describe("the console's OIDC sign-in", () => {
  it("signs a person in at the provider with PKCE; the gateway takes the ID token", async () => {
    const page = await freshPage();
    await page.goto(`${harness.url}/#/agents`);
    const button = page.getByRole("button", { name: `Sign in with 127.0.0.1:${new URL(issuer).port}` });
    await expect.poll(() => button.isVisible(), { timeout: 10_000 }).toBe(true);
    const serious = (await axeViolations(page)).filter((violation) =>
      ["serious", "critical"].includes(violation.impact ?? ""),
    );
    expect(serious).toEqual([]);
    await button.click();

    // The provider's own pages: who are you, then may the console know it.
    await page.waitForURL((url) => url.origin === issuer);
    const authorize = new URL(page.url());
    expect(authorize.pathname).toMatch(/^\/interaction\//);
    await page.locator('input[name="login"]').fill("ann");
    await page.locator('input[name="password"]').fill("any password");
    await page.locator('button[type="submit"]').click();
    await page.locator('button[type="submit"]').click();

    // Back on the console, signed in, the code and state gone from the address bar.
    await page.waitForURL((url) => url.origin === new URL(harness.url).origin);
    await expect
      .poll(() => page.getByRole("button", { name: "Sign out" }).isVisible(), { timeout: 10_000 })
      .toBe(true);
    expect(page.url()).not.toMatch(/[?&](code|state)=/);
    await page.goto(`${harness.url}/#/agents`);
    await expect.poll(() => page.getByRole("heading", { name: /Agents in/ }).isVisible()).toBe(true);
    await expect.poll(() => page.getByText("No agent has a worker in default yet.").isVisible()).toBe(true);
    expect(await page.getByRole("alert").count()).toBe(0);
    // What the gateway saw: ann of the provider, by the ID token in session storage.
    const token = await page.evaluate(() => sessionStorage.getItem("freehold.token"));
    const claims = JSON.parse(Buffer.from((token ?? "").split(".")[1] ?? "", "base64url").toString()) as {
      sub: string;
      aud: string;
      iss: string;
      groups: string[];
    };
    expect(claims).toMatchObject({ sub: "ann", aud: clientId, iss: issuer, groups: ["testers"] });
    const agents = await fetch(`${harness.url}/v1/namespaces/default/agents`, {
      headers: { authorization: `Bearer ${token ?? ""}` },
    });
    expect(agents.status).toBe(200);
  });

  it("refuses an answer this tab did not ask for, and says a refusal at the provider plainly", async () => {
    const page = await freshPage();
    await page.goto(`${harness.url}/?code=made-up&state=made-up`);
    await expect
      .poll(() => page.getByRole("alert").innerText(), { timeout: 10_000 })
      .toBe("this sign-in was not started here; sign in again");
    expect(page.url()).toBe(`${harness.url}/`);
    await page.goto(`${harness.url}/?error=access_denied&error_description=the+person+said+no`);
    await expect
      .poll(() => page.getByRole("alert").innerText(), { timeout: 10_000 })
      .toBe("sign-in was refused: the person said no");
    expect(await page.evaluate(() => sessionStorage.getItem("freehold.token"))).toBeNull();
  });
});
