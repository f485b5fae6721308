/**
 * `@freehold/gateway`: the HTTP API of Freehold: runs and their events (SSE), human queues'
 * inboxes, approvals, A2A agent cards and JSON-RPC, health, and the OpenAPI document generated from
 * the same zod schemas that parse every request.
 *
 * @module
 */
export { createGateway, type Gateway, type GatewayOptions } from "./create-gateway.ts";
export { openApiDocument, gatewayRoutes } from "./routes.ts";
export { buildOpenApiDocument, apiVersion } from "./openapi.ts";
export { errorResponse, statusOfCode, toResponseError } from "./error-status.ts";
export { defineRoute, json, type Route, type RouteDefinition, type RouteRequest } from "./route.ts";
export type { GatewayParts } from "./gateway-parts.ts";
export {
  AgentList,
  ApprovalItemList,
  ErrorBody,
  InboxItemList,
  RunDetails,
  RunEventList,
  StartRunBody,
  StoredRunEvent,
} from "./schemas.ts";
export {
  a2aProtocolVersion,
  AgentCard,
  Task,
  TaskState,
  TaskStatusUpdateEvent,
  TaskArtifactUpdateEvent,
} from "./a2a/a2a-schemas.ts";
export { runTask, taskState } from "./a2a/a2a-task.ts";
export { createGatewayClient, type GatewayClient, type GatewayClientOptions } from "./gateway-client.ts";
