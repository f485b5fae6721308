/**
 * Runs: start one on an agent, list a namespace's runs, read one with its history, stream its
 * events (SSE, resumable with `Last-Event-ID`), cancel it; and list the agents a namespace has.
 * Each declares its RBAC action: `agents/runs` create, `runs` get/watch/delete, `agents` list;
 * listing runs asks in its handler: `runs` list shows them all, `agents/runs` create alone the
 * caller's own.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import {
  DnsLabel,
  FreeholdError,
  RunEvent,
  RunState,
  runStatuses,
  type RunStatus,
  type RunSummary,
} from "@freehold/api";
import { cancelRun, startRun } from "@freehold/handoff";
import { z } from "zod";
import { isStarter } from "./auth/run-starters.ts";
import { defaultPageSize, indexCursor, indexPosition, pageQuery } from "./pagination.ts";
import { defineRoute, json, linksTo, type Route, type RouteLink } from "./route.ts";
import {
  AgentList,
  AgentParameter,
  ErrorBody,
  NamespaceParameter,
  RunDetails,
  RunEventList,
  RunList,
  RunParameter,
  StartRunBody,
} from "./schemas.ts";
import { serverSentEvents } from "./server-sent-events.ts";

/**
 * A Redis stream id, as sent in SSE `id:` fields: two unsigned 64-bit numbers; at most 19 digits
 * each, so that every id the pattern admits is one Redis takes (a longer one made XRANGE fail
 * with a 500).
 */
const StreamId = z
  .string()
  .regex(/^\d{1,19}-\d{1,19}$/, "must be an event id as sent in the SSE id field, e.g. 1700000000000-0");

const errors = {
  400: {
    description: "A parameter or the body does not match its schema; the message names the field.",
    schema: ErrorBody,
  },
  404: { description: "No such run in the namespace.", schema: ErrorBody },
} as const;

const namespaceParams = z.object({ namespace: NamespaceParameter });

/** Where an answer that is a run (its `id`) leads. */
export const runLinks = (operations: readonly string[]): Record<string, RouteLink> =>
  linksTo(operations, { namespace: "$request.path.namespace", runId: "$response.body#/id" });
const runParams = z.object({ namespace: NamespaceParameter, runId: RunParameter });

