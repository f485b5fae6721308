/**
 * The gateway's Prometheus metrics: requests by method, route template and status code (never a
 * raw path), request latency, event streams (SSE) open, and authentication and authorization
 * failures by their error code, plus the default process metrics. They are served on a listener of
 * their own (`freehold gateway --metrics-port`), never on the public API's port.
 *
 * @module
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { FreeholdError } from "@freehold/api";
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { createRequire } from "node:module";
import type * as PromClient from "prom-client";
import type { Registry } from "prom-client";

/**
 * prom-client, loaded when metrics are asked for: a gateway without them never loads it (it is
 * CommonJS, so this is the same module an `import` gets).
 */
function promClient(): typeof PromClient {
  return createRequire(import.meta.url)("prom-client") as typeof PromClient;
}

/** Latency buckets of a request (until its response starts), in seconds. */
const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const methods: ReadonlySet<string> = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** The gateway's metrics and their own listener. */
export interface GatewayMetrics {
  readonly registry: Registry;
  /** Counts every request; `createGateway` puts it before every other middleware. */
  readonly middleware: MiddlewareHandler;
  /** Serves `GET /metrics` on `host:port` (default 127.0.0.1, a free port); resolves to its URL. */
  listen(port?: number, host?: string): Promise<{ readonly url: string }>;
  /** Stops the listener. */
  close(): Promise<void>;
}

/** A Hono path (`/runs/:runId`) as the API describes it (`/runs/{runId}`). */
function template(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, "{$1}");
}

/**
 * The route a request was for: the handler that answered, or the route it was headed to when a
 * middleware refused it first (401, 429); `unmatched` when no route has its path.
 */
function routeOf(context: Context, cache: Map<string, string>): string {
  const routes = matchedRoutes(context);
  for (let index = context.req.routeIndex; index < routes.length; index++) {
    const route = routes[index];
    if (route === undefined || route.method === "ALL") continue;
    let named = cache.get(route.path);
    if (named === undefined) {
      named = template(route.path);
      cache.set(route.path, named);
    }
    return named;
  }
  return "unmatched";
}

/**
 * Why a request was refused: for a 401, the `error` of its `WWW-Authenticate` challenge
 * (`invalid_token`) or `missing_token` when it carried none; for a 403, the error code of its body.
 */
async function refusalReason(response: Response): Promise<string> {
  if (response.status === 401) {
    const challenge = response.headers.get("www-authenticate") ?? "";
    return /error="([a-z_]+)"/.exec(challenge)?.[1] ?? "missing_token";
  }
  if (!(response.headers.get("content-type") ?? "").includes("json")) return "unknown";
  try {
    const body = (await response.clone().json()) as { code?: unknown };
    return typeof body.code === "string" ? body.code : "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * @example
 * ```ts
 * const metrics = createGatewayMetrics();
 * const gateway = createGateway({ redis, authenticator, authorizer, metrics });
 * await gateway.listen(8080, "0.0.0.0");
 * await metrics.listen(9090, "0.0.0.0"); // curl http://127.0.0.1:9090/metrics
 * ```
 */
export function createGatewayMetrics(options: { readonly registry?: Registry } = {}): GatewayMetrics {
  const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = promClient();
  const registry = options.registry ?? new Registry();
  if (options.registry === undefined) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const requests = new Counter({
    name: "freehold_gateway_requests_total",
    help: "Requests, by method, route template and status code.",
    labelNames: ["method", "route", "status"] as const,
    registers,
  });
  const latency = new Histogram({
    name: "freehold_gateway_request_duration_seconds",
    help: "Time until a request's response starts (an event stream's headers), by method and route template.",
    labelNames: ["method", "route"] as const,
    buckets: latencyBuckets,
    registers,
  });
  const streams = new Gauge({
    name: "freehold_gateway_event_streams_open",
    help: "Event streams (SSE) open now.",
    registers,
  });
  const authFailures = new Counter({
    name: "freehold_gateway_auth_failures_total",
    help: "Requests refused with 401 (reason missing_token or invalid_token) or 403 (reason: the error code).",
    labelNames: ["status", "reason"] as const,
    registers,
  });
  const routeNames = new Map<string, string>();

  const counted = (body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> => {
    streams.inc();
    let open = true;
    const end = (): void => {
      if (open) {
        open = false;
        streams.dec();
      }
    };
    const reader = body.getReader();
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          try {
            const next = await reader.read();
            if (next.done) {
              end();
              controller.close();
            } else controller.enqueue(next.value);
          } catch (error) {
            end();
            controller.error(error);
          }
        },
        async cancel(reason) {
          end();
          await reader.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
  };

  const middleware: MiddlewareHandler = async (context, next) => {
    const started = performance.now();
    await next();
    const response = context.res;
    const method = methods.has(context.req.method) ? context.req.method : "OTHER";
    const route = routeOf(context, routeNames);
    requests.labels(method, route, String(response.status)).inc();
    latency.labels(method, route).observe((performance.now() - started) / 1000);
    if (response.status === 401 || response.status === 403) {
      authFailures.labels(String(response.status), await refusalReason(response)).inc();
    }
    const body = response.body;
    if (body !== null && (response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
      context.res = new Response(counted(body), { status: response.status, headers: response.headers });
    }
  };

  let server: Server | undefined;
  return {
    registry,
    middleware,
    async listen(port = 0, host = "127.0.0.1") {
      if (server !== undefined)
        throw new FreeholdError("gateway.listening", "the gateway's metrics are served already");
      const created = createServer((request, response) => {
        const path = (request.url ?? "/").split("?")[0];
        if (path !== "/metrics" || (request.method !== "GET" && request.method !== "HEAD")) {
          response.writeHead(404, { "content-type": "text/plain" }).end("not found: use GET /metrics\n");
          return;
        }
        registry
          .metrics()
          .then((text) => {
            response.writeHead(200, { "content-type": registry.contentType }).end(text);
          })
          .catch((error: unknown) => {
            response
              .writeHead(500, { "content-type": "text/plain" })
              .end(`metrics failed: ${error instanceof Error ? error.message : String(error)}\n`);
          });
      });
      await new Promise<void>((resolve, reject) => {
        const refuse = (error: Error): void => {
          reject(
            new FreeholdError(
              "gateway.listen-failed",
              `cannot serve metrics on ${host}:${port}: ${error.message}`,
              { cause: error },
            ),
          );
        };
        created.once("error", refuse);
        created.listen(port, host, () => {
          created.off("error", refuse);
          resolve();
        });
      });
      server = created;
      const address = created.address() as AddressInfo;
      const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
      return { url: `http://${shown}:${address.port}/metrics` };
    },
    async close() {
      const running = server;
      server = undefined;
      if (running === undefined) return;
      await new Promise<void>((resolve) => {
        running.close(() => {
          resolve();
        });
        running.closeAllConnections();
      });
    },
  };
}
