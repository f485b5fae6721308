/**
 * The gateway's edge over real HTTP on loopback, with a real Redis: every refusal asserts its
 * status and that nothing changed in Redis (no run stored, no run cancelled). JSON bodies only,
 * Origin and CORS, Host on a loopback gateway, path ids, rate limits per identity, A2A exposure
 * and task ownership, the agent card's URL, the blocking message/send timeout, the cap of event
 * streams per identity.
 */
import { request as httpRequest } from "node:http";
import { approvalItemKey, approvalsKey, createAgentRegistry } from "@freehold/handoff";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorization, idleAgent, request, startHarness, type Harness } from "./harness.ts";

const publicUrl = "https://freehold.example.com/";
const console = "https://console.example.com";

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({
    people: { mallory: ["outsiders"] },
    gateway: {
      publicUrl,
      a2aSendTimeoutMs: 300,
      edge: { allowedOrigins: [console], requestsPerSecond: 1000, burst: 10_000, maxStreamsPerCaller: 2 },
    },
  });
});

afterAll(async () => {
  await harness.close();
});

/** The runs stored in a namespace. */
async function storedRuns(namespace: string): Promise<string[]> {
  return (await harness.connection.keys(`freehold:${namespace}:run:*`)).filter(
    // Run hashes, not a run's events, messages or other keys under it.
    (key) => /^freehold:[^:]+:run:[^:]+$/.test(key),
  );
}

/** A request with headers fetch will not send as given (Host), over node:http. */
function rawRequest(
  url: string,
  options: { method: string; headers: Record<string, string>; body?: string },
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { method: options.method, headers: options.headers }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => {
        resolve({ status: response.statusCode ?? 0, body, headers: response.headers });
      });
    });
    outgoing.on("error", reject);
    outgoing.end(options.body);
  });
}

function startPath(namespace: string): string {
  return `/v1/namespaces/${namespace}/agents/idle/runs`;
}

describe("JSON bodies only", () => {
  it("refuses a text/plain POST with 415 and stores no run", async () => {
    const namespace = await idleAgent(harness);
    const response = await fetch(`${harness.url}${startPath(namespace)}`, {
      method: "POST",
      headers: { ...authorization(harness), "content-type": "text/plain" },
      body: JSON.stringify({ input: "hi", runId: "plain" }),
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ code: "request.unsupported-media-type" });
    expect(await storedRuns(namespace)).toEqual([]);
  });

  it("refuses a form POST and a body without a content type with 415, and stores no run", async () => {
    const namespace = await idleAgent(harness);
    const form = await fetch(`${harness.url}${startPath(namespace)}`, {
      method: "POST",
      headers: authorization(harness),
      body: new URLSearchParams({ input: "hi", runId: "form" }),
    });
    expect(form.status).toBe(415);
    const untyped = await rawRequest(`${harness.url}${startPath(namespace)}`, {
      method: "POST",
      headers: { ...authorization(harness), "content-length": "13" },
      body: '{"input":"x"}',
    });
    expect(untyped.status).toBe(415);
    expect(await storedRuns(namespace)).toEqual([]);
    const json = await request(harness, "POST", startPath(namespace), { body: { input: "hi" } });
    expect(json.status).toBe(201);
  });
});

describe("Origin and CORS", () => {
  it("refuses a foreign Origin with 403 on any method, and stores no run", async () => {
    const namespace = await idleAgent(harness);
    const post = await request(harness, "POST", startPath(namespace), {
      body: { input: "hi" },
      headers: { origin: "https://evil.example" },
    });
    expect(post).toMatchObject({ status: 403, body: { code: "request.origin-forbidden" } });
    const get = await request(harness, "GET", `/v1/namespaces/${namespace}/agents`, {
      headers: { origin: "null" },
    });
    expect(get.status).toBe(403);
    expect(await storedRuns(namespace)).toEqual([]);
  });

  it("answers a preflight only for an allowed origin, and gives its responses the CORS headers", async () => {
    const namespace = await idleAgent(harness);
    const preflight = (origin: string) =>
      fetch(`${harness.url}${startPath(namespace)}`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type",
        },
      });
    const foreign = await preflight("https://evil.example");
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
    const allowed = await preflight(console);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(console);
    expect(allowed.headers.get("access-control-allow-headers")).toMatch(/Authorization/);
    const started = await request(harness, "POST", startPath(namespace), {
      body: { input: "hi" },
      headers: { origin: console },
    });
    expect(started.status).toBe(201);
    expect(started.headers.get("access-control-allow-origin")).toBe(console);
  });
});

