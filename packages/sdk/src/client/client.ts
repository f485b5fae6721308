/**
 * The typed client of the gateway's HTTP API, for Node and browsers (fetch only): runs (start, list,
 * get, follow their events, cancel), agents, human inboxes (and their live feeds) and approvals. Every answer is parsed with the
 * same zod schema the gateway answers with (`@freehold/api`), and every error comes back as the
 * {@link FreeholdError} the gateway sent (its code, message and details).
 *
 * @module
 */
import {
  AgentList,
  ApprovalItem,
  ApprovalItemList,
  ErrorBody,
  FreeholdError,
  HumanQueueList,
  InboxItem,
  InboxItemList,
  RunDetails,
  RunEventList,
  RunList,
  RunState,
  type AnswerRequest,
  type ClaimRequest,
  type DecisionRequest,
  type HandBackRequest,
  type RunStatus,
  type StartRunBody,
  type StoredInboxEvent,
  type StoredRunEvent,
} from "@freehold/api";
import type { z } from "zod";
import { followEvents, followInboxEvents, type FollowOptions } from "./follow.ts";

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** The gateway's base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** The bearer token of the person acting (every route but health needs one). */
  readonly token?: string;
  /** Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
}

/** Options of {@link FreeholdClient.listRuns}. */
export interface ListRunsOptions {
  /** Only the runs this agent owns now. */
  readonly agent?: string;
  /** Only runs with this status, or with one of these. */
  readonly status?: RunStatus | readonly RunStatus[];
  /** Only the runs this person started (and their child runs), by user name. */
  readonly startedBy?: string;
  /** Only the runs created at or after this time. */
  readonly since?: Date | string;
  /** Runs per page: 1 to 500; the gateway's default is 100. */
  readonly limit?: number;
  /** The `nextCursor` of the previous page, as it was given. */
  readonly cursor?: string;
}

export interface FreeholdClient {
  listAgents(namespace: string): Promise<AgentList["agents"]>;
  startRun(namespace: string, agent: string, request: StartRunBody): Promise<RunState>;
  /**
   * One page of the namespace's runs, newest first, as summaries (no conversation): all of them if
   * you may list runs there, else the ones you started. Go on with `cursor: page.nextCursor` until
   * a page has none; with filters a page may hold fewer runs than `limit`, even none.
   */
  listRuns(namespace: string, options?: ListRunsOptions): Promise<RunList>;
  getRun(namespace: string, runId: string): Promise<RunDetails>;
  /** The run's stored events (not followed), optionally after an event id. */
  runEvents(
    namespace: string,
    runId: string,
    options?: { readonly after?: string },
  ): Promise<StoredRunEvent[]>;
  /**
   * Follows a run's events as they happen, from the start (or after `after`) to its end: Server-Sent
   * Events, reconnecting after a dropped connection with `Last-Event-ID`, so no event is missed or
   * given twice. Ends after the run's `run-end` event; stops early when `signal` aborts.
   */
  follow(namespace: string, runId: string, options?: FollowOptions): AsyncIterable<StoredRunEvent>;
  cancelRun(namespace: string, runId: string): Promise<RunState>;
  /** The human queues whose items you work (members' and open ones), with waiting and claimed counts. */
  listHumanQueues(namespace: string): Promise<HumanQueueList["queues"]>;
  /** A queue's items, every page of them: waiting ones by priority then age, then claimed ones. */
  listInbox(namespace: string, queue: string): Promise<InboxItem[]>;
  /** One page of a queue's items (`limit` 1 to 500, default 100), and the cursor of the next. */
  listInboxPage(
    namespace: string,
    queue: string,
    options?: { readonly limit?: number; readonly cursor?: string },
  ): Promise<InboxItemList>;
  /**
   * Follows the changes to a human queue's items as they happen (`InboxEvent`: added, claimed,
   * released, lease-expired, escalated, removed), reconnecting after a dropped connection with
   * `Last-Event-ID`, so no change is missed or given twice. Without `after` the first event is a
   * `reset` (`reason: "start"`): list the queue then ({@link listInbox}) and apply what follows; a
   * `reset` with `reason: "missed"` (a position older than the gateway keeps) says to list again.
   * Never ends on its own: stop it with `signal` (or by leaving the loop). Keep an event's `id` to
   * resume later with `after`.
   *
   * @example
   * ```ts
   * const items = new Map<string, InboxItem>();
   * for await (const { event } of client.followInbox("acme", "billing-desk", { signal })) {
   *   if (event.type === "reset") {
   *     items.clear();
   *     for (const item of await client.listInbox("acme", "billing-desk")) items.set(item.id, item);
   *   } else if (event.type === "removed" || event.type === "escalated") items.delete(event.itemId);
   *   else {
   *     // Gone already, or moved on: the events that say so follow.
   *     const item = await client.getInboxItem("acme", event.itemId).catch(() => undefined);
   *     if (item?.queue === "billing-desk") items.set(item.id, item);
   *   }
   * }
   * ```
   */
  followInbox(namespace: string, queue: string, options?: FollowOptions): AsyncIterable<StoredInboxEvent>;
  /** An inbox item by id, whichever queue it is in. */
  getInboxItem(namespace: string, itemId: string): Promise<InboxItem>;
  claim(namespace: string, itemId: string, request?: ClaimRequest): Promise<InboxItem>;
  release(namespace: string, itemId: string): Promise<InboxItem>;
  /** Answers the user; `end` defaults to true (the run ends with the answer). */
  answer(namespace: string, itemId: string, request: z.input<typeof AnswerRequest>): Promise<RunState>;
  handBack(namespace: string, itemId: string, request: HandBackRequest): Promise<RunState>;
  /** Tool calls waiting for a decision; `notYours` says why you may not decide one (you started its run). */
  listApprovals(namespace: string, options?: { readonly agent?: string }): Promise<ApprovalItemList["items"]>;
  getApproval(namespace: string, itemId: string): Promise<ApprovalItem>;
  decide(namespace: string, itemId: string, decision: DecisionRequest): Promise<RunState>;
}

