/**
 * A typed client of the gateway's HTTP API, for the CLI and for programs: every response is parsed
 * with the same zod schema the gateway answers with, and every error comes back as the
 * {@link FreeholdError} the gateway sent (its code, message and details).
 *
 * @module
 */
import {
  ApprovalItem,
  FreeholdError,
  InboxItem,
  RunState,
  type AnswerRequest,
  type ClaimRequest,
  type DecisionRequest,
  type HandBackRequest,
} from "@freehold/api";
import type { z } from "zod";
import {
  AgentList,
  ApprovalItemList,
  ErrorBody,
  InboxItemList,
  RunDetails,
  RunEventList,
  type StartRunBody,
  type StoredRunEvent,
} from "./schemas.ts";

/** Options of {@link createGatewayClient}. */
export interface GatewayClientOptions {
  /** The gateway's base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** The bearer token of the person acting (every route but health needs one). */
  readonly token?: string;
  /** Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
}

export interface GatewayClient {
  listAgents(namespace: string): Promise<AgentList["agents"]>;
  startRun(namespace: string, agent: string, request: StartRunBody): Promise<RunState>;
  getRun(namespace: string, runId: string): Promise<RunDetails>;
  /** The run's stored events (not followed), optionally after an event id. */
  runEvents(
    namespace: string,
    runId: string,
    options?: { readonly after?: string },
  ): Promise<StoredRunEvent[]>;
  cancelRun(namespace: string, runId: string): Promise<RunState>;
  listInbox(namespace: string, queue: string): Promise<InboxItem[]>;
  /** An inbox item by id, whichever queue it is in. */
  getInboxItem(namespace: string, itemId: string): Promise<InboxItem>;
  claim(namespace: string, itemId: string, request?: ClaimRequest): Promise<InboxItem>;
  release(namespace: string, itemId: string): Promise<InboxItem>;
  /** Answers the user; `end` defaults to true (the run ends with the answer). */
  answer(namespace: string, itemId: string, request: z.input<typeof AnswerRequest>): Promise<RunState>;
  handBack(namespace: string, itemId: string, request: HandBackRequest): Promise<RunState>;
  listApprovals(namespace: string, options?: { readonly agent?: string }): Promise<ApprovalItem[]>;
  getApproval(namespace: string, itemId: string): Promise<ApprovalItem>;
  decide(namespace: string, itemId: string, decision: DecisionRequest): Promise<RunState>;
}

function segment(value: string): string {
  return encodeURIComponent(value);
}

/**
 * @example
 * ```ts
 * const client = createGatewayClient({ url: "http://127.0.0.1:8080", token: process.env.FREEHOLD_TOKEN });
 * const [item] = await client.listInbox("acme", "billing-desk");
 * await client.claim("acme", item.id);
 * await client.answer("acme", item.id, { message: "Your refund is on its way." });
 * ```
 */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const base = options.url.replace(/\/+$/, "");
  const fetchFunction = options.fetch ?? fetch;

  const call = async <Schema extends z.ZodType>(
    schema: Schema,
    method: "GET" | "POST",
    path: string,
    body?: unknown,
  ): Promise<z.output<Schema>> => {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let response: Response;
    try {
      response = await fetchFunction(`${base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      throw new FreeholdError(
        "gateway.unreachable",
        `cannot reach the gateway at ${base}: ${cause instanceof Error ? cause.message : String(cause)}; ` +
          "start one with `freehold gateway` or pass --gateway-url (FREEHOLD_GATEWAY_URL)",
        { retryable: true, cause: error },
      );
    }
    const text = await response.text();
    let value: unknown;
    try {
      value = text === "" ? undefined : JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (!response.ok) {
      const error = ErrorBody.safeParse(value);
      if (error.success) {
        throw FreeholdError.fromJSON(error.data, { retryable: response.status >= 500 });
      }
      throw new FreeholdError(
        "gateway.bad-response",
        `the gateway answered ${method} ${path} with ${response.status}: ${text.slice(0, 200)}`,
        { retryable: response.status >= 500 },
      );
    }
    const result = schema.safeParse(value);
    if (!result.success) {
      throw new FreeholdError(
        "gateway.bad-response",
        `the gateway's answer to ${method} ${path} does not match its schema: ${result.error.message}`,
      );
    }
    return result.data;
  };

  const namespacePath = (namespace: string): string => `/v1/namespaces/${segment(namespace)}`;
  const itemPath = async (namespace: string, itemId: string): Promise<string> => {
    const item = await client.getInboxItem(namespace, itemId);
    return `${namespacePath(namespace)}/humanqueues/${segment(item.queue)}/items/${segment(itemId)}`;
  };

  const client: GatewayClient = {
    async listAgents(namespace) {
      return (await call(AgentList, "GET", `${namespacePath(namespace)}/agents`)).agents;
    },
    startRun: (namespace, agent, request) =>
      call(RunState, "POST", `${namespacePath(namespace)}/agents/${segment(agent)}/runs`, request),
    getRun: (namespace, runId) =>
      call(RunDetails, "GET", `${namespacePath(namespace)}/runs/${segment(runId)}`),
    async runEvents(namespace, runId, eventOptions = {}) {
      const query = new URLSearchParams({ follow: "false" });
      if (eventOptions.after !== undefined) query.set("after", eventOptions.after);
      const path = `${namespacePath(namespace)}/runs/${segment(runId)}/events?${query.toString()}`;
      return (await call(RunEventList, "GET", path)).events;
    },
    cancelRun: (namespace, runId) =>
      call(RunState, "POST", `${namespacePath(namespace)}/runs/${segment(runId)}/cancel`, {}),
    async listInbox(namespace, queue) {
      const path = `${namespacePath(namespace)}/humanqueues/${segment(queue)}/items`;
      return (await call(InboxItemList, "GET", path)).items;
    },
    getInboxItem: (namespace, itemId) =>
      call(InboxItem, "GET", `${namespacePath(namespace)}/inbox/items/${segment(itemId)}`),
    claim: async (namespace, itemId, request = {}) =>
      call(InboxItem, "POST", `${await itemPath(namespace, itemId)}/claim`, request),
    release: async (namespace, itemId) =>
      call(InboxItem, "POST", `${await itemPath(namespace, itemId)}/release`),
    answer: async (namespace, itemId, request) =>
      call(RunState, "POST", `${await itemPath(namespace, itemId)}/answer`, request),
    handBack: async (namespace, itemId, request) =>
      call(RunState, "POST", `${await itemPath(namespace, itemId)}/hand-back`, request),
    async listApprovals(namespace, listOptions = {}) {
      const query = listOptions.agent === undefined ? "" : `?agent=${segment(listOptions.agent)}`;
      return (await call(ApprovalItemList, "GET", `${namespacePath(namespace)}/approvals${query}`)).items;
    },
    getApproval: (namespace, itemId) =>
      call(ApprovalItem, "GET", `${namespacePath(namespace)}/approvals/${segment(itemId)}`),
    decide: (namespace, itemId, decision) =>
      call(RunState, "POST", `${namespacePath(namespace)}/approvals/${segment(itemId)}/decision`, decision),
  };
  return client;
}