describe("Host on a loopback gateway", () => {
  it("refuses a rebound Host with 421 and stores no run; loopback names with the port pass", async () => {
    const namespace = await idleAgent(harness);
    const port = new URL(harness.url).port;
    const send = (host: string) =>
      rawRequest(`${harness.url}${startPath(namespace)}`, {
        method: "POST",
        headers: { ...authorization(harness), host, "content-type": "application/json" },
        body: JSON.stringify({ input: "hi" }),
      });
    for (const host of [
      `evil.example:${port}`,
      "localhost",
      `localhost:1`,
      `127.0.0.1.evil.example:${port}`,
    ]) {
      const refused = await send(host);
      expect(refused.status).toBe(421);
      expect(JSON.parse(refused.body)).toMatchObject({ code: "request.misdirected" });
    }
    expect(await storedRuns(namespace)).toEqual([]);
    expect((await send(`localhost:${port}`)).status).toBe(201);
    expect((await send(`127.0.0.1:${port}`)).status).toBe(201);
  });
});

describe("path ids", () => {
  it("refuses an id with ':' with 400 naming the parameter, and cancels nothing", async () => {
    const namespace = await idleAgent(harness);
    await request(harness, "POST", startPath(namespace), { body: { input: "hi", runId: "r1" } });
    const cancel = await request(harness, "POST", `/v1/namespaces/${namespace}/runs/r1:x/cancel`);
    expect(cancel).toMatchObject({
      status: 400,
      body: { code: "request.invalid", details: { in: "path", issues: [{ field: "runId" }] } },
    });
    expect((cancel.body as { message: string }).message).toMatch(/^invalid path parameter: runId: /);
    const encoded = await request(harness, "POST", `/v1/namespaces/${namespace}/runs/r1%3Ax/cancel`);
    expect(encoded.status).toBe(400);
    const item = await request(harness, "GET", `/v1/namespaces/${namespace}/inbox/items/${"a".repeat(201)}`);
    expect(item).toMatchObject({ status: 400, body: { details: { issues: [{ field: "itemId" }] } } });
    expect((await harness.store.require(namespace, "r1")).status).toBe("queued");
  });
});

