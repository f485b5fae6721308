/**
 * The OpenAPI 3.1 document of a set of routes, generated from their zod schemas with
 * `z.toJSONSchema` (JSON Schema 2020-12, OpenAPI 3.1's dialect). Request bodies are described as the
 * caller writes them (`io: "input"`: fields with defaults are optional), responses as the gateway
 * sends them. Named schemas go into `components.schemas` and are referenced.
 *
 * @module
 */
import {
  AnswerRequest,
  ApprovalItem,
  ClaimRequest,
  DecisionRequest,
  HandBackRequest,
  InboxEvent,
  InboxItem,
  RunEvent,
  RunState,
} from "@freehold/api";
import { z } from "zod";
import { AgentCard, JsonRpcRequest, JsonRpcResponse, Task } from "./a2a/a2a-schemas.ts";
import type { Route, RouteResponse } from "./route.ts";
import {
  AgentList,
  ApprovalItemList,
  ErrorBody,
  HealthStatus,
  InboxItemList,
  RunDetails,
  RunEventList,
  RunList,
  RunSummary,
  StartRunBody,
  StoredRunEvent,
} from "./schemas.ts";

/** The version of the HTTP API the document describes. */
export const apiVersion = "0.1.0";

type JsonSchema = Record<string, unknown>;
type Io = "input" | "output";

/** Schemas that get a name in `components.schemas`, and whether callers send them or receive them. */
const namedSchemas: readonly (readonly [name: string, schema: z.ZodType, io: Io])[] = [
  ["StartRunRequest", StartRunBody, "input"],
  ["ClaimRequest", ClaimRequest, "input"],
  ["AnswerRequest", AnswerRequest, "input"],
  ["HandBackRequest", HandBackRequest, "input"],
  ["DecisionRequest", DecisionRequest, "input"],
  ["JsonRpcRequest", JsonRpcRequest, "input"],
  ["RunState", RunState, "output"],
  ["RunDetails", RunDetails, "output"],
  ["RunEvent", RunEvent, "output"],
  ["StoredRunEvent", StoredRunEvent, "output"],
  ["RunEventList", RunEventList, "output"],
  ["RunSummary", RunSummary, "output"],
  ["RunList", RunList, "output"],
  ["AgentList", AgentList, "output"],
  ["InboxItem", InboxItem, "output"],
  ["InboxItemList", InboxItemList, "output"],
  ["InboxEvent", InboxEvent, "output"],
  ["ApprovalItem", ApprovalItem, "output"],
  ["ApprovalItemList", ApprovalItemList, "output"],
  ["Error", ErrorBody, "output"],
  ["HealthStatus", HealthStatus, "output"],
  ["AgentCard", AgentCard, "output"],
  ["Task", Task, "output"],
  ["JsonRpcResponse", JsonRpcResponse, "output"],
];

function jsonSchema(schema: z.ZodType, io: Io): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io,
    target: "draft-2020-12",
    unrepresentable: "any",
    // A query parameter parsed from its text says the type it carries (`.meta({type: "integer"})`);
    // the pattern of the text it is parsed from is then no part of its description.
    override: ({ jsonSchema }) => {
      if (jsonSchema.type === "integer") delete jsonSchema.pattern;
    },
  }) as JsonSchema;
  return rest;
}

function reference(schema: z.ZodType, io: Io): JsonSchema {
  const named = namedSchemas.find(([, candidate]) => candidate === schema);
  return named === undefined ? jsonSchema(schema, io) : { $ref: `#/components/schemas/${named[0]}` };
}

function accepts(schema: z.ZodType, value: unknown): boolean {
  return schema.safeParse(value).success;
}

function parameters(route: Route): JsonSchema[] {
  const path = Object.entries(route.params.shape as Record<string, z.ZodType>).map(([name, schema]) => ({
    name,
    in: "path",
    required: true,
    ...(schema.description === undefined ? {} : { description: schema.description }),
    schema: jsonSchema(schema, "input"),
  }));
  const query = Object.entries((route.query?.shape ?? {}) as Record<string, z.ZodType>).map(
    ([name, schema]) => ({
      name,
      in: "query",
      required: !accepts(schema, undefined),
      ...(schema.description === undefined ? {} : { description: schema.description }),
      schema: jsonSchema(schema, "input"),
    }),
  );
  const headers = route.headers.map((header) => ({
    name: header.name,
    in: "header",
    required: header.required,
    description: header.description,
    schema: header.schema === undefined ? { type: "string" } : jsonSchema(header.schema, "input"),
  }));
  return [...path, ...query, ...headers];
}

/** An SSE message as a reader sees it: one `data:` (JSON), an optional `id:` and `event:`. */
function eventSchema(response: RouteResponse): JsonSchema {
  const data = response.eventData === undefined ? undefined : reference(response.eventData, "output");
  return {
    type: "object",
    description: `${response.eventStream ?? ""} A last message \`event: error\` carries an Error when the stream fails.`,
    required: ["data"],
    properties: {
      id: { type: "string", description: "The event's id: send it back as Last-Event-ID to resume." },
      event: {
        enum: ["message", "error"],
        description: "message (the default): the data below; error: an Error, and the stream ends.",
      },
      data: {
        type: "string",
        contentMediaType: "application/json",
        ...(data === undefined ? {} : { contentSchema: { anyOf: [data, reference(ErrorBody, "output")] } }),
      },
      retry: { type: "integer", minimum: 0 },
    },
  };
}

const errorContent = (): Record<string, unknown> => ({
  "application/json": { schema: reference(ErrorBody, "output") },
});

