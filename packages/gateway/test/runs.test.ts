/**
 * The gateway's run API over real HTTP: a real Redis, the gateway on a free port, runtime workers
 * driven by the scripted model server. Starting runs, bad requests, events as SSE (resumed with
 * Last-Event-ID) and as JSON, cancelling, health, and unknown routes.
 */
import type { RunEvent, RunState } from "@freehold/api";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runKey } from "@freehold/handoff";
import type { RunDetails } from "../src/index.ts";
import {
  authorization,
  idleAgent,
  readEvents,
  request,
  startHarness,
  waitForStatus,
  world,
  type Harness,
} from "./harness.ts";

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});

afterEach(async () => {
  await harness.cleanup();
});

afterAll(async () => {
  await harness.close();
});

const answering = (text: string) => [{ text, match: { role: "user" as const } }];

describe("starting runs", () => {
  it("starts a run of a registered agent, which a worker completes", async () => {
    const namespace = await world(harness, answering("Your invoice is paid."), {
      billing: { description: "Invoices and payments." },
    });
    const started = await request(harness, "POST", `/v1/namespaces/${namespace}/agents/billing/runs`, {
      body: { input: "Is my invoice paid?", runId: "run-1" },
    });
    expect(started.status).toBe(201);
    expect(started.headers.get("location")).toBe(`/v1/namespaces/${namespace}/runs/run-1`);
    expect(started.body).toMatchObject({
      id: "run-1",
      agent: "billing",
      status: "queued",
      input: "Is my invoice paid?",
    });

    await waitForStatus(harness, namespace, "run-1", "completed");
    const { status, body } = await request(harness, "GET", `/v1/namespaces/${namespace}/runs/run-1`);
    expect(status).toBe(200);
    const run = body as RunDetails;
    expect(run).toMatchObject({ status: "completed", output: "Your invoice is paid.", steps: 1 });
    expect(run.usage.inputTokens).toBeGreaterThan(0);
    const types = run.history.map(({ event }) => event.type);
    expect(types[0]).toBe("run-start");
    expect(types).toContain("model-call-end");
    expect(types.at(-1)).toBe("run-end");
    expect(run.history.every(({ id }) => /^\d+-\d+$/.test(id))).toBe(true);

    const agents = await request(harness, "GET", `/v1/namespaces/${namespace}/agents`);
    expect(agents.body).toMatchObject({
      agents: [{ name: "billing", description: "Invoices and payments." }],
    });
  });

  it("refuses an unknown agent with 404, naming the agents there are", async () => {
    const namespace = await idleAgent(harness, "billing");
    const { status, body } = await request(
      harness,
      "POST",
      `/v1/namespaces/${namespace}/agents/support/runs`,
      {
        body: { input: "Hello" },
      },
    );
    expect(status).toBe(404);
    expect(body).toEqual({
      code: "agent.not-found",
      message: `agent support not found in namespace ${namespace}; agents: billing`,
      details: { namespace, agent: "support", agents: ["billing"] },
    });
  });

  it("refuses malformed requests with 400, naming the field", async () => {
    const namespace = await idleAgent(harness, "billing");
    const path = `/v1/namespaces/${namespace}/agents/billing/runs`;
    const cases: [unknown, string][] = [
      [{}, "invalid request body: input: required"],
      [{ input: 42 }, "invalid request body: input: expected string, received number"],
      [{ input: "hi", color: "red" }, "invalid request body: color: unknown field"],
      [{ input: "hi", runId: "a:b" }, "invalid request body: runId: must be letters, digits"],
      [{ input: "" }, "invalid request body: input: Too small"],
      [[1, 2], "invalid request body: expected object, received array"],
    ];
    for (const [body, message] of cases) {
      const response = await request(harness, "POST", path, { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body).toMatchObject({ code: "request.invalid" });
      expect((response.body as { message: string }).message).toContain(message);
    }
    const issues = (await request(harness, "POST", path, { body: { input: 1, extra: true } })).body;
    expect(issues).toMatchObject({
      details: {
        in: "body",
        issues: [
          { field: "input", problem: "expected string, received number" },
          { field: "extra", problem: "unknown field" },
        ],
      },
    });

    const notJson = await request(harness, "POST", path, {
      rawBody: "{input:",
      headers: { "content-type": "application/json" },
    });
    expect(notJson.status).toBe(400);
    expect(notJson.body).toMatchObject({ code: "request.malformed" });
    expect((notJson.body as { message: string }).message).toMatch(/^the request body is not JSON/);

    const empty = await request(harness, "POST", path, { rawBody: "" });
    expect(empty).toMatchObject({
      status: 400,
      body: { code: "request.invalid", message: "invalid request body: a JSON object is required" },
    });

    const badNamespace = await request(harness, "POST", "/v1/namespaces/Not_A_Label/agents/billing/runs", {
      body: { input: "hi" },
    });
    expect(badNamespace.status).toBe(400);
    expect((badNamespace.body as { message: string }).message).toMatch(
      /^invalid path parameter: namespace: must be lower-case/,
    );
    expect(JSON.stringify(badNamespace.body)).not.toContain("    at ");
  });

  it("refuses a run id that is taken with 409", async () => {
    const namespace = await idleAgent(harness, "billing");
    const path = `/v1/namespaces/${namespace}/agents/billing/runs`;
    expect((await request(harness, "POST", path, { body: { input: "one", runId: "same" } })).status).toBe(
      201,
    );
    const again = await request(harness, "POST", path, { body: { input: "two", runId: "same" } });
    expect(again).toMatchObject({ status: 409, body: { code: "run.exists" } });
  });
});

describe("run events", () => {
  it("streams events as SSE with their ids, and resumes after Last-Event-ID without gaps or repeats", async () => {
    const namespace = await world(
      harness,
      [
        { match: { role: "user" }, toolCalls: [{ name: "missing_tool", arguments: {} }] },
        { match: { role: "tool" }, text: "Done after a tool error.", delayMs: 200 },
      ],
      { worker: {} },
    );
    const { body } = await request(harness, "POST", `/v1/namespaces/${namespace}/agents/worker/runs`, {
      body: { input: "Go" },
    });
    const runId = (body as RunState).id;
    const eventsUrl = `${harness.url}/v1/namespaces/${namespace}/runs/${runId}/events`;

    // Read the first two events, then drop the connection.
    const first = await fetch(eventsUrl, { headers: authorization(harness) });
    expect(first.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const head = await readEvents(first, (_event, index) => index === 1);
    expect((head[0]?.data as RunEvent).type).toBe("run-start");
    expect(head).toHaveLength(2);

    // Reconnect as EventSource does: the rest, from the event after the last one received.
    const rest = await readEvents(
      await fetch(eventsUrl, { headers: { ...authorization(harness), "last-event-id": head[1]?.id ?? "" } }),
    );
    const types = [...head, ...rest].map((event) => (event.data as RunEvent).type);
    expect(types[0]).toBe("run-start");
    expect(types.at(-1)).toBe("run-end");
    expect(rest.at(-1)?.data).toMatchObject({
      type: "run-end",
      status: "completed",
      output: "Done after a tool error.",
    });

    const stored = await harness.store.readEvents(namespace, runId);
    expect([...head, ...rest].map((event) => event.id)).toEqual(stored.map((event) => event.id));

    // A finished run's stream replays and ends; `after` works like Last-Event-ID.
    const replay = await readEvents(
      await fetch(`${eventsUrl}?after=${stored[1]?.id ?? ""}`, { headers: authorization(harness) }),
    );
    expect(replay.map((event) => event.id)).toEqual(stored.slice(2).map((event) => event.id));
    const afterEnd = await readEvents(
      await fetch(eventsUrl, {
        headers: { ...authorization(harness), "last-event-id": stored.at(-1)?.id ?? "" },
      }),
    );
    expect(afterEnd).toEqual([]);

    // follow=false: the same events as JSON.
    const listed = await request(
      harness,
      "GET",
      `/v1/namespaces/${namespace}/runs/${runId}/events?follow=false`,
    );
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ events: stored });
    const tail = await request(
      harness,
      "GET",
      `/v1/namespaces/${namespace}/runs/${runId}/events?follow=false&after=${stored.at(-2)?.id ?? ""}`,
    );
    expect(tail.body).toEqual({ events: stored.slice(-1) });
  });

  it("refuses a malformed Last-Event-ID and answers 404 for an unknown run", async () => {
    const namespace = await idleAgent(harness);
    const run = await request(harness, "POST", `/v1/namespaces/${namespace}/agents/idle/runs`, {
      body: { input: "x" },
    });
    const runId = (run.body as RunState).id;
    const bad = await request(harness, "GET", `/v1/namespaces/${namespace}/runs/${runId}/events`, {
      headers: { "last-event-id": "yesterday" },
    });
    expect(bad).toMatchObject({ status: 400, body: { code: "request.invalid" } });
    expect((bad.body as { message: string }).message).toContain("Last-Event-ID");
    const badQuery = await request(
      harness,
      "GET",
      `/v1/namespaces/${namespace}/runs/${runId}/events?follow=maybe`,
    );
    expect(badQuery).toMatchObject({ status: 400, body: { code: "request.invalid" } });
    expect((badQuery.body as { message: string }).message).toMatch(/^invalid query parameter: follow: /);

    for (const path of ["", "/events", "/events?follow=false"]) {
      const missing = await request(harness, "GET", `/v1/namespaces/${namespace}/runs/nope${path}`);
      expect(missing).toMatchObject({ status: 404, body: { code: "run.not-found" } });
    }
  });
});

