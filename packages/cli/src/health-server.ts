/**
 * The worker's probes: `/healthz` answers while the process runs, `/readyz` once the worker is
 * consuming its queues and Redis answers a ping. Kubernetes restarts a worker that stops answering
 * the first and sends no traffic to one that fails the second. With a metrics registry, `/metrics`
 * serves its Prometheus text (the port is the pod's, never a public one).
 *
 * @module
 */
import type { Server } from "node:http";

/** What `/metrics` serves: a prom-client Registry fits. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface HealthServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * @example
 * ```ts
 * const health = await startHealthServer({ port: 8081, ready: async () => (await redis.ping()) === "PONG" });
 * ```
 */
export async function startHealthServer(options: {
  readonly port: number;
  readonly host?: string;
  readonly ready: () => Promise<boolean>;
  readonly metrics?: MetricsSource;
}): Promise<HealthServer> {
  // Not an ES module import of node:http: that reads all its exports, and three of them load undici
  // (Node's fetch), which a worker otherwise never needs (see models' http-response.ts).
  const server: Server = process.getBuiltinModule("node:http").createServer((request, response) => {
    const answer = (status: number, text: string): void => {
      response.writeHead(status, { "content-type": "text/plain" }).end(`${text}\n`);
    };
    if (request.url === "/healthz") {
      answer(200, "ok");
    } else if (request.url === "/readyz") {
      options
        .ready()
        .then((ready) => {
          answer(ready ? 200 : 503, ready ? "ready" : "not ready");
        })
        .catch((error: unknown) => {
          answer(503, `not ready: ${error instanceof Error ? error.message : String(error)}`);
        });
    } else if (request.url === "/metrics" && options.metrics !== undefined) {
      const source = options.metrics;
      source
        .metrics()
        .then((text) => {
          response.writeHead(200, { "content-type": source.contentType }).end(text);
        })
        .catch((error: unknown) => {
          answer(500, `metrics failed: ${error instanceof Error ? error.message : String(error)}`);
        });
    } else {
      answer(404, `not found: use /healthz, /readyz${options.metrics === undefined ? "" : " or /metrics"}`);
    }
  });
  const host = options.host ?? "0.0.0.0";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => {
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  return {
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}
