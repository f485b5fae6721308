/**
 * Attacks on the gateway's authentication and authorization, over real HTTP on loopback with a
 * real Redis and real workers: two tenants (acme, globex) bound by a policy file to the chart's
 * tenant roles, a token file, and OIDC JWTs verified against a JWKS served by a local HTTP server
 * with keys made by jose here. Each case asserts the status and that nothing changed in Redis.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ApprovalItem, InboxItem, RunState } from "@freehold/api";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startCounterServer, type CounterServer } from "../../../test/fixtures/mcp/counter-server.ts";
import { createOidcAuthenticator, type Policy } from "../src/index.ts";
import { request, startHarness, waitForStatus, world, type Harness } from "./harness.ts";

const audience = "freehold";

/** A local OIDC issuer: discovery document and JWKS over HTTP. */
interface Issuer {
  readonly url: string;
  readonly privateKey: CryptoKey;
  close(): Promise<void>;
}

async function startIssuer(): Promise<Issuer> {
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  let url = "";
  const server: Server = createServer((incoming, outgoing) => {
    outgoing.setHeader("content-type", "application/json");
    if (incoming.url === "/.well-known/openid-configuration") {
      outgoing.end(JSON.stringify({ issuer: url, jwks_uri: `${url}/jwks` }));
    } else if (incoming.url === "/jwks") {
      outgoing.end(JSON.stringify({ keys: [jwk] }));
    } else {
      outgoing.statusCode = 404;
      outgoing.end("{}");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    privateKey,
    close: () =>
      new Promise((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  };
}

let harness: Harness;
let issuer: Issuer;
let counter: CounterServer;

/** acme: alice admin, bob a member, the billing-desk group members; globex: gina a member. */
const policy: Policy = {
  bindings: [
    { namespace: "acme", role: "admin", subjects: [{ user: "alice" }] },
    { namespace: "acme", role: "member", subjects: [{ user: "bob" }, { group: "billing-desk" }] },
    { namespace: "globex", role: "admin", subjects: [{ user: "greta" }] },
    { namespace: "globex", role: "member", subjects: [{ user: "gina" }] },
  ],
};

/** Every key of a namespace with its content: what "nothing changed" compares. */
async function snapshot(namespace: string): Promise<Record<string, unknown>> {
  const redis = harness.connection;
  // The workers' sweeper lock comes and goes on its own.
  const keys = (await redis.keys(`freehold:${namespace}:*`))
    .filter((key) => !key.endsWith(":sweeper"))
    .sort();
  const entries: [string, unknown][] = [];
  for (const key of keys) {
    const type = await redis.type(key);
    if (type === "string") entries.push([key, await redis.get(key)]);
    else if (type === "hash") entries.push([key, await redis.hgetall(key)]);
    else if (type === "zset") entries.push([key, await redis.zrange(key, "0", "-1", "WITHSCORES")]);
    else if (type === "set") entries.push([key, (await redis.smembers(key)).sort()]);
    else if (type === "list") entries.push([key, await redis.lrange(key, 0, -1)]);
    else if (type === "stream") entries.push([key, await redis.xlen(key)]);
    else entries.push([key, type]);
  }
  return Object.fromEntries(entries);
}

/** Runs `attack`, then checks its status and that neither namespace changed. */
async function refused(
  attack: () => Promise<{ status: number; body: unknown; headers: Headers }>,
  status: number,
  code?: string,
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const before = [await snapshot("acme"), await snapshot("globex")];
  const response = await attack();
  expect(response.status).toBe(status);
  if (code !== undefined) expect(response.body).toMatchObject({ code });
  expect([await snapshot("acme"), await snapshot("globex")]).toEqual(before);
  return response;
}

const turns = [
  {
    match: { contains: "refund" },
    toolCalls: [
      {
        name: "transfer_to_human_billing-desk",
        arguments: { summary: "Wants a refund.", reason: "Refunds need a person.", priority: "high" },
      },
    ],
  },
  { match: { toolName: "add" }, text: "The sum is 5." },
  { match: { contains: "add" }, text: "Adding.", toolCalls: [{ name: "add", arguments: { a: 2, b: 3 } }] },
];
/** Each turn is answered once: enough of them for every run of the suite. */
const script = Array.from({ length: 10 }, () => turns).flat();

function agents(): Record<string, Record<string, unknown>> {
  return {
    billing: {
      handoffs: [{ humanQueue: "billing-desk" }],
      tools: [{ mcpServer: "counter", allow: ["add"], requireApproval: ["add"] }],
    },
    petty: {
      tools: [{ mcpServer: "counter", allow: ["add"], requireApproval: ["add"], allowSelfApproval: true }],
    },
  };
}

async function sign(
  claims: Record<string, unknown>,
  options: { key?: CryptoKey; issuer?: string; audience?: string; expiresIn?: string | number } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: "k1" })
    .setIssuer(options.issuer ?? issuer.url)
    .setAudience(options.audience ?? audience)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "5m")
    .sign(options.key ?? issuer.privateKey);
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** Starts a run as `user` and waits until it has `status`. */
async function started(
  user: string,
  agent: string,
  input: string,
  status: RunState["status"],
): Promise<RunState> {
  const response = await request(harness, "POST", `/v1/namespaces/acme/agents/${agent}/runs`, {
    user,
    body: { input },
  });
  expect(response.status).toBe(201);
  const runId = (response.body as RunState).id;
  return vi.waitFor(
    async () => {
      const run = await harness.store.require("acme", runId);
      if (run.status !== status) throw new Error(`run ${runId} is ${run.status}, not ${status} yet`);
      return run;
    },
    { timeout: 20_000, interval: 50 },
  );
}

let waitingRun: RunState;
let item: InboxItem;
let approvalRun: RunState;
let approval: ApprovalItem;

beforeAll(async () => {
  issuer = await startIssuer();
  counter = await startCounterServer({ transport: "http" });
  harness = await startHarness({
    people: { alice: [], bob: [], ann: ["billing-desk"], gina: [], greta: [] },
    policy,
    authenticators: [createOidcAuthenticator({ issuer: issuer.url, audience, clockToleranceSeconds: 5 })],
  });
  const desk = { "billing-desk": { description: "Billing.", members: [{ group: "billing-desk" }] } };
  for (const namespace of ["acme", "globex"]) {
    await world(harness, script, agents(), {
      namespace,
      humanQueues: desk,
      mcpServers: { counter: counter.url },
    });
  }
  waitingRun = await started("bob", "billing", "I want a refund", "waiting_for_human");
  const items = await harness.connection.keys("freehold:acme:*:inbox:item:*");
  expect(items).toHaveLength(1);
  item = JSON.parse((await harness.connection.get(items[0] ?? "")) ?? "") as InboxItem;
  approvalRun = await started("ann", "billing", "Please add 2 and 3", "waiting_for_approval");
  const listed = await request(harness, "GET", "/v1/namespaces/acme/approvals", { user: "alice" });
  approval = (listed.body as { items: ApprovalItem[] }).items[0] as ApprovalItem;
  expect(approval.runId).toBe(approvalRun.id);
});

afterAll(async () => {
  await harness.close();
  await counter.close();
  await issuer.close();
});

describe("authentication", () => {
  const start = "/v1/namespaces/acme/agents/billing/runs";

  it("refuses a request without a token: 401 with WWW-Authenticate, nothing started", async () => {
    const response = await refused(
      () => request(harness, "POST", start, { user: null, body: { input: "hi" } }),
      401,
      "auth.unauthenticated",
    );
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="freehold"');
  });

  it("refuses an unknown token with error=invalid_token", async () => {
    const response = await refused(
      () => request(harness, "POST", start, { headers: bearer("0".repeat(48)), body: { input: "hi" } }),
      401,
      "auth.unauthenticated",
    );
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="freehold", error="invalid_token"');
  });

  it("refuses a prefix of a real token and a token with a character changed", async () => {
    const real = harness.tokens.get("alice") ?? "";
    await refused(
      () => request(harness, "GET", "/v1/namespaces/acme/agents", { headers: bearer(real.slice(0, -1)) }),
      401,
    );
    const changed = `${real.slice(0, -1)}${real.endsWith("0") ? "1" : "0"}`;
    await refused(
      () => request(harness, "GET", "/v1/namespaces/acme/agents", { headers: bearer(changed) }),
      401,
    );
  });

  it("refuses another scheme (Basic) carrying a valid token", async () => {
    const token = harness.tokens.get("alice") ?? "";
    await refused(
      () =>
        request(harness, "POST", start, {
          headers: { authorization: `Basic ${Buffer.from(`alice:${token}`).toString("base64")}` },
          body: { input: "hi" },
        }),
      401,
    );
  });

  it("ignores identity headers: X-Freehold-User without a token is a 401, with bob's token it is bob", async () => {
    const spoofed = { "x-freehold-user": "alice", "x-remote-user": "alice", "x-forwarded-user": "alice" };
    await refused(
      () =>
        request(harness, "POST", `/v1/namespaces/acme/runs/${waitingRun.id}/cancel`, {
          user: null,
          headers: spoofed,
        }),
      401,
    );
    // bob is a member: he may not cancel, whatever the headers say.
    await refused(
      () =>
        request(harness, "POST", `/v1/namespaces/acme/runs/${waitingRun.id}/cancel`, {
          user: "bob",
          headers: spoofed,
        }),
      403,
      "auth.forbidden",
    );
  });

  it("answers 401 for unknown paths and the OpenAPI document without a token; health stays open", async () => {
    await refused(() => request(harness, "GET", "/v1/no/such/route", { user: null }), 401);
    await refused(() => request(harness, "GET", "/openapi.json", { user: null }), 401);
    expect((await request(harness, "GET", "/healthz", { user: null })).status).toBe(200);
    expect((await request(harness, "GET", "/readyz", { user: null })).status).toBe(200);
  });

  it("accepts a JWT of the issuer, with groups from its claim", async () => {
    const token = await sign({ sub: "olga", groups: ["billing-desk"] });
    const listed = await request(harness, "GET", "/v1/namespaces/acme/humanqueues/billing-desk/items", {
      user: null,
      headers: bearer(token),
    });
    expect(listed).toMatchObject({ status: 200, body: { items: [{ id: item.id }] } });
  });

  it("refuses an expired JWT (past the clock tolerance)", async () => {
    const token = await sign({ sub: "alice" }, { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    await refused(
      () => request(harness, "POST", start, { user: null, headers: bearer(token), body: { input: "hi" } }),
      401,
    );
  });

  it("refuses a JWT for another audience", async () => {
    const token = await sign({ sub: "alice" }, { audience: "someone-else" });
    await refused(
      () => request(harness, "POST", start, { user: null, headers: bearer(token), body: { input: "hi" } }),
      401,
    );
  });

  it("refuses a JWT of another issuer", async () => {
    const token = await sign({ sub: "alice" }, { issuer: "https://evil.example" });
    await refused(
      () => request(harness, "POST", start, { user: null, headers: bearer(token), body: { input: "hi" } }),
      401,
    );
  });

  it("refuses an unsigned JWT (alg none)", async () => {
    const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const token = `${encode({ alg: "none", typ: "JWT" })}.${encode({ sub: "alice", iss: issuer.url, aud: audience, exp: now + 300 })}.`;
    await refused(
      () => request(harness, "POST", start, { user: null, headers: bearer(token), body: { input: "hi" } }),
      401,
    );
  });

  it("refuses a JWT signed by another key under the issuer's key id", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    const token = await sign({ sub: "alice" }, { key: privateKey });
    await refused(
      () => request(harness, "POST", start, { user: null, headers: bearer(token), body: { input: "hi" } }),
      401,
    );
  });

  it("refuses an HS256 JWT (no HMAC with a public key)", async () => {
    const token = await new SignJWT({ sub: "alice" })
      .setProtectedHeader({ alg: "HS256", kid: "k1" })
      .setIssuer(issuer.url)
      .setAudience(audience)
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode("a shared secret the attacker knows, 32+ bytes long"));
    await refused(
      () => request(harness, "POST", start, { user: null, headers: bearer(token), body: { input: "hi" } }),
      401,
    );
  });
});

describe("another tenant's namespace looks empty (404)", () => {
  it("gina of globex cannot start, read, follow or cancel acme's runs", async () => {
    await refused(
      () =>
        request(harness, "POST", "/v1/namespaces/acme/agents/billing/runs", {
          user: "gina",
          body: { input: "hi" },
        }),
      404,
    );
    await refused(() => request(harness, "GET", "/v1/namespaces/acme/agents", { user: "gina" }), 404);
    const existing = await refused(
      () => request(harness, "GET", `/v1/namespaces/acme/runs/${waitingRun.id}`, { user: "gina" }),
      404,
      "run.not-found",
    );
    const missing = await refused(
      () => request(harness, "GET", "/v1/namespaces/acme/runs/no-such-run", { user: "gina" }),
      404,
    );
    // The same answer whether the run exists or not.
    expect((existing.body as { message: string }).message.replace(waitingRun.id, "X")).toBe(
      (missing.body as { message: string }).message.replace("no-such-run", "X"),
    );
    await refused(
      () =>
        request(harness, "GET", `/v1/namespaces/acme/runs/${waitingRun.id}/events?follow=false`, {
          user: "gina",
        }),
      404,
    );
    await refused(
      () => request(harness, "POST", `/v1/namespaces/acme/runs/${waitingRun.id}/cancel`, { user: "gina" }),
      404,
    );
  });

  it("gina cannot list, find, claim or answer acme's inbox items", async () => {
    const base = `/v1/namespaces/acme/humanqueues/billing-desk/items`;
    await refused(() => request(harness, "GET", base, { user: "gina" }), 404);
    await refused(
      () => request(harness, "GET", `/v1/namespaces/acme/inbox/items/${item.id}`, { user: "gina" }),
      404,
    );
    await refused(() => request(harness, "POST", `${base}/${item.id}/claim`, { user: "gina" }), 404);
    await refused(
      () => request(harness, "POST", `${base}/${item.id}/answer`, { user: "gina", body: { message: "Hi" } }),
      404,
    );
  });

  it("gina cannot list, read or decide acme's approvals", async () => {
    await refused(() => request(harness, "GET", "/v1/namespaces/acme/approvals", { user: "gina" }), 404);
    await refused(
      () => request(harness, "GET", `/v1/namespaces/acme/approvals/${approval.id}`, { user: "gina" }),
      404,
    );
    await refused(
      () =>
        request(harness, "POST", `/v1/namespaces/acme/approvals/${approval.id}/decision`, {
          user: "gina",
          body: { approve: true },
        }),
      404,
    );
  });

  it("the admin of globex is a stranger in acme too", async () => {
    await refused(
      () => request(harness, "POST", `/v1/namespaces/acme/runs/${waitingRun.id}/cancel`, { user: "greta" }),
      404,
    );
  });
});

describe("inside the tenant: roles and queue members", () => {
  const base = `/v1/namespaces/acme/humanqueues/billing-desk/items`;

  it("bob, a member but not of the billing desk, may neither see nor work its items (403)", async () => {
    await refused(() => request(harness, "GET", base, { user: "bob" }), 403, "auth.forbidden");
    await refused(
      () => request(harness, "GET", `${base}/${item.id}`, { user: "bob" }),
      403,
      "auth.forbidden",
    );
    await refused(
      () => request(harness, "GET", `/v1/namespaces/acme/inbox/items/${item.id}`, { user: "bob" }),
      403,
    );
    await refused(
      () => request(harness, "POST", `${base}/${item.id}/claim`, { user: "bob" }),
      403,
      "auth.forbidden",
    );
    await refused(
      () => request(harness, "POST", `${base}/${item.id}/answer`, { user: "bob", body: { message: "Hi" } }),
      403,
    );
    await refused(
      () => request(harness, "POST", `${base}/${item.id}/hand-back`, { user: "bob", body: { note: "x" } }),
      403,
    );
  });

  it("members may not cancel runs (delete runs is the admin's): 403, the run goes on waiting", async () => {
    await refused(
      () => request(harness, "POST", `/v1/namespaces/acme/runs/${waitingRun.id}/cancel`, { user: "ann" }),
      403,
    );
    expect((await harness.store.require("acme", waitingRun.id)).status).toBe("waiting_for_human");
  });

  it("ann, on the desk, sees the item; a claim is recorded under her authenticated name", async () => {
    expect(await request(harness, "GET", base, { user: "ann" })).toMatchObject({ status: 200 });
    const claimed = await request(harness, "POST", `${base}/${item.id}/claim`, {
      user: "ann",
      headers: { "x-freehold-user": "alice" },
    });
    expect(claimed).toMatchObject({ status: 200, body: { claimedBy: "ann" } });
    expect(await request(harness, "POST", `${base}/${item.id}/release`, { user: "ann" })).toMatchObject({
      status: 200,
      body: { status: "waiting" },
    });
  });
});

describe("separation of duties", () => {
  it("the person who started a run cannot approve its tool call (403); another member can", async () => {
    const decision = `/v1/namespaces/acme/approvals/${approval.id}/decision`;
    await refused(
      () => request(harness, "POST", decision, { user: "ann", body: { approve: true } }),
      403,
      "auth.forbidden",
    );
    // Not even an admin who started it... but alice did not: she may.
    const decided = await request(harness, "POST", decision, { user: "bob", body: { approve: true } });
    expect(decided.status).toBe(200);
    await waitForStatus(harness, "acme", approvalRun.id, "completed");
  });

  it("an admin who started a run cannot approve it either", async () => {
    const run = await started("alice", "billing", "Please add 2 and 3", "waiting_for_approval");
    const listed = await request(harness, "GET", "/v1/namespaces/acme/approvals", { user: "alice" });
    const own = (listed.body as { items: ApprovalItem[] }).items.find((entry) => entry.runId === run.id);
    await refused(
      () =>
        request(harness, "POST", `/v1/namespaces/acme/approvals/${own?.id ?? ""}/decision`, {
          user: "alice",
          body: { approve: true },
        }),
      403,
      "auth.forbidden",
    );
  });

  it("allowSelfApproval on the tool entry lets the starter decide", async () => {
    const run = await started("ann", "petty", "Please add 2 and 3", "waiting_for_approval");
    const listed = await request(harness, "GET", "/v1/namespaces/acme/approvals?agent=petty", {
      user: "ann",
    });
    const own = (listed.body as { items: ApprovalItem[] }).items.find((entry) => entry.runId === run.id);
    const decided = await request(
      harness,
      "POST",
      `/v1/namespaces/acme/approvals/${own?.id ?? ""}/decision`,
      {
        user: "ann",
        body: { approve: true },
      },
    );
    expect(decided.status).toBe(200);
    await waitForStatus(harness, "acme", run.id, "completed");
  });

  it("a second start with the id of someone else's run does not take it over", async () => {
    const run = await started("alice", "billing", "Please add 2 and 3", "waiting_for_approval");
    await refused(
      () =>
        request(harness, "POST", "/v1/namespaces/acme/agents/billing/runs", {
          user: "bob",
          body: { input: "Please add 2 and 3", runId: run.id },
        }),
      409,
    );
    const listed = await request(harness, "GET", "/v1/namespaces/acme/approvals", { user: "alice" });
    const own = (listed.body as { items: ApprovalItem[] }).items.find((entry) => entry.runId === run.id);
    // bob is still not the starter: he may decide; alice, who started it, may not.
    await refused(
      () =>
        request(harness, "POST", `/v1/namespaces/acme/approvals/${own?.id ?? ""}/decision`, {
          user: "alice",
          body: { approve: true },
        }),
      403,
    );
    const decided = await request(
      harness,
      "POST",
      `/v1/namespaces/acme/approvals/${own?.id ?? ""}/decision`,
      {
        user: "bob",
        body: { approve: false, reason: "no" },
      },
    );
    expect(decided.status).toBe(200);
  });
});
