/**
 * The JSON-RPC 2.0 envelope of A2A: reading a request (parse error, invalid request) and writing a
 * result or an error. Errors keep Freehold's code in `data.code`; one table maps codes to the
 * JSON-RPC and A2A error numbers, and a second one gives the refusals A2A leaves to the server
 * (its spec: authorization errors are a "JSON-RPC custom error") numbers of their own in the
 * server-defined range, by the HTTP status of their code, so a client can tell "not allowed" or
 * "retry later" from an internal error (-32603).
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import { statusOfCode, toResponseError } from "../error-status.ts";
import { requestIssues } from "../request-issues.ts";
import { JsonRpcRequest } from "./a2a-schemas.ts";

/** Freehold error codes to JSON-RPC error numbers (A2A's own are -32001 to -32006). */
const jsonRpcCodes: Readonly<Record<string, number>> = {
  "a2a.parse-error": -32700,
  "a2a.invalid-request": -32600,
  "a2a.method-not-found": -32601,
  "request.invalid": -32602,
  "run.not-found": -32001,
  "run.finished": -32002,
  "a2a.push-notification-not-supported": -32003,
  "a2a.unsupported-operation": -32004,
  "a2a.content-type-not-supported": -32005,
};

/**
 * Freehold's server-defined JSON-RPC errors (-32040 to -32043, in JSON-RPC's -32000 to -32099 and
 * clear of A2A's own -32001 to -32009), by the HTTP status of the error's code.
 */
const serverErrorCodes: Readonly<Record<number, number>> = {
  /** Not authenticated (`auth.unauthenticated`): send a valid bearer token. */
  401: -32040,
  /** Not allowed (`auth.forbidden`, a foreign Origin): ask for a role that grants it. */
  403: -32041,
  /** Over a limit (`quota.runs_exceeded`, the edge's rate): retry later. */
  429: -32042,
  /** Redis full or down (`store.full`): retry later. */
  503: -32043,
};

/** The id of a request, as far as it can be read. */
export type JsonRpcId = string | number | null;

/** A JSON-RPC error object. */
export interface JsonRpcError {
  readonly code: number;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** The JSON-RPC error of any error; internal failures keep their details to the log. */
export function jsonRpcError(error: unknown): JsonRpcError {
  const freeholdError = toResponseError(error);
  const code =
    jsonRpcCodes[freeholdError.code] ?? serverErrorCodes[statusOfCode(freeholdError.code)] ?? -32603;
  return {
    code,
    message: freeholdError.message,
    data: {
      code: freeholdError.code,
      ...(freeholdError.details === undefined ? {} : { details: freeholdError.details }),
    },
  };
}

/** A response body with an error. */
export function errorEnvelope(id: JsonRpcId, error: unknown): Record<string, unknown> {
  return { jsonrpc: "2.0", id, error: jsonRpcError(error) };
}

/** A response body with a result. */
export function resultEnvelope(id: JsonRpcId, result: unknown): Record<string, unknown> {
  return { jsonrpc: "2.0", id, result };
}

function idOf(value: unknown): JsonRpcId {
  if (value !== null && typeof value === "object" && "id" in value) {
    const id = value.id;
    if (typeof id === "string" || typeof id === "number") return id;
  }
  return null;
}

/**
 * Reads a request body: the request, or a Freehold error (`a2a.parse-error`,
 * `a2a.invalid-request`) with whatever id could be read.
 */
export function readJsonRpcRequest(
  text: string,
): { readonly request: JsonRpcRequest } | { readonly id: JsonRpcId; readonly error: FreeholdError } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      id: null,
      error: new FreeholdError("a2a.parse-error", `the body is not JSON: ${(error as Error).message}`),
    };
  }
  if (Array.isArray(value)) {
    return {
      id: null,
      error: new FreeholdError("a2a.invalid-request", "batch requests are not supported: send one request"),
    };
  }
  const result = JsonRpcRequest.safeParse(value);
  if (!result.success) {
    const issues = requestIssues(result.error, value);
    return {
      id: idOf(value),
      error: new FreeholdError(
        "a2a.invalid-request",
        `not a JSON-RPC 2.0 request: ${issues.map((issue) => `${issue.field}: ${issue.problem}`).join("; ")}`,
        { details: { issues } },
      ),
    };
  }
  return { request: result.data };
}
