/**
 * Every route the gateway serves, in one list, and the OpenAPI document that describes exactly
 * that list (served at `GET /openapi.json`).
 *
 * @module
 */
import { z } from "zod";
import { a2aRoutes } from "./a2a/a2a-routes.ts";
import { approvalRoutes } from "./approval-routes.ts";
import { healthRoutes } from "./health-routes.ts";
import { inboxRoutes } from "./inbox-routes.ts";
import { buildOpenApiDocument } from "./openapi.ts";
import { defineRoute, noParams, type Route } from "./route.ts";
import { runRoutes } from "./run-routes.ts";

const openApiRoute = defineRoute({
  method: "get",
  path: "/openapi.json",
  operationId: "openApiDocument",
  withoutRedis: true,
  summary: "This document",
  tag: "health",
  params: noParams,
  responses: {
    200: { description: "The OpenAPI 3.1 document.", schema: z.record(z.string(), z.unknown()) },
  },
  handle: () =>
    Promise.resolve(
      new Response(JSON.stringify(openApiDocument()), { headers: { "content-type": "application/json" } }),
    ),
});

/** Every route of the gateway. */
export const gatewayRoutes: readonly Route[] = [
  ...healthRoutes,
  openApiRoute,
  ...runRoutes,
  ...inboxRoutes,
  ...approvalRoutes,
  ...a2aRoutes,
];

let cached: ReturnType<typeof buildOpenApiDocument> | undefined;

/**
 * The gateway's OpenAPI 3.1 document, generated from the zod schemas of its routes.
 *
 * @example
 * ```ts
 * writeFileSync("openapi.json", JSON.stringify(openApiDocument(), null, 2));
 * ```
 */
export function openApiDocument(): ReturnType<typeof buildOpenApiDocument> {
  cached ??= buildOpenApiDocument(gatewayRoutes);
  return cached;
}
