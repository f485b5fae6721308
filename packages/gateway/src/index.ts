/**
 * `@freehold/gateway`: the HTTP API of Freehold: runs and their events (SSE), human queues'
 * inboxes, approvals, A2A agent cards and JSON-RPC, health, and the OpenAPI document generated from
 * the same zod schemas that parse every request.
 *
 * @module
 */
export { createGateway, type Gateway, type GatewayOptions } from "./create-gateway.ts";
export { createGatewayMetrics, type GatewayMetrics } from "./metrics.ts";
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
  RunList,
  RunSummary,
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
export {
  bearerToken,
  createAuthenticatorChain,
  type Authenticator,
  type AuthVariables,
  type Identity,
} from "./auth/identity.ts";
export {
  parseTokenFile,
  readTokenFile,
  createTokenFileAuthenticator,
  type TokenEntry,
} from "./auth/token-file.ts";
export { createOidcAuthenticator, type OidcOptions } from "./auth/oidc.ts";
export { createTokenReviewAuthenticator, type TokenReviewOptions } from "./auth/token-review.ts";
export {
  createKubernetesClient,
  type KubernetesClient,
  type KubernetesConnection,
} from "./auth/kubernetes-client.ts";
export { createCachedAuthorizer, type AccessRequest, type Authorizer, type Verb } from "./auth/authorizer.ts";
export { createSubjectAccessReviewAuthorizer } from "./auth/subject-access-review.ts";
export {
  createPolicyAuthorizer,
  parsePolicy,
  readPolicyFile,
  tenantRoleRules,
  Policy,
  PolicyBinding,
} from "./auth/policy-file.ts";
export { createRunStarters, isStarter, localIdentity, type RunStarters } from "./auth/run-starters.ts";
export {
  createKubernetesDirectory,
  createManifestDirectory,
  type DirectoryResource,
  type ManifestDirectory,
  type ResourceDirectory,
} from "./auth/resource-directory.ts";
export {
  consoleContentSecurityPolicy,
  type ConsoleConfig,
  type ConsoleOidc,
  type ConsoleOptions,
} from "./console.ts";
