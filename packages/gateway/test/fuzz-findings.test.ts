/**
 * What fuzzing the gateway with schemathesis (fuzz.test.ts) found, each pinned down by a test of
 * its own over real HTTP: stream ids past 64 bits were a 500; a method a path does not take was a
 * 404; and the document described less than the gateway does (path id patterns, `limit`,
 * `Last-Event-ID`, SSE messages, the answers of the middleware).
 */
import type { RunState } from "@freehold/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayRoutes } from "../src/index.ts";
import { idleAgent, request, startHarness, type Harness } from "./harness.ts";

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});

afterAll(async () => {
  await harness.close();
});

interface Operation {
  readonly parameters?: { name: string; in: string; schema: Record<string, unknown> }[];
  readonly responses: Record<
    string,
    {
      description: string;
      headers?: Record<string, { required: boolean }>;
      content?: Record<string, { schema: Record<string, unknown> }>;
    }
  >;
}

async function documentOperation(method: string, path: string): Promise<Operation> {
  const { body } = await request(harness, "GET", "/openapi.json");
  const operation = (body as { paths: Record<string, Record<string, Operation>> }).paths[path]?.[method];
  if (operation === undefined) throw new Error(`no ${method} ${path} in the document`);
  return operation;
}

describe("stream ids", () => {
  it("refuses an id past 64 bits with a 400 (it was a 500 from Redis), and takes a 19-digit one", async () => {
    const namespace = await idleAgent(harness, "billing");
    const started = await request(harness, "POST", `/v1/namespaces/${namespace}/agents/billing/runs`, {
      body: { input: "Hello." },
    });
    const runId = (started.body as RunState).id;
    const events = `/v1/namespaces/${namespace}/runs/${runId}/events`;
    for (const query of ["?follow=false&after=", "?after="]) {
      const past = await request(harness, "GET", `${events}${query}18446744073709551616-0`);
      expect(past, query).toMatchObject({
        status: 400,
        body: { code: "request.invalid", details: { in: "query", issues: [{ field: "after" }] } },
      });
    }
    const header = await request(harness, "GET", `${events}?follow=false`, {
      headers: { "last-event-id": "99999999999999999999999-0" },
    });
    expect(header).toMatchObject({
      status: 400,
      body: { code: "request.invalid", details: { in: "header" } },
    });
    const largest = await request(harness, "GET", `${events}?follow=false&after=9999999999999999999-0`);
    expect(largest).toMatchObject({ status: 200, body: { events: [] } });
    const empty = await request(harness, "GET", `${events}?follow=false`, {
      headers: { "last-event-id": "" },
    });
    expect(empty).toMatchObject({ status: 200, body: { events: [{ event: { type: "run-start" } }] } });
    expect(harness.logged.filter((line) => line.includes("failed"))).toEqual([]);
  });
});

describe("methods", () => {
  it("answers a method a path does not take with 405 and Allow, an unknown path with 404", async () => {
    const health = await request(harness, "POST", "/healthz", { body: {} });
    expect(health).toMatchObject({ status: 405, body: { code: "request.method-not-allowed" } });
    expect(health.headers.get("allow")).toBe("GET, HEAD");
    const cancel = await request(harness, "GET", "/v1/namespaces/acme/runs/r1/cancel");
    expect(cancel.status).toBe(405);
    expect(cancel.headers.get("allow")).toBe("POST");
    const remove = await fetch(`${harness.url}/readyz`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${harness.tokens.get("tester") ?? ""}` },
    });
    expect(remove.status).toBe(405);
    expect(await request(harness, "GET", "/v1/nothing/here")).toMatchObject({
      status: 404,
      body: { code: "route.not-found" },
    });
    // Still no answer but 401 for a caller without a token.
    expect((await request(harness, "POST", "/v1/namespaces/acme/runs/r1", { user: null })).status).toBe(401);
  });
});

describe("the document", () => {
  it("gives run and item ids the pattern the edge enforces", async () => {
    const operation = await documentOperation(
      "post",
      "/v1/namespaces/{namespace}/approvals/{itemId}/decision",
    );
    const itemId = operation.parameters?.find((parameter) => parameter.name === "itemId");
    const pattern = new RegExp(String(itemId?.schema.pattern));
    const namespace = await idleAgent(harness, "billing");
    for (const candidate of ["a:b", "-a", "a".repeat(201), "a.b_c-1", "a".repeat(200)]) {
      const { status } = await request(
        harness,
        "POST",
        `/v1/namespaces/${namespace}/approvals/${encodeURIComponent(candidate)}/decision`,
        { body: { approve: true } },
      );
      // 400 from the edge exactly when the documented pattern refuses the id (else 404: no such item).
      expect(status, candidate).toBe(pattern.test(candidate) ? 404 : 400);
    }
  });

  it("documents limit as the integer it is, Last-Event-ID's values and SSE messages as events", async () => {
    const list = await documentOperation("get", "/v1/namespaces/{namespace}/approvals");
    expect(list.parameters?.find((parameter) => parameter.name === "limit")?.schema).toEqual({
      type: "integer",
      minimum: 1,
      maximum: 500,
      description: "Items per page: 1 to 500, default 100.",
    });
    const events = await documentOperation("get", "/v1/namespaces/{namespace}/runs/{runId}/events");
    const lastEventId = events.parameters?.find((parameter) => parameter.name === "Last-Event-ID");
    expect(lastEventId?.schema).toEqual({
      anyOf: [
        { type: "string", pattern: "^\\d{1,19}-\\d{1,19}$" },
        { type: "string", const: "" },
      ],
    });
    expect(events.responses["200"]?.content?.["text/event-stream"]?.schema).toMatchObject({
      type: "object",
      required: ["data"],
      properties: {
        data: {
          type: "string",
          contentMediaType: "application/json",
          contentSchema: {
            anyOf: [{ $ref: "#/components/schemas/RunEvent" }, { $ref: "#/components/schemas/Error" }],
          },
        },
        event: { enum: ["message", "error"] },
      },
    });
  });

  it("documents on every operation what the middleware may answer", async () => {
    const { body } = await request(harness, "GET", "/openapi.json");
    const paths = (body as { paths: Record<string, Record<string, Operation>> }).paths;
    for (const route of gatewayRoutes) {
      const where = `${route.method} ${route.path}`;
      const responses = paths[route.path]?.[route.method]?.responses ?? {};
      const statuses = Object.keys(responses);
      expect(statuses, where).toEqual(expect.arrayContaining(["403", "421", "429"]));
      expect(responses["429"]?.headers?.["Retry-After"]?.required, where).toBe(true);
      if (!route.public) {
        expect(statuses, where).toContain("401");
        expect(responses["401"]?.headers?.["WWW-Authenticate"]?.required, where).toBe(true);
      }
      if (route.body !== undefined) expect(statuses, where).toEqual(expect.arrayContaining(["413", "415"]));
      if (route.withoutRedis) expect(statuses, where).not.toContain("503");
      else expect(responses["503"]?.headers?.["Retry-After"]?.required, where).toBe(true);
      for (const [status, response] of Object.entries(responses)) {
        if (Number(status) >= 400) {
          expect(response.content?.["application/json"]?.schema, `${where} ${status}`).toEqual({
            $ref: "#/components/schemas/Error",
          });
        }
      }
    }
  });
});