export const listAgentsRoute = defineRoute({
  method: "get",
  path: "/v1/namespaces/{namespace}/agents",
  operationId: "listAgents",
  summary: "The agents of a namespace (as their workers registered them)",
  tag: "runs",
  params: namespaceParams,
  access: ({ namespace }) => ({ verb: "list", resource: "agents", namespace }),
  responses: {
    200: {
      description: "The agents, by name.",
      schema: AgentList,
      links: linksTo(["startRun"], {
        namespace: "$request.path.namespace",
        agent: "$response.body#/agents/0/name",
      }),
    },
    400: errors[400],
  },
  handle: async (parts, { params }) => {
    const registered = (await parts.registry.list(params.namespace)).slice(0, maxListedAgents);
    const agents = await Promise.all(
      registered.map(async (agent) => {
        const [counts, known] = await Promise.all([
          parts.queues
            .queue(params.namespace, agent.name)
            .getJobCounts("waiting", "delayed", "prioritized", "active"),
          parts.access.directory.agent(params.namespace, agent.name),
        ]);
        return {
          ...agent,
          queued: (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
          working: counts.active ?? 0,
          ...(known === undefined
            ? {}
            : {
                tools: [...known.tools],
                handoffs: [...known.handoffs],
                ...(known.model === undefined ? {} : { model: known.model }),
                ...(known.conditions === undefined ? {} : { conditions: [...known.conditions] }),
              }),
        };
      }),
    );
    return json(AgentList, { agents });
  },
});

/** The most agents one list gives (each costs a read of its queue's counts and of its resource). */
const maxListedAgents = 500;

const statusAlternatives = runStatuses.join("|");

/**
 * `status`: one run status, or several joined by commas; an unknown one is a 400 that names it and
 * lists the statuses there are.
 */
const StatusFilter = z
  .string()
  .max(200)
  .transform((text, context): RunStatus[] => {
    const statuses = text.split(",");
    const unknown = statuses.filter((status) => !(runStatuses as readonly string[]).includes(status));
    if (unknown.length > 0) {
      context.addIssue({
        code: "custom",
        message:
          `unknown status ${unknown.map((status) => JSON.stringify(status)).join(", ")}: ` +
          `give one of ${runStatuses.join(", ")}, or several joined by commas`,
      });
      return z.NEVER;
    }
    return [...new Set(statuses as RunStatus[])];
  })
  .optional()
  // What the document says: the text the filter takes.
  .meta({ type: "string", maxLength: 200, pattern: `^(${statusAlternatives})(,(${statusAlternatives}))*$` })
  .describe(
    "Only runs with this status, or with one of several joined by commas (waiting_for_human,waiting_for_approval).",
  );

export const listRunsRoute = defineRoute({
  method: "get",
  path: "/v1/namespaces/{namespace}/runs",
  operationId: "listRuns",
  summary: "A namespace's runs, newest first, as summaries (no conversation)",
  description:
    "Who may list every run of the namespace (`list runs`) gets them all; who may only start runs " +
    "there (`create agents/runs`) gets the runs they started, and their child runs. A page reads a " +
    "bounded stretch of the runs, so with filters it may hold fewer than `limit` items, even none, " +
    "and still have a `nextCursor`: go on until a page has none.",
  tag: "runs",
  params: namespaceParams,
  query: z.object({
    agent: DnsLabel.optional().describe("Only the runs this agent owns now."),
    status: StatusFilter,
    startedBy: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe("Only the runs this person started (and their child runs), by user name."),
    since: z.iso
      .datetime({ offset: true })
      .optional()
      .describe("Only the runs created at or after this time (ISO 8601)."),
    ...pageQuery,
  }),
  // No `access`: the handler asks which runs the caller may list (all, or the ones they started).
  responses: {
    200: {
      description: "The runs, newest first.",
      schema: RunList,
      links: linksTo(["getRun", "runEvents", "cancelRun"], {
        namespace: "$request.path.namespace",
        runId: "$response.body#/items/0/id",
      }),
    },
    400: errors[400],
    403: {
      description: "You may neither list runs nor start them here (auth.forbidden).",
      schema: ErrorBody,
    },
    404: { description: "A namespace you cannot read.", schema: ErrorBody },
  },
  handle: async (parts, { params, query, identity }) => {
    const runs = await parts.access.runsToList(identity, params.namespace);
    const { startedBy } = query;
    // Who started each run, read once per run whether a filter asks or the answer shows it.
    const starters = new Map<string, string | undefined>();
    const startersOf = async (summaries: readonly RunSummary[]): Promise<(string | undefined)[]> => {
      const unknown = summaries.filter((summary) => !starters.has(summary.id));
      const read = await parts.access.starters.startersOf(params.namespace, unknown);
      unknown.forEach((summary, index) => starters.set(summary.id, read[index]));
      return summaries.map((summary) => starters.get(summary.id));
    };
    const page = await parts.store.list(params.namespace, {
      limit: query.limit ?? defaultPageSize,
      ...(query.cursor === undefined ? {} : { after: indexPosition(query.cursor) }),
      ...(query.agent === undefined ? {} : { agent: query.agent }),
      ...(query.status === undefined ? {} : { statuses: query.status }),
      ...(query.since === undefined ? {} : { createdFrom: Date.parse(query.since) }),
      ...(runs === "all" && startedBy === undefined
        ? {}
        : {
            where: async (summaries) =>
              (await startersOf(summaries)).map(
                (user) =>
                  (runs === "all" || isStarter(user, identity)) &&
                  (startedBy === undefined || isStarter(user, { user: startedBy, groups: [] })),
              ),
          }),
    });
    const shown = await startersOf(page.runs);
    return json(RunList, {
      items: page.runs.map((run, index) => {
        const user = shown[index];
        return user === undefined ? run : { ...run, startedBy: user };
      }),
      ...(page.next === undefined ? {} : { nextCursor: indexCursor(page.next) }),
    });
  },
});

export const startRunRoute = defineRoute({
  method: "post",
  path: "/v1/namespaces/{namespace}/agents/{agent}/runs",
  operationId: "startRun",
  summary: "Start a run of an agent",
  description:
    "Stores the run (status queued) and puts it on the agent's queue. Follow it with GET .../runs/{runId}/events.",
  tag: "runs",
  params: z.object({ namespace: NamespaceParameter, agent: AgentParameter }),
  access: ({ namespace, agent }) => ({
    verb: "create",
    resource: "agents",
    subresource: "runs",
    namespace,
    name: agent,
  }),
  body: StartRunBody,
  responses: {
    201: {
      description: "The run, queued.",
      schema: RunState,
      links: runLinks(["getRun", "runEvents", "cancelRun"]),
      headers: {
        Location: { description: "The run's URL.", required: true, schema: { type: "string" } },
      },
    },
    400: errors[400],
    404: { description: "The agent is not running in the namespace.", schema: ErrorBody },
    409: { description: "A run with this runId exists.", schema: ErrorBody },
    429: {
      description:
        "The namespace's tenant started its runsPerMinute (quota.runs_exceeded); retry after Retry-After seconds.",
      schema: ErrorBody,
    },
    503: {
      description:
        "Redis is full (store.full) or cannot be reached; nothing was stored. Retry after Retry-After seconds.",
      schema: ErrorBody,
    },
  },
  handle: async (parts, { params, body, identity }) => {
    await parts.registry.require(params.namespace, params.agent);
    // Who starts it is recorded first, so no approval of the run can come before the record.
    const runId = body.runId ?? randomUUID();
    const recorded = await parts.access.starters.record(params.namespace, runId, identity);
    let run: RunState;
    try {
      run = await startRun(
        { redis: parts.redis, store: parts.store, queues: parts.queues, quotas: parts.quotas },
        { namespace: params.namespace, agent: params.agent, input: body.input, runId },
      );
    } catch (error) {
      if (recorded) await parts.access.starters.forget(params.namespace, runId);
      throw error;
    }
    return json(RunState, run, 201, {
      location: `/v1/namespaces/${params.namespace}/runs/${encodeURIComponent(run.id)}`,
    });
  },
});

export const getRunRoute = defineRoute({
  method: "get",
  path: "/v1/namespaces/{namespace}/runs/{runId}",
  operationId: "getRun",
  summary: "A run: status, usage, output, conversation, and its history of events",
  tag: "runs",
  params: runParams,
  access: ({ namespace, runId }) => ({ verb: "get", resource: "runs", namespace, name: runId }),
  responses: { 200: { description: "The run.", schema: RunDetails }, 400: errors[400], 404: errors[404] },
  handle: async (parts, { params }) => {
    const state = await parts.store.require(params.namespace, params.runId);
    const history = await parts.store.readEvents(params.namespace, params.runId);
    return json(RunDetails, { ...state, history });
  },
});

export const runEventsRoute = defineRoute({
  method: "get",
  path: "/v1/namespaces/{namespace}/runs/{runId}/events",
  operationId: "runEvents",
  summary: "A run's events: Server-Sent Events until the run ends, or JSON with follow=false",
  description:
    "Each SSE message has the event's id (`id:`) and the event as JSON (`data:`). Reconnect with " +
    "`Last-Event-ID` (or `?after=`) to resume after the last event received. The stream ends after " +
    "the `run-end` event.",
  tag: "runs",
  params: runParams,
  query: z.object({
    follow: z
      .enum(["true", "false"])
      .default("true")
      .describe("true: stream (SSE) until the run ends; false: the stored events as JSON."),
    after: StreamId.optional().describe("Only events after this id (Last-Event-ID takes precedence)."),
  }),
  access: ({ namespace, runId }, { follow }) => ({
    verb: follow === "true" ? "watch" : "get",
    resource: "runs",
    namespace,
    name: runId,
  }),
  headers: [
    {
      name: "Last-Event-ID",
      description: "Resume after this event id (sent by EventSource on reconnect); empty: from the start.",
      required: false,
      schema: StreamId.or(z.literal("")),
    },
  ],
  responses: {
    200: {
      description: "The events: an SSE stream (follow=true) or `{events}` (follow=false).",
      schema: RunEventList,
      eventStream: "One message per event: `id:` the event id, `data:` the event (RunEvent) as JSON.",
      eventData: RunEvent,
    },
    400: errors[400],
    404: errors[404],
  },
  handle: async (parts, { params, query, headers, signal }) => {
    const header = headers.get("last-event-id");
    let after = query.after;
    if (header !== null && header !== "") {
      const parsed = StreamId.safeParse(header);
      if (!parsed.success) {
        throw new FreeholdError(
          "request.invalid",
          `invalid header: Last-Event-ID: ${parsed.error.issues[0]?.message ?? "not an event id"}`,
          { details: { in: "header", issues: [{ field: "Last-Event-ID", problem: "not an event id" }] } },
        );
      }
      after = parsed.data;
    }
    await parts.store.require(params.namespace, params.runId);
    if (query.follow === "false") {
      const events = await parts.store.readEvents(params.namespace, params.runId, {
        ...(after === undefined ? {} : { after }),
      });
      return json(RunEventList, { events });
    }
    return serverSentEvents(
      async function* (stop) {
        const events = parts.events.follow(params.namespace, params.runId, {
          signal: stop,
          ...(after === undefined ? {} : { after }),
        });
        for await (const { id, event } of events) yield { id, data: event };
      },
      { signals: [signal, parts.closing], keepAliveMs: parts.keepAliveMs, log: parts.log },
    );
  },
});

export const cancelRunRoute = defineRoute({
  method: "post",
  path: "/v1/namespaces/{namespace}/runs/{runId}/cancel",
  operationId: "cancelRun",
  summary: "Cancel a run that has not ended",
  description: "The run is cancelled at once; a worker working on it stops at its next step.",
  tag: "runs",
  params: runParams,
  access: ({ namespace, runId }) => ({ verb: "delete", resource: "runs", namespace, name: runId }),
  responses: {
    200: { description: "The run, cancelled.", schema: RunState },
    400: errors[400],
    404: errors[404],
    409: { description: "The run already ended (run.finished).", schema: ErrorBody },
  },
  handle: async (parts, { params }) =>
    json(RunState, await cancelRun(parts.store, params.namespace, params.runId)),
});

/** The run routes. */
export const runRoutes: readonly Route[] = [
  listAgentsRoute,
  listRunsRoute,
  startRunRoute,
  getRunRoute,
  runEventsRoute,
  cancelRunRoute,
];
