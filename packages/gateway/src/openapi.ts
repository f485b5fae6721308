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
  InboxItem,
  RunEvent,
  RunState,
} from "@freehold/api";
import { z } from "zod";
import { AgentCard, JsonRpcRequest, JsonRpcResponse, Task } from "./a2a/a2a-schemas.ts";
import type { Route } from "./route.ts";
import {
  AgentList,
  ApprovalItemList,
  ErrorBody,
  HealthStatus,
  InboxItemList,
  RunDetails,
  RunEventList,
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
  ["AgentList", AgentList, "output"],
  ["InboxItem", InboxItem, "output"],
  ["InboxItemList", InboxItemList, "output"],
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
    schema: { type: "string" },
  }));
  return [...path, ...query, ...headers];
}

function operation(route: Route): JsonSchema {
  const responses = Object.fromEntries(
    Object.entries(route.responses).map(([status, response]) => {
      const content: Record<string, unknown> = {};
      if (response.schema !== undefined) {
        content["application/json"] = { schema: reference(response.schema, "output") };
      }
      if (response.eventStream !== undefined) {
        content["text/event-stream"] = { schema: { type: "string", description: response.eventStream } };
      }
      return [
        status,
        {
          description: response.description,
          ...(Object.keys(content).length === 0 ? {} : { content }),
        },
      ];
    }),
  );
  if (!route.public) {
    responses["401"] ??= {
      description:
        'No bearer token, or one no authenticator accepts (auth.unauthenticated); WWW-Authenticate: Bearer realm="freehold".',
      content: { "application/json": { schema: reference(ErrorBody, "output") } },
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