describe("cancelling runs", () => {
  it("cancels a queued run, ends its stream, and refuses to cancel it again with 409", async () => {
    const namespace = await idleAgent(harness);
    const run = await request(harness, "POST", `/v1/namespaces/${namespace}/agents/idle/runs`, {
      body: { input: "x" },
    });
    const runId = (run.body as RunState).id;
    const stream = fetch(`${harness.url}/v1/namespaces/${namespace}/runs/${runId}/events`, {
      headers: authorization(harness),
    }).then((response) => readEvents(response));

    const cancelled = await request(harness, "POST", `/v1/namespaces/${namespace}/runs/${runId}/cancel`);
    expect(cancelled).toMatchObject({ status: 200, body: { id: runId, status: "cancelled" } });
    const events = await stream;
    expect(events.at(-1)?.data).toMatchObject({ type: "run-end", status: "cancelled" });

    const again = await request(harness, "POST", `/v1/namespaces/${namespace}/runs/${runId}/cancel`);
    expect(again).toMatchObject({
      status: 409,
      body: { code: "run.finished", message: `run ${runId} already ended with status cancelled` },
    });
    const missing = await request(harness, "POST", `/v1/namespaces/${namespace}/runs/nope/cancel`);
    expect(missing).toMatchObject({ status: 404, body: { code: "run.not-found" } });
  });

  it("keeps a run it cancelled for the retention period, then answers 404", async () => {
    const short = await startHarness({ gateway: { runRetentionSeconds: 1 } });
    try {
      const namespace = await idleAgent(short);
      const run = await request(short, "POST", `/v1/namespaces/${namespace}/agents/idle/runs`, {
        body: { input: "x" },
      });
      const runId = (run.body as RunState).id;
      expect(await request(short, "POST", `/v1/namespaces/${namespace}/runs/${runId}/cancel`)).toMatchObject({
        status: 200,
      });
      expect(await short.connection.ttl(runKey(namespace, runId))).toBeGreaterThan(0);
      await expect
        .poll(async () => (await request(short, "GET", `/v1/namespaces/${namespace}/runs/${runId}`)).status, {
          timeout: 10_000,
          interval: 100,
        })
        .toBe(404);
      const events = await request(short, "GET", `/v1/namespaces/${namespace}/runs/${runId}/events`, {
        headers: { accept: "application/json" },
      });
      expect(events.status).toBe(404);
    } finally {
      await short.close();
    }
  });
});

describe("the rest", () => {
  it("answers health and readiness", async () => {
    expect(await request(harness, "GET", "/healthz")).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await request(harness, "GET", "/readyz")).toMatchObject({
      status: 200,
      body: { status: "ready" },
    });
  });

  it("answers unknown routes with a 404 that points at the document", async () => {
    const { status, body } = await request(harness, "GET", "/v2/whatever");
    expect(status).toBe(404);
    expect(body).toEqual({
      code: "route.not-found",
      message: "no route GET /v2/whatever; the API is described at /openapi.json",
    });
  });

  it("refuses a body over the limit with 413", async () => {
    const namespace = await idleAgent(harness);
    const response = await request(harness, "POST", `/v1/namespaces/${namespace}/agents/idle/runs`, {
      body: { input: "x".repeat(5 * 1024 * 1024) },
    });
    expect(response).toMatchObject({ status: 413, body: { code: "request.too-large" } });
  });
});
