/**
 * A2A over real HTTP (agent cards, JSON-RPC message/send, message/stream, tasks/get, tasks/cancel,
 * protocol errors, refusals inside a call) against runtime workers with the scripted model; and the OpenAPI document
 * served at /openapi.json, checked against the routes the gateway registers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { gatewayRoutes, openApiDocument, type Task } from "../src/index.ts";
import {
  authorization,
  idleAgent,
  readEvents,
  request,
  startHarness,
  world,
  type Harness,
} from "./harness.ts";

let harness: Harness;

beforeAll(async () => {
  // mia is a member (freehold-tenant-member) everywhere: she may read and start runs, not cancel them.
  harness = await startHarness({
    people: { mia: ["members"] },
    policy: {
      bindings: [
        { namespace: "*", role: "admin", subjects: [{ group: "testers" }] },
        { namespace: "*", role: "member", subjects: [{ group: "members" }] },
      ],
    },
  });
});

afterEach(async () => {
  await harness.cleanup();
});

afterAll(async () => {
  await harness.close();
});

function rpc(method: string, params: unknown, id: string | number = 1) {
  return { jsonrpc: "2.0", id, method, params };
}

function userMessage(text: string) {
  return { kind: "message", role: "user", messageId: "m-1", parts: [{ kind: "text", text }] };
}

describe("A2A", () => {
  it("publishes an agent card per agent, and 404 for an unknown one", async () => {
    const namespace = await idleAgent(harness, "billing");
    const { status, body } = await request(
      harness,
      "GET",
      `/a2a/${namespace}/billing/.well-known/agent-card.json`,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      protocolVersion: "0.3.0",
      name: "billing",
      description: "Never works.",
      url: `${harness.url}/a2a/${namespace}/billing`,
      preferredTransport: "JSONRPC",
      capabilities: { streaming: true, pushNotifications: false },
      defaultInputModes: expect.arrayContaining(["text/plain"]) as unknown,
      defaultOutputModes: ["text/plain"],
      skills: [{ id: "billing", name: "billing", description: "Never works." }],
    });
    const missing = await request(harness, "GET", `/a2a/${namespace}/support/.well-known/agent-card.json`);
    expect(missing).toMatchObject({ status: 404, body: { code: "a2a.agent-not-found" } });
  });

  it("maps message/send to a run and answers with the completed task; tasks/get and tasks/cancel", async () => {
    const namespace = await world(harness, [{ match: { role: "user" }, text: "Paris." }], {
      geography: { description: "Knows capitals.", a2a: { enabled: true } },
    });
    const endpoint = `/a2a/${namespace}/geography`;
    const sent = await request(harness, "POST", endpoint, {
      body: rpc("message/send", { message: userMessage("Capital of France?") }, "req-1"),
    });
    expect(sent.status).toBe(200);
    const { result: task } = sent.body as { result: Task };
    expect(sent.body).toMatchObject({ jsonrpc: "2.0", id: "req-1" });
    expect(task).toMatchObject({
      kind: "task",
      contextId: task.id,
      status: { state: "completed" },
      artifacts: [{ artifactId: "answer", parts: [{ kind: "text", text: "Paris." }] }],
      history: [
        { role: "user", parts: [{ kind: "text", text: "Capital of France?" }] },
        { role: "agent", parts: [{ kind: "text", text: "Paris." }] },
      ],
      metadata: { "freehold.dev/run": { namespace, agent: "geography", status: "completed" } },
    });
    // The task is the run.
    const run = await request(harness, "GET", `/v1/namespaces/${namespace}/runs/${task.id}`);
    expect(run.body).toMatchObject({ status: "completed", output: "Paris." });

    const got = await request(harness, "POST", endpoint, {
      body: rpc("tasks/get", { id: task.id, historyLength: 1 }, 2),
    });
    expect(got.body).toMatchObject({ id: 2, result: { id: task.id, status: { state: "completed" } } });
    expect((got.body as { result: Task }).result.history).toHaveLength(1);

    const cancel = await request(harness, "POST", endpoint, {
      body: rpc("tasks/cancel", { id: task.id }, 3),
    });
    expect(cancel.body).toMatchObject({
      id: 3,
      error: { code: -32002, data: { code: "run.finished" } },
    });
    const unknownTask = await request(harness, "POST", endpoint, {
      body: rpc("tasks/get", { id: "nope" }, 4),
    });
    expect(unknownTask.body).toMatchObject({
      id: 4,
      error: { code: -32001, data: { code: "run.not-found" } },
    });
  });

  it("answers at once without blocking, and cancels a task that has not ended", async () => {
    const namespace = await idleAgent(harness, "idle");
    const endpoint = `/a2a/${namespace}/idle`;
    const sent = await request(harness, "POST", endpoint, {
      body: rpc("message/send", { message: userMessage("Hello"), configuration: { blocking: false } }),
    });
    const { result: task } = sent.body as { result: Task };
    expect(task.status.state).toBe("submitted");
    const cancelled = await request(harness, "POST", endpoint, {
      body: rpc("tasks/cancel", { id: task.id }, 2),
    });
    expect(cancelled.body).toMatchObject({ id: 2, result: { id: task.id, status: { state: "canceled" } } });
  });

  it("answers a refusal inside a call with a server-defined JSON-RPC error, not an internal error", async () => {
    const namespace = await idleAgent(harness, "idle");
    const endpoint = `/a2a/${namespace}/idle`;
    const sent = await request(harness, "POST", endpoint, {
      body: rpc("message/send", { message: userMessage("Hello"), configuration: { blocking: false } }),
    });
    const { result: task } = sent.body as { result: Task };
    const got = await request(harness, "POST", endpoint, {
      user: "mia",
      body: rpc("tasks/get", { id: task.id }, 2),
    });
    expect(got.body).toMatchObject({ id: 2, result: { id: task.id } });
    const cancel = await request(harness, "POST", endpoint, {
      user: "mia",
      body: rpc("tasks/cancel", { id: task.id }, 3),
    });
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({
      jsonrpc: "2.0",
      id: 3,
      error: { code: -32041, data: { code: "auth.forbidden" } },
    });
    expect((cancel.body as { error: { message: string } }).error.message).toMatch(
      /^mia may not delete runs in namespace g\w+: ask an admin of the namespace for a role that grants it/,
    );
    const still = await request(harness, "GET", `/v1/namespaces/${namespace}/runs/${task.id}`);
    expect(still.body).toMatchObject({ status: "queued" });
  });

  it("streams a task's status updates for message/stream, ending with the answer and a final status", async () => {
    const namespace = await world(harness, [{ match: { role: "user" }, text: "Four.", delayMs: 100 }], {
      math: { a2a: { enabled: true } },
    });
    const response = await fetch(`${harness.url}/a2a/${namespace}/math`, {
      method: "POST",
      headers: { ...authorization(harness), "content-type": "application/json" },
      body: JSON.stringify(rpc("message/stream", { message: userMessage("2 + 2?") }, 7)),
    });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const results = (await readEvents(response)).map(
      (event) => event.data as { id: number; result: Record<string, unknown> },
    );
    expect(results.every((event) => event.id === 7)).toBe(true);
    const kinds = results.map(({ result }) =>
      result.kind === "status-update"
        ? `status:${(result.status as { state: string }).state}`
        : String(result.kind),
    );
    expect(kinds[0]).toBe("task");
    expect(results[0]?.result).toMatchObject({ status: { state: "submitted" } });
    // In between, only working (a status is sent when the stream reads the run while it runs; a
    // one-step run may end before it is read in that state).
    expect(kinds.slice(1, -2).every((kind) => kind === "status:working")).toBe(true);
    expect(kinds.slice(-2)).toEqual(["artifact-update", "status:completed"]);
    expect(results.at(-2)?.result).toMatchObject({ artifact: { parts: [{ kind: "text", text: "Four." }] } });
    expect(results.at(-1)?.result).toMatchObject({ final: true });
    expect(results.slice(0, -1).every(({ result }) => result.final !== true)).toBe(true);
  });

  it("answers protocol mistakes with JSON-RPC errors", async () => {
    const namespace = await idleAgent(harness, "idle");
    const endpoint = `/a2a/${namespace}/idle`;
    const parse = await request(harness, "POST", endpoint, {
      rawBody: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(parse).toMatchObject({ status: 200, body: { jsonrpc: "2.0", id: null, error: { code: -32700 } } });
    const notRpc = await request(harness, "POST", endpoint, { body: { id: 5, method: "message/send" } });
    expect(notRpc.body).toMatchObject({ id: 5, error: { code: -32600 } });
    expect((notRpc.body as { error: { message: string } }).error.message).toContain("jsonrpc");
    const method = await request(harness, "POST", endpoint, { body: rpc("tasks/list", {}) });
    expect(method.body).toMatchObject({ error: { code: -32601, data: { code: "a2a.method-not-found" } } });
    const params = await request(harness, "POST", endpoint, {
      body: rpc("message/send", { message: { role: "user" } }),
    });
    expect(params.body).toMatchObject({ error: { code: -32602, data: { code: "request.invalid" } } });
    expect((params.body as { error: { message: string } }).error.message).toMatch(
      /message\.kind: .*message\.parts: required/,
    );
    const file = await request(harness, "POST", endpoint, {
      body: rpc("message/send", {
        message: {
          ...userMessage("x"),
          parts: [{ kind: "file", file: { uri: "https://example.com/a.pdf" } }],
        },
      }),
    });
    expect(file.body).toMatchObject({ error: { code: -32005 } });
    const push = await request(harness, "POST", endpoint, {
      body: rpc("tasks/pushNotificationConfig/set", {}),
    });
    expect(push.body).toMatchObject({ error: { code: -32003 } });
    const unknownAgent = await request(harness, "POST", `/a2a/${namespace}/nobody`, {
      body: rpc("tasks/get", { id: "x" }),
    });
    expect(unknownAgent).toMatchObject({ status: 404, body: { code: "a2a.agent-not-found" } });
  });
});

describe("the OpenAPI document", () => {
  it("is served, is OpenAPI 3.1, and lists every route with its parameters and schemas", async () => {
    const { status, body } = await request(harness, "GET", "/openapi.json");
    expect(status).toBe(200);
    expect(body).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    const document = body as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<string, Record<string, Record<string, unknown>>>;
      components: { schemas: Record<string, Record<string, unknown>> };
    };
    expect(document.openapi).toBe("3.1.0");
    expect(document.info.title).toBe("Freehold gateway");

    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      gatewayRoutes.map((route) => `${route.method.toUpperCase()} ${route.path}`).sort(),
    );
    for (const expected of [
      "POST /v1/namespaces/{namespace}/agents/{agent}/runs",
      "GET /v1/namespaces/{namespace}/runs/{runId}",
      "GET /v1/namespaces/{namespace}/runs/{runId}/events",
      "POST /v1/namespaces/{namespace}/runs/{runId}/cancel",
      "GET /v1/namespaces/{namespace}/humanqueues/{queue}/items",
      "POST /v1/namespaces/{namespace}/humanqueues/{queue}/items/{itemId}/claim",
      "POST /v1/namespaces/{namespace}/humanqueues/{queue}/items/{itemId}/answer",
      "POST /v1/namespaces/{namespace}/humanqueues/{queue}/items/{itemId}/hand-back",
      "POST /v1/namespaces/{namespace}/humanqueues/{queue}/items/{itemId}/release",
      "GET /v1/namespaces/{namespace}/approvals",
      "POST /v1/namespaces/{namespace}/approvals/{itemId}/decision",
      "GET /a2a/{namespace}/{agent}/.well-known/agent-card.json",
      "POST /a2a/{namespace}/{agent}",
      "GET /healthz",
      "GET /readyz",
      "GET /openapi.json",
    ]) {
      expect(operations).toContain(expected);
    }

    const references = JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g);
    for (const [, name] of references) expect(document.components.schemas, name).toHaveProperty(name ?? "");

    const ids = new Set<string>();
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const where = `${method} ${path}`;
        expect(ids.has(String(operation.operationId)), where).toBe(false);
        ids.add(String(operation.operationId));
        const parameters = (operation.parameters ?? []) as { name: string; in: string; schema: unknown }[];
        for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
          expect(
            parameters.some((parameter) => parameter.in === "path" && parameter.name === name),
            where,
          ).toBe(true);
        }
        for (const parameter of parameters) expect(parameter.schema, where).toBeTypeOf("object");
        const responses = operation.responses as Record<
          string,
          { content?: Record<string, { schema?: unknown }> }
        >;
        const success = Object.keys(responses).find((code) => code.startsWith("2"));
        expect(success, where).toBeDefined();
        // JSON, or only an event stream (a queue's feed has no end to answer with as JSON).
        const content = responses[success ?? ""]?.content;
        expect((content?.["application/json"] ?? content?.["text/event-stream"])?.schema, where).toBeTypeOf(
          "object",
        );
        if (method === "post" && !path.endsWith("/cancel") && !path.endsWith("/release")) {
          expect(operation.requestBody, where).toMatchObject({
            content: { "application/json": { schema: {} } },
          });
        }
      }
    }

    // Bodies as callers write them: fields with defaults are optional; unknown fields are refused.
    expect(document.components.schemas.AnswerRequest).toMatchObject({
      type: "object",
      required: ["message"],
      additionalProperties: false,
    });
    expect(document.components.schemas.StartRunRequest).toMatchObject({
      required: ["input"],
      properties: { input: { type: "string" }, runId: { type: "string" } },
    });
    expect(document.components.schemas.RunState).toMatchObject({
      properties: { status: { enum: expect.arrayContaining(["queued", "waiting_for_human"]) as unknown } },
    });
    const events = document.paths["/v1/namespaces/{namespace}/runs/{runId}/events"]?.get as {
      responses: Record<string, { content: Record<string, unknown> }>;
      parameters: { name: string; in: string }[];
    };
    expect(Object.keys(events.responses["200"]?.content ?? {})).toEqual([
      "application/json",
      "text/event-stream",
    ]);
    expect(events.parameters).toContainEqual(
      expect.objectContaining({ name: "Last-Event-ID", in: "header" }),
    );
    const feed = document.paths["/v1/namespaces/{namespace}/humanqueues/{queue}/events"]?.get as {
      operationId: string;
      responses: Record<string, { content: Record<string, { schema: unknown }> }>;
      parameters: { name: string; in: string }[];
    };
    expect(feed.operationId).toBe("inboxEvents");
    expect(Object.keys(feed.responses["200"]?.content ?? {})).toEqual(["text/event-stream"]);
    expect(feed.responses["200"]?.content["text/event-stream"]?.schema).toMatchObject({
      properties: { data: { contentSchema: { anyOf: [{ $ref: "#/components/schemas/InboxEvent" }, {}] } } },
    });
    expect(feed.parameters).toContainEqual(expect.objectContaining({ name: "Last-Event-ID", in: "header" }));
    expect(Object.keys(feed.responses)).toEqual(expect.arrayContaining(["200", "401", "403", "404", "429"]));
    const claim = document.paths["/v1/namespaces/{namespace}/humanqueues/{queue}/items/{itemId}/claim"]
      ?.post as {
      parameters: { name: string; in: string; required: boolean }[];
      responses: Record<string, unknown>;
    };
    expect(claim.parameters.map((parameter) => parameter.name)).not.toContain("X-Freehold-User");
    expect(Object.keys(claim.responses)).toEqual(expect.arrayContaining(["200", "401", "403", "404", "409"]));
  });
});