const retryAfterHeader = {
  "Retry-After": {
    description: "Seconds to wait before retrying.",
    required: true,
    schema: { type: "string", pattern: "^[0-9]+$" },
  },
};

/**
 * The answers every route may give besides its own, from the gateway's middleware (the edge,
 * authentication, the body limit) and its Redis: for each status, when it applies to a route,
 * what it means and the headers it always has.
 */
const commonResponses: readonly {
  readonly status: number;
  readonly appliesTo: (route: Route) => boolean;
  readonly description: string;
  readonly headers?: Record<string, unknown>;
}[] = [
  {
    status: 400,
    appliesTo: (route) =>
      Object.keys(route.params.shape).length > 0 || route.query !== undefined || route.body !== undefined,
    description:
      "A path parameter, the query or the body does not match its schema; the message names the field " +
      "(request.invalid, request.malformed).",
  },
  {
    status: 401,
    appliesTo: (route) => !route.public,
    description: "No bearer token, or one no authenticator accepts (auth.unauthenticated).",
    headers: {
      "WWW-Authenticate": {
        description: 'Bearer realm="freehold"',
        required: true,
        schema: { type: "string" },
      },
    },
  },
  {
    status: 403,
    appliesTo: (route) => !route.public && route.responses[403] === undefined,
    description: "You may not do this here (auth.forbidden).",
  },
  {
    status: 403,
    appliesTo: () => true,
    description: "An Origin that is not on the gateway's allow-list (request.origin-forbidden).",
  },
  {
    status: 404,
    appliesTo: (route) => !route.public && Object.keys(route.params.shape).length > 0,
    description: "A namespace you cannot read answers as one that does not exist.",
  },
  {
    status: 413,
    appliesTo: (route) => route.body !== undefined,
    description: "The body is larger than the gateway takes (request.too-large).",
  },
  {
    status: 415,
    appliesTo: (route) => route.body !== undefined,
    description: "A body that is not application/json (request.unsupported-media-type).",
  },
  {
    status: 421,
    appliesTo: () => true,
    description:
      "On a gateway listening on loopback, a Host other than localhost, 127.0.0.1 or [::1] (request.misdirected).",
  },
  {
    status: 429,
    appliesTo: () => true,
    description:
      "Over the caller's request rate (request.rate-limited) or open event streams (events.too-many-streams).",
    headers: retryAfterHeader,
  },
  {
    status: 503,
    appliesTo: (route) => !route.withoutRedis,
    description: "Redis cannot be reached (redis.unavailable) or is full (store.full); retry later.",
    headers: retryAfterHeader,
  },
];

function operation(route: Route): JsonSchema {
  const responses: Record<string, JsonSchema> = Object.fromEntries(
    Object.entries(route.responses).map(([status, response]) => {
      const content: Record<string, unknown> = {};
      if (response.schema !== undefined) {
        content["application/json"] = { schema: reference(response.schema, "output") };
      }
      if (response.eventStream !== undefined) {
        content["text/event-stream"] = { schema: eventSchema(response) };
      }
      return [
        status,
        {
          description: response.description,
          ...(response.headers === undefined ? {} : { headers: response.headers }),
          ...(Object.keys(content).length === 0 ? {} : { content }),
          ...(response.links === undefined ? {} : { links: response.links }),
        },
      ];
    }),
  );
  for (const common of commonResponses) {
    if (!common.appliesTo(route)) continue;
    const own = responses[String(common.status)];
    responses[String(common.status)] = {
      // A route's own 400 and 401 say it all already; its other statuses get the middleware's meaning too.
      description:
        own === undefined || common.status === 400 || common.status === 401
          ? (own?.description ?? common.description)
          : `${String(own.description)} Or: ${common.description}`,
      ...(common.headers === undefined && own?.headers === undefined
        ? {}
        : { headers: { ...(own?.headers as JsonSchema | undefined), ...common.headers } }),
      content: own?.content ?? errorContent(),
      ...(own?.links === undefined ? {} : { links: own.links }),
    };
  }
  const list = parameters(route);
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description === undefined ? {} : { description: route.description }),
    tags: [route.tag],
    ...(route.public ? { security: [] } : {}),
    ...(list.length === 0 ? {} : { parameters: list }),
    ...(route.body === undefined
      ? {}
      : {
          requestBody: {
            required: !route.bodyOptional,
            content: { "application/json": { schema: reference(route.body, "input") } },
          },
        }),
    responses,
  };
}

/**
 * The OpenAPI 3.1 document of `routes`.
 *
 * @example
 * ```ts
 * const document = buildOpenApiDocument(gatewayRoutes);
 * Object.keys(document.paths); // ["/healthz", "/readyz", "/openapi.json", "/v1/namespaces/{namespace}/agents", ...]
 * ```
 */
export function buildOpenApiDocument(routes: readonly Route[]): {
  readonly openapi: string;
  readonly paths: Record<string, Record<string, JsonSchema>>;
  readonly [key: string]: unknown;
} {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    paths[route.path] = { ...paths[route.path], [route.method]: operation(route) };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Freehold gateway",
      version: apiVersion,
      description:
        "Start and follow agent runs, work human queues and approvals, and reach agents over A2A. " +
        "Errors are `{code, message, details}`. Every request but health and agent cards carries " +
        "`Authorization: Bearer <token>` (a Kubernetes token, an OIDC JWT, or a token of the dev token " +
        "file); every action is authorized as a verb on a freehold.dev resource in the namespace.",
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    tags: [...new Set(routes.map((route) => route.tag))].map((name) => ({ name })),
    paths,
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: Object.fromEntries(namedSchemas.map(([name, schema, io]) => [name, jsonSchema(schema, io)])),
    },
  };
}