describe("A2A exposure", () => {
  it("answers 404 for the card and JSON-RPC of an agent that is not exposed, and starts no run", async () => {
    const namespace = await idleAgent(harness, "hidden", false);
    const card = await request(harness, "GET", `/a2a/${namespace}/hidden/.well-known/agent-card.json`);
    expect(card).toMatchObject({ status: 404, body: { code: "a2a.agent-not-found" } });
    const send = await request(harness, "POST", `/a2a/${namespace}/hidden`, {
      body: {
        jsonrpc: "2.0",
        id: 1,
        method: "message/send",
        params: {
          message: { kind: "message", role: "user", messageId: "m", parts: [{ kind: "text", text: "hi" }] },
        },
      },
    });
    expect(send).toMatchObject({ status: 404, body: { code: "a2a.agent-not-found" } });
    expect(await storedRuns(namespace)).toEqual([]);
  });

  it("refuses JSON-RPC from someone without a role in the namespace as not found, and starts or cancels nothing", async () => {
    const namespace = await idleAgent(harness, "billing");
    await request(harness, "POST", startPath(namespace).replace("/idle/", "/billing/"), {
      body: { input: "hi", runId: "r1" },
    });
    const message = { kind: "message", role: "user", messageId: "m", parts: [{ kind: "text", text: "hi" }] };
    for (const [method, params] of [
      ["message/send", { message }],
      ["tasks/get", { id: "r1" }],
      ["tasks/cancel", { id: "r1" }],
    ] as const) {
      const answer = await request(harness, "POST", `/a2a/${namespace}/billing`, {
        user: "mallory",
        body: { jsonrpc: "2.0", id: 1, method, params },
      });
      expect(answer.status).toBe(404);
      expect(JSON.stringify(answer.body)).not.toContain("r1");
    }
    expect(await storedRuns(namespace)).toHaveLength(1);
    expect((await harness.store.require(namespace, "r1")).status).toBe("queued");
  });

  it("refuses tasks/get, tasks/cancel and tasks/resubscribe of another agent's run as task not found", async () => {
    const namespace = await idleAgent(harness, "billing");
    await createAgentRegistry(harness.connection).register(namespace, { name: "support", a2a: true });
    await request(harness, "POST", `/v1/namespaces/${namespace}/agents/support/runs`, {
      body: { input: "private", runId: "support-run" },
    });
    for (const method of ["tasks/get", "tasks/cancel", "tasks/resubscribe"]) {
      const answer = await request(harness, "POST", `/a2a/${namespace}/billing`, {
        body: { jsonrpc: "2.0", id: method, method, params: { id: "support-run" } },
      });
      expect(answer).toMatchObject({ status: 200, body: { id: method, error: { code: -32001 } } });
      expect(JSON.stringify(answer.body)).not.toContain("private");
    }
    expect((await harness.store.require(namespace, "support-run")).status).toBe("queued");
    const own = await request(harness, "POST", `/a2a/${namespace}/support`, {
      body: { jsonrpc: "2.0", id: 1, method: "tasks/get", params: { id: "support-run" } },
    });
    expect(own.body).toMatchObject({ result: { id: "support-run", status: { state: "submitted" } } });
  });

  it("builds the card's URL from the public URL, whatever Host or forwarding headers say, and declares bearer auth", async () => {
    const namespace = await idleAgent(harness, "billing");
    const port = new URL(harness.url).port;
    const card = await rawRequest(`${harness.url}/a2a/${namespace}/billing/.well-known/agent-card.json`, {
      method: "GET",
      headers: {
        ...authorization(harness),
        host: `localhost:${port}`,
        "x-forwarded-host": "evil.example",
        "x-forwarded-proto": "http",
      },
    });
    expect(card.status).toBe(200);
    const body = JSON.parse(card.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      url: `https://freehold.example.com/a2a/${namespace}/billing`,
      additionalInterfaces: [{ url: `https://freehold.example.com/a2a/${namespace}/billing` }],
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      security: [{ bearer: [] }],
    });
    expect(card.body).not.toContain("evil.example");
    expect(card.body).not.toContain("localhost");
  });

  it("answers a blocking message/send that outlasts its timeout with the task as it is", async () => {
    const namespace = await idleAgent(harness, "slow");
    const sent = await request(harness, "POST", `/a2a/${namespace}/slow`, {
      body: {
        jsonrpc: "2.0",
        id: 1,
        method: "message/send",
        params: {
          message: { kind: "message", role: "user", messageId: "m", parts: [{ kind: "text", text: "hi" }] },
        },
      },
    });
    expect(sent).toMatchObject({
      status: 200,
      body: { result: { kind: "task", status: { state: "submitted" } } },
    });
  });
});

describe("event streams per identity", () => {
  it("refuses a stream past the caller's cap with 429 and Retry-After; another caller still gets one", async () => {
    const namespace = await idleAgent(harness);
    await request(harness, "POST", startPath(namespace), { body: { input: "hi", runId: "r1" } });
    const events = `${harness.url}/v1/namespaces/${namespace}/runs/r1/events`;
    const open = [
      await fetch(events, { headers: authorization(harness, "ann") }),
      await fetch(events, { headers: authorization(harness, "ann") }),
    ];
    expect(open.map((response) => response.status)).toEqual([200, 200]);
    const third = await fetch(events, { headers: authorization(harness, "ann") });
    expect(third.status).toBe(429);
    expect(third.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await third.json()).toMatchObject({ code: "events.too-many-streams" });
    const bob = await fetch(events, { headers: authorization(harness, "bob") });
    expect(bob.status).toBe(200);
    await bob.body?.cancel();
    await open[0]?.body?.cancel();
    await expect
      .poll(async () => {
        const again = await fetch(events, { headers: authorization(harness, "ann") });
        await again.body?.cancel();
        return again.status;
      })
      .toBe(200);
    await open[1]?.body?.cancel();
  });
});

