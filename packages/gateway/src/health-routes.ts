/**
 * Liveness (`/healthz`: the process answers) and readiness (`/readyz`: Redis answers a PING in
 * time), for Kubernetes probes.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import { defineRoute, json, noParams, type Route } from "./route.ts";
import { ErrorBody, HealthStatus } from "./schemas.ts";

/** How long readiness waits for Redis. */
const pingTimeoutMs = 2000;

export const healthRoute = defineRoute({
  method: "get",
  path: "/healthz",
  operationId: "health",
  public: true,
  withoutRedis: true,
  summary: "Liveness: the gateway process answers",
  tag: "health",
  params: noParams,
  responses: { 200: { description: "Alive.", schema: HealthStatus } },
  handle: () => Promise.resolve(json(HealthStatus, { status: "ok" })),
});

export const readyRoute = defineRoute({
  method: "get",
  path: "/readyz",
  operationId: "ready",
  public: true,
  summary: "Readiness: Redis answers",
  tag: "health",
  params: noParams,
  responses: {
    200: { description: "Ready.", schema: HealthStatus },
    503: { description: "Redis does not answer (redis.unavailable).", schema: ErrorBody },
  },
  handle: async (parts) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(
          new FreeholdError("redis.unavailable", `Redis did not answer a PING within ${pingTimeoutMs} ms`, {
            retryable: true,
          }),
        );
      }, pingTimeoutMs);
    });
    try {
      await Promise.race([parts.redis.ping(), timeout]);
    } catch (error) {
      throw new FreeholdError(
        "redis.unavailable",
        `not ready: ${error instanceof Error ? error.message : String(error)}`,
        { retryable: true, cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
    return json(HealthStatus, { status: "ready" });
  },
});

/** The health routes. */
export const healthRoutes: readonly Route[] = [healthRoute, readyRoute];
