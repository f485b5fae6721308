/**
 * A route: its method and path, the zod schemas of its parameters, body and responses, and its
 * handler. The gateway registers its handlers and `openApiDocument()` describes the same objects,
 * so the document cannot drift from what is served. Parameters, query and body are parsed before
 * the handler runs; a mismatch is a 400 naming the field. A route declares the RBAC action it
 * takes (`access`); it is checked for the caller's identity before the handler runs.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import { z } from "zod";
import type { AccessRequest } from "./auth/authorizer.ts";
import { missingTokenError, type Identity } from "./auth/identity.ts";
import type { GatewayParts } from "./gateway-parts.ts";
import { invalidRequest } from "./request-issues.ts";

/** The identity public routes see: Kubernetes' name for a caller without credentials. */
export const anonymous: Identity = { user: "system:anonymous", groups: ["system:unauthenticated"] };

/** One documented response of a route. */
export interface RouteResponse {
  readonly description: string;
  /** The body's schema; absent for a body that is not JSON or not described. */
  readonly schema?: z.ZodType;
  /** The same status may also answer with `text/event-stream` (SSE), described here. */
  readonly eventStream?: string;
  /** The JSON each SSE message carries in its `data:` field (the document's `contentSchema`). */
  readonly eventData?: z.ZodType;
  /**
   * Operations this answer leads to (OpenAPI links): each names an operation and where its
   * parameters come from, as runtime expressions (`$request.path.namespace`, `$response.body#/id`).
   */
  readonly links?: Readonly<Record<string, RouteLink>>;
  /** Response headers the gateway always sends with this status, as OpenAPI header objects. */
  readonly headers?: Readonly<Record<string, { description: string; required: boolean; schema: object }>>;
}

/** An OpenAPI link: the operation an answer leads to, and its parameters. */
export interface RouteLink {
  readonly operationId: string;
  readonly parameters: Readonly<Record<string, string>>;
}

/**
 * OpenAPI links to each of `operations`, all with the same `parameters`.
 *
 * @example
 * ```ts
 * linksTo(["getRun"], { namespace: "$request.path.namespace", runId: "$response.body#/id" });
 * ```
 */
export function linksTo(
  operations: readonly string[],
  parameters: Readonly<Record<string, string>>,
): Record<string, RouteLink> {
  return Object.fromEntries(operations.map((operationId) => [operationId, { operationId, parameters }]));
}

/** A header a route reads, for the document. */
export interface RouteHeader {
  readonly name: string;
  readonly description: string;
  readonly required: boolean;
  /** The values the route takes (default: any string). */
  readonly schema?: z.ZodType;
}

/** A request as the handler sees it: everything parsed. */
export interface RouteRequest<Params, Query, Body> {
  readonly params: Params;
  readonly query: Query;
  readonly body: Body;
  /** Who is calling, verified ({@link anonymous} on public routes). */
  readonly identity: Identity;
  readonly headers: Headers;
  readonly url: URL;
  /** Aborted when the caller goes away. */
  readonly signal: AbortSignal;
  /** The raw body, for routes with a `documentedBody` (read at most once). */
  text(): Promise<string>;
}

/** What {@link defineRoute} takes. */
export interface RouteDefinition<
  Params extends z.ZodObject,
  Query extends z.ZodObject,
  Body extends z.ZodType,
> {
  readonly method: "get" | "post";
  /** OpenAPI style: `/v1/namespaces/{namespace}/runs/{runId}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  /** One entry per `{name}` in the path. */
  readonly params: Params;
  readonly query?: Query;
  readonly body?: Body;
  /**
   * A body the document describes but the handler reads itself with `request.text()` (JSON-RPC
   * answers a bad body with its own error object, not a 400).
   */
  readonly documentedBody?: z.ZodType;
  /** When the body may be left out entirely (parsed as `{}`). */
  readonly bodyOptional?: boolean;
  /** Served without authentication (health, the A2A agent card). */
  readonly public?: boolean;
  /** Answers without Redis (liveness, the document): never a 503 for Redis. */
  readonly withoutRedis?: boolean;
  /**
   * The action the route takes, checked before the handler (404 for a namespace the caller cannot
   * read, 403 otherwise). Absent on public routes and routes that check in their handler.
   */
  readonly access?: (params: z.output<Params>, query: z.output<Query>) => AccessRequest;
  readonly headers?: readonly RouteHeader[];
  readonly responses: Readonly<Record<number, RouteResponse>>;
  handle(
    parts: GatewayParts,
    request: RouteRequest<z.output<Params>, z.output<Query>, z.output<Body>>,
  ): Promise<Response>;
}

