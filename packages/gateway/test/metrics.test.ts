/**
 * The gateway's metrics over real HTTP: requests by route template and status, latency, auth
 * failures by reason and open event streams, scraped from the metrics listener; the public API's
 * port does not serve them.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createGatewayMetrics, type GatewayMetrics } from "../src/index.ts";
import { authorization, idleAgent, request, startHarness, type Harness } from "./harness.ts";

let harness: Harness;
let metrics: GatewayMetrics;
let metricsUrl: string;

beforeAll(async () => {
  metrics = createGatewayMetrics();
  harness = await startHarness({ gateway: { metrics } });
  metricsUrl = (await metrics.listen(0, "127.0.0.1")).url;
});

afterAll(async () => {
  await metrics.close();
  await harness.close();
});

/** The value of one sample of the exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const have = new Map(
      [...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1], pair[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => have.get(key) === value)) return Number(match[3]);
  }
  return undefined;
}

async function scrape(): Promise<string> {
  const response = await fetch(metricsUrl);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain");
  return response.text();
}

describe("the gateway's metrics", () => {
  it("count requests by route template and status, auth failures by reason, and open event streams", async () => {
    const namespace = await idleAgent(harness);
    const startRoute = "/v1/namespaces/{namespace}/agents/{agent}/runs";
    const runRoute = "/v1/namespaces/{namespace}/runs/{runId}";
    const started = await request(harness, "POST", `/v1/namespaces/${namespace}/agents/idle/runs`, {
      body: { input: "Hello?" },
    });
    expect(started.status).toBeLessThan(300);
    const runId = (started.body as { id: string }).id;
    const runPath = `/v1/namespaces/${namespace}/runs/${runId}`;
    expect((await request(harness, "GET", runPath)).status).toBe(200);
    const missing = await request(harness, "GET", runPath, { user: null });
    const invalid = await request(harness, "GET", runPath, { headers: { authorization: "Bearer nope" } });
    expect([missing.status, invalid.status]).toEqual([401, 401]);
    // The public port has no /metrics.
    const publicMetrics = await fetch(`${harness.url}/metrics`, { headers: authorization(harness) });
    expect(publicMetrics.status).toBe(404);
    expect(await publicMetrics.text()).not.toContain("freehold_gateway");

    // An event stream of a run that stays queued: open until the caller drops it.
    const abort = new AbortController();
    const stream = await fetch(`${harness.url}${runPath}/events`, {
      headers: authorization(harness),
      signal: abort.signal,
    });
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    expect(sample(await scrape(), "freehold_gateway_event_streams_open")).toBe(1);
    abort.abort();
    await vi.waitFor(
      async () => {
        expect(sample(await scrape(), "freehold_gateway_event_streams_open")).toBe(0);
      },
      { timeout: 10_000, interval: 50 },
    );

    const text = await scrape();
    const post = { method: "POST", route: startRoute };
    expect(sample(text, "freehold_gateway_requests_total", { ...post, status: String(started.status) })).toBe(
      1,
    );
    expect(sample(text, "freehold_gateway_request_duration_seconds_count", post)).toBe(1);
    expect(
      sample(text, "freehold_gateway_requests_total", { method: "GET", route: runRoute, status: "200" }),
    ).toBe(1);
    expect(
      sample(text, "freehold_gateway_requests_total", { method: "GET", route: runRoute, status: "401" }),
    ).toBe(2);
    expect(
      sample(text, "freehold_gateway_requests_total", {
        method: "GET",
        route: `${runRoute}/events`,
        status: "200",
      }),
    ).toBe(1);
    expect(
      sample(text, "freehold_gateway_requests_total", { method: "GET", route: "unmatched", status: "404" }),
    ).toBe(1);
    const refused = (reason: string): number | undefined =>
      sample(text, "freehold_gateway_auth_failures_total", { status: "401", reason });
    expect([refused("missing_token"), refused("invalid_token")]).toEqual([1, 1]);
    // No raw path, namespace or run id in any label; the default process metrics are there.
    expect(text).not.toContain(namespace);
    expect(text).not.toContain(runId);
    expect(sample(text, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect((await fetch(metricsUrl.replace("/metrics", "/"))).status).toBe(404);
  });
});