function segment(value: string): string {
  return encodeURIComponent(value);
}

/**
 * @example
 * ```ts
 * const client = createClient({ url: "http://127.0.0.1:8080", token: process.env.FREEHOLD_TOKEN });
 * const [item] = await client.listInbox("acme", "billing-desk");
 * await client.claim("acme", item.id);
 * await client.answer("acme", item.id, { message: "Your refund is on its way." });
 * ```
 */
export function createClient(options: ClientOptions): FreeholdClient {
  const base = options.url.replace(/\/+$/, "");
  // Called through a wrapper, never as a method of another object: a browser's `fetch` called with any
  // `this` but the window throws "Illegal invocation".
  const given = options.fetch;
  const fetchFunction: typeof fetch = (input, init) =>
    given === undefined ? fetch(input, init) : given(input, init);

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
          "check the URL and that the gateway is running (`freehold gateway`, or the chart's gateway Service)",
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
  /** Every item of a paged list, page after page (at most the largest page size, 500, at a time). */
  const allPages = async <Item>(
    schema: z.ZodType<{ items: Item[]; nextCursor?: string | undefined }>,
    path: string,
  ): Promise<Item[]> => {
    const items: Item[] = [];
    const separator = path.includes("?") ? "&" : "?";
    let cursor: string | undefined;
    do {
      const page = await call(
        schema,
        "GET",
        `${path}${separator}limit=500${cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`}`,
      );
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return items;
  };
  const itemPath = async (namespace: string, itemId: string): Promise<string> => {
    const item = await client.getInboxItem(namespace, itemId);
    return `${namespacePath(namespace)}/humanqueues/${segment(item.queue)}/items/${segment(itemId)}`;
  };

  const client: FreeholdClient = {
    async listAgents(namespace) {
      return (await call(AgentList, "GET", `${namespacePath(namespace)}/agents`)).agents;
    },
    startRun: (namespace, agent, request) =>
      call(RunState, "POST", `${namespacePath(namespace)}/agents/${segment(agent)}/runs`, request),
    listRuns(namespace, listOptions = {}) {
      const query = new URLSearchParams();
      if (listOptions.agent !== undefined) query.set("agent", listOptions.agent);
      if (listOptions.startedBy !== undefined) query.set("startedBy", listOptions.startedBy);
      if (listOptions.since !== undefined) {
        query.set(
          "since",
          typeof listOptions.since === "string" ? listOptions.since : listOptions.since.toISOString(),
        );
      }
      if (listOptions.status !== undefined) {
        query.set(
          "status",
          typeof listOptions.status === "string" ? listOptions.status : listOptions.status.join(","),
        );
      }
      if (listOptions.limit !== undefined) query.set("limit", String(listOptions.limit));
      if (listOptions.cursor !== undefined) query.set("cursor", listOptions.cursor);
      const search = query.toString();
      return call(RunList, "GET", `${namespacePath(namespace)}/runs${search === "" ? "" : `?${search}`}`);
    },
    getRun: (namespace, runId) =>
      call(RunDetails, "GET", `${namespacePath(namespace)}/runs/${segment(runId)}`),
    async runEvents(namespace, runId, eventOptions = {}) {
      const query = new URLSearchParams({ follow: "false" });
      if (eventOptions.after !== undefined) query.set("after", eventOptions.after);
      const path = `${namespacePath(namespace)}/runs/${segment(runId)}/events?${query.toString()}`;
      return (await call(RunEventList, "GET", path)).events;
    },
    follow: (namespace, runId, followOptions = {}) =>
      followEvents(
        {
          fetch: fetchFunction,
          url: (after) => {
            const query = after === undefined ? "" : `?after=${segment(after)}`;
            return `${base}${namespacePath(namespace)}/runs/${segment(runId)}/events${query}`;
          },
          headers: (): Record<string, string> =>
            options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
          where: `run ${namespace}/${runId}`,
        },
        followOptions,
      ),
    cancelRun: (namespace, runId) =>
      call(RunState, "POST", `${namespacePath(namespace)}/runs/${segment(runId)}/cancel`, {}),
    async listHumanQueues(namespace) {
      return (await call(HumanQueueList, "GET", `${namespacePath(namespace)}/humanqueues`)).queues;
    },
    listInboxPage(namespace, queue, pageOptions = {}) {
      const query = new URLSearchParams();
      if (pageOptions.limit !== undefined) query.set("limit", String(pageOptions.limit));
      if (pageOptions.cursor !== undefined) query.set("cursor", pageOptions.cursor);
      const search = query.size === 0 ? "" : `?${query.toString()}`;
      return call(
        InboxItemList,
        "GET",
        `${namespacePath(namespace)}/humanqueues/${segment(queue)}/items${search}`,
      );
    },
    listInbox: (namespace, queue) =>
      allPages(InboxItemList, `${namespacePath(namespace)}/humanqueues/${segment(queue)}/items`),
    followInbox: (namespace, queue, followOptions = {}) =>
      followInboxEvents(
        {
          fetch: fetchFunction,
          url: (after) => {
            const query = after === undefined ? "" : `?after=${segment(after)}`;
            return `${base}${namespacePath(namespace)}/humanqueues/${segment(queue)}/events${query}`;
          },
          headers: (): Record<string, string> =>
            options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
          where: `human queue ${namespace}/${queue}`,
        },
        followOptions,
      ),
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
    listApprovals: (namespace, listOptions = {}) =>
      allPages(
        ApprovalItemList,
        `${namespacePath(namespace)}/approvals${listOptions.agent === undefined ? "" : `?agent=${segment(listOptions.agent)}`}`,
      ),
    getApproval: (namespace, itemId) =>
      call(ApprovalItem, "GET", `${namespacePath(namespace)}/approvals/${segment(itemId)}`),
    decide: (namespace, itemId, decision) =>
      call(RunState, "POST", `${namespacePath(namespace)}/approvals/${segment(itemId)}/decision`, decision),
  };
  return client;
}