/** The request before parsing. */
export interface RawRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly url: URL;
  readonly headers: Headers;
  readonly signal: AbortSignal;
  /** Set by the gateway's authentication on every route that is not public. */
  readonly identity: Identity | undefined;
  text(): Promise<string>;
}

/** A route with its types erased: what the gateway registers and the document describes. */
export interface Route {
  readonly method: "get" | "post";
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description: string | undefined;
  readonly tag: string;
  readonly params: z.ZodObject;
  readonly query: z.ZodObject | undefined;
  /** The body's schema, for the document. */
  readonly body: z.ZodType | undefined;
  readonly bodyOptional: boolean;
  /** Served without authentication. */
  readonly public: boolean;
  /** Answers without Redis. */
  readonly withoutRedis: boolean;
  readonly headers: readonly RouteHeader[];
  readonly responses: Readonly<Record<number, RouteResponse>>;
  handle(parts: GatewayParts, request: RawRequest): Promise<Response>;
}

function parsePart<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  part: "path" | "query" | "body",
): z.output<Schema> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidRequest(part, result.error, value);
  return result.data;
}

async function readJson(request: RawRequest, optional: boolean): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === "") {
    if (optional) return {};
    throw new FreeholdError("request.invalid", "invalid request body: a JSON object is required", {
      details: { in: "body", issues: [{ field: "", problem: "required" }] },
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new FreeholdError(
      "request.malformed",
      `the request body is not JSON: ${(error as Error).message}`,
      { details: { in: "body" } },
    );
  }
}

/**
 * Defines a route; the handler gets its parameters, query and body parsed and typed.
 *
 * @example
 * ```ts
 * const getRun = defineRoute({
 *   method: "get",
 *   path: "/v1/namespaces/{namespace}/runs/{runId}",
 *   operationId: "getRun",
 *   summary: "A run",
 *   tag: "runs",
 *   params: z.object({ namespace: NamespaceParameter, runId: RunParameter }),
 *   responses: { 200: { description: "The run", schema: RunState } },
 *   handle: async (parts, { params }) => json(RunState, await parts.store.require(params.namespace, params.runId)),
 * });
 * ```
 */
export function defineRoute<
  Params extends z.ZodObject,
  Query extends z.ZodObject = typeof noParams,
  Body extends z.ZodType = z.ZodUndefined,
>(definition: RouteDefinition<Params, Query, Body>): Route {
  const query = definition.query;
  const body = definition.body;
  const documentedBody = definition.body ?? definition.documentedBody;
  const bodyOptional = definition.bodyOptional ?? false;
  const isPublic = definition.public ?? false;
  return {
    method: definition.method,
    path: definition.path,
    operationId: definition.operationId,
    summary: definition.summary,
    description: definition.description,
    tag: definition.tag,
    params: definition.params,
    query,
    body: documentedBody,
    bodyOptional,
    public: isPublic,
    withoutRedis: definition.withoutRedis ?? false,
    headers: definition.headers ?? [],
    responses: definition.responses,
    async handle(parts, request) {
      const identity = isPublic ? anonymous : request.identity;
      if (identity === undefined) throw missingTokenError();
      const params = parsePart(definition.params, request.params, "path");
      const parsedQuery = (
        query === undefined
          ? {}
          : parsePart(query, Object.fromEntries(request.url.searchParams.entries()), "query")
      ) as z.output<Query>;
      if (definition.access !== undefined)
        await parts.access.require(identity, definition.access(params, parsedQuery));
      const parsedBody =
        body === undefined ? undefined : parsePart(body, await readJson(request, bodyOptional), "body");
      return definition.handle(parts, {
        params,
        query: parsedQuery,
        body: parsedBody as z.output<Body>,
        identity,
        headers: request.headers,
        url: request.url,
        signal: request.signal,
        text: () => request.text(),
      });
    },
  };
}

/**
 * A JSON response whose body is parsed with its schema first: what leaves the gateway matches the
 * document.
 */
export function json<Schema extends z.ZodType>(
  schema: Schema,
  value: z.input<Schema>,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  const body = schema.parse(value);
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** An empty object, for routes without path parameters. */
export const noParams = z.object({});