describe("rate limits per identity", () => {
  it("refuses requests past the caller's rate with 429 and Retry-After, and stores no run; another caller passes", async () => {
    const limited = await startHarness({ gateway: { edge: { requestsPerSecond: 0.01, burst: 3 } } });
    try {
      const namespace = await idleAgent(limited);
      const statuses: number[] = [];
      for (let index = 0; index < 3; index++)
        statuses.push((await request(limited, "GET", `/v1/namespaces/${namespace}/agents`)).status);
      expect(statuses).toEqual([200, 200, 200]);
      const refused = await request(limited, "POST", `/v1/namespaces/${namespace}/agents/idle/runs`, {
        body: { input: "hi" },
      });
      expect(refused).toMatchObject({ status: 429, body: { code: "request.rate-limited" } });
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect((await limited.connection.keys(`freehold:${namespace}:run:*`)).length).toBe(0);
      const other = await request(limited, "POST", `/v1/namespaces/${namespace}/agents/idle/runs`, {
        body: { input: "hi" },
        user: "bob",
      });
      expect(other.status).toBe(201);
    } finally {
      await limited.close();
    }
  });
});

describe("lists", () => {
  it("pages approvals with a cursor: every item exactly once, in order; a page over 500 is a 400", async () => {
    const namespace = await idleAgent(harness);
    const created = Date.parse("2026-01-01T00:00:00Z");
    const pipeline = harness.connection.pipeline();
    const ids = Array.from({ length: 1234 }, (_, index) => `item-${String(index).padStart(4, "0")}`);
    for (const [index, id] of ids.entries()) {
      const createdAt = new Date(created + index * 1000).toISOString();
      const item = {
        schemaVersion: 1,
        id,
        namespace,
        agent: "idle",
        runId: `run-${index}`,
        toolCall: { id: `call-${index}`, name: "refund", arguments: "{}" },
        server: "billing-api",
        tool: "refund",
        arguments: {},
        reason: "",
        createdAt,
      };
      pipeline.set(approvalItemKey(namespace, id), JSON.stringify(item));
      pipeline.zadd(approvalsKey(namespace), Date.parse(createdAt), id);
    }
    await pipeline.exec();
    const path = `/v1/namespaces/${namespace}/approvals`;
    const tooLarge = await request(harness, "GET", `${path}?limit=501`);
    expect(tooLarge).toMatchObject({
      status: 400,
      body: { code: "request.invalid", details: { issues: [{ field: "limit" }] } },
    });
    expect((await request(harness, "GET", `${path}?limit=0`)).status).toBe(400);
    expect((await request(harness, "GET", `${path}?cursor=bm90LWEtY3Vyc29y`)).status).toBe(400);
    const first = await request(harness, "GET", path);
    expect((first.body as { items: unknown[] }).items).toHaveLength(100);
    const walked: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const response = await request(
        harness,
        "GET",
        `${path}?limit=500${cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`}`,
      );
      expect(response.status).toBe(200);
      const body = response.body as { items: { id: string }[]; nextCursor?: string };
      walked.push(...body.items.map((item) => item.id));
      sizes.push(body.items.length);
      cursor = body.nextCursor;
    } while (cursor !== undefined);
    expect(sizes).toEqual([500, 500, 234]);
    expect(walked).toEqual(ids);
  });

  it("refuses an inbox page over 500 with 400", async () => {
    const namespace = await idleAgent(harness);
    const response = await request(
      harness,
      "GET",
      `/v1/namespaces/${namespace}/humanqueues/desk/items?limit=501`,
    );
    expect(response).toMatchObject({ status: 400, body: { details: { issues: [{ field: "limit" }] } } });
  });
});
