/**
 * A2A for the agents whose manifest exposes them (`spec.a2a.enabled`): the card at
 * `/a2a/{namespace}/{agent}/.well-known/agent-card.json` (its URL from the configured public URL,
 * never the request's `Host`) and the JSON-RPC endpoint at `/a2a/{namespace}/{agent}`, whose
 * `tasks/*` reach only runs that started on that agent. Its
 * JSON-RPC endpoint at `/a2a/{namespace}/{agent}`. A message starts a run (the task); `message/send`
 * answers once the run ended or waits for a person (unless `configuration.blocking` is false),
 * `message/stream` and `tasks/resubscribe` stream the task's status updates as SSE.
 *
 * @module
 */
import { FreeholdError, isFreeholdError, isTerminal, type RunState } from "@freehold/api";
import { cancelRun, startRun } from "@freehold/handoff";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { GatewayParts } from "../gateway-parts.ts";
import { requestIssues } from "../request-issues.ts";
import type { Identity } from "../auth/identity.ts";
import { defineRoute, json, type Route } from "../route.ts";
import { AgentParameter, ErrorBody, NamespaceParameter } from "../schemas.ts";
import { serverSentEvents, type ServerSentEvent } from "../server-sent-events.ts";
import {
  a2aProtocolVersion,
  AgentCard,
  JsonRpcRequest,
  JsonRpcResponse,
  MessageSendParams,
  TaskIdParams,
  TaskQueryParams,
  type TaskState,
} from "./a2a-schemas.ts";
import { requireAgentTask, requireExposedAgent } from "./a2a-exposure.ts";
import { endUpdates, mayChangeState, messageInput, runTask, taskStatus } from "./a2a-task.ts";
import { errorEnvelope, readJsonRpcRequest, resultEnvelope, type JsonRpcId } from "./json-rpc.ts";

/** The version the cards give: the Freehold release serving the agent. */
const freeholdVersion = "0.1.0";

const agentParams = z.object({ namespace: NamespaceParameter, agent: AgentParameter });

function parseParams<Schema extends z.ZodType>(schema: Schema, params: unknown): z.output<Schema> {
  const result = schema.safeParse(params ?? {});
  if (!result.success) {
    const issues = requestIssues(result.error, params);
    throw new FreeholdError(
      "request.invalid",
      `invalid params: ${issues.map((issue) => `${issue.field}: ${issue.problem}`).join("; ")}`,
      { details: { in: "params", issues } },
    );
  }
  return result.data;
}

function jsonResponse(body: unknown): Response {
  return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
}

/** Starts the run of a message. */
async function startTask(
  parts: GatewayParts,
  namespace: string,
  agent: string,
  params: MessageSendParams,
  identity: Identity,
): Promise<RunState> {
  const { message } = params;
  if (message.role !== "user") {
    throw new FreeholdError("request.invalid", "invalid params: message.role: must be user", {
      details: { in: "params", issues: [{ field: "message.role", problem: "must be user" }] },
    });
  }
  if (message.taskId !== undefined) {
    await requireAgentTask(parts, namespace, agent, message.taskId);
    throw new FreeholdError(
      "a2a.unsupported-operation",
      `task ${message.taskId} takes no more messages: a Freehold run has one input, and people continue it ` +
        "through its human queue; send a new message without taskId",
    );
  }
  await parts.access.require(identity, {
    verb: "create",
    resource: "agents",
    subresource: "runs",
    namespace,
    name: agent,
  });
  // Who starts it is recorded first, so no approval of the run can come before the record.
  const runId = randomUUID();
  await parts.access.starters.record(namespace, runId, identity);
  try {
    return await startRun(
      { redis: parts.redis, store: parts.store, queues: parts.queues, quotas: parts.quotas },
      { namespace, agent, input: messageInput(message), runId },
    );
  } catch (error) {
    await parts.access.starters.forget(namespace, runId);
    throw error;
  }
}

/**
 * Waits until the run ended or waits for a person, at most `parts.a2aSendTimeoutMs`, then reads
 * it: on timeout the task is answered in its current state (`submitted` or `working`), which the
 * caller polls with `tasks/get` or follows with `tasks/resubscribe`.
 */
async function settled(parts: GatewayParts, run: RunState, signal: AbortSignal): Promise<RunState> {
  const waiting = AbortSignal.any([signal, AbortSignal.timeout(parts.a2aSendTimeoutMs)]);
  for await (const { event } of parts.events.follow(run.namespace, run.id, { signal: waiting })) {
    if (event.type === "run-end" || event.type === "human-handoff" || event.type === "approval-request")
      break;
  }
  signal.throwIfAborted();
  return parts.store.require(run.namespace, run.id);
}

/** The base URL of agent cards: the configured public URL, never the request's `Host`. */
function publicBase(parts: GatewayParts): string {
  if (parts.publicUrl === undefined) {
    throw new FreeholdError(
      "a2a.public-url-unavailable",
      "the gateway does not know its public URL yet: give it publicUrl (freehold gateway --public-url, " +
        "chart value gateway.publicUrl) or call listen first",
      { retryable: true },
    );
  }
  return parts.publicUrl.replace(/\/+$/, "");
}

/** The status updates of a task from its first event on, until the run ends. */
async function* taskUpdates(
  parts: GatewayParts,
  run: RunState,
  rpcId: JsonRpcId,
  signal: AbortSignal,
): AsyncGenerator<ServerSentEvent> {
  let last: TaskState = taskStatus(run).state;
  for await (const { event } of parts.events.follow(run.namespace, run.id, { signal })) {
    if (event.type === "run-end") {
      for (const update of endUpdates(run.id, event)) yield { data: resultEnvelope(rpcId, update) };
      return;
    }
    if (!mayChangeState(event)) continue;
    const current = await parts.store.get(run.namespace, run.id);
    if (current === undefined || isTerminal(current.status)) continue;
    const status = taskStatus(current);
    if (status.state === last) continue;
    last = status.state;
    yield {
      data: resultEnvelope(rpcId, {
        kind: "status-update",
        taskId: run.id,
        contextId: run.id,
        status,
        final: false,
      }),
    };
  }
}

function streamTask(parts: GatewayParts, run: RunState, rpcId: JsonRpcId, signal: AbortSignal): Response {
  return serverSentEvents(
    async function* (stop) {
      yield { data: resultEnvelope(rpcId, runTask(run)) };
      if (!isTerminal(run.status)) yield* taskUpdates(parts, run, rpcId, stop);
    },
    { signals: [signal, parts.closing], keepAliveMs: parts.keepAliveMs, log: parts.log },
  );
}

export const agentCardRoute = defineRoute({
  method: "get",
  path: "/a2a/{namespace}/{agent}/.well-known/agent-card.json",
  operationId: "agentCard",
  public: true,
  summary: "The A2A agent card of an agent",
  tag: "a2a",
  params: agentParams,
  responses: {
    200: { description: "The agent card (A2A 0.3.0).", schema: AgentCard },
    404: {
      description: "No agent of that name is exposed over A2A (spec.a2a.enabled) in the namespace.",
      schema: ErrorBody,
    },
  },
  handle: async (parts, { params }) => {
    const entry = await requireExposedAgent(parts, params.namespace, params.agent);
    const base = publicBase(parts);
    const endpoint = `${base}/a2a/${params.namespace}/${params.agent}`;
    const description =
      entry.description ?? `The Freehold agent ${params.agent} of namespace ${params.namespace}.`;
    return json(AgentCard, {
      protocolVersion: a2aProtocolVersion,
      name: params.agent,
      description,
      url: endpoint,
      preferredTransport: "JSONRPC",
      additionalInterfaces: [{ url: endpoint, transport: "JSONRPC" }],
      provider: { organization: "Freehold", url: base },
      version: freeholdVersion,
      capabilities: { streaming: true, pushNotifications: false, stateTransitionHistory: false },
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description:
            "A token the gateway verifies: a Kubernetes ServiceAccount or OIDC token, or a freehold dev token.",
        },
      },
      security: [{ bearer: [] }],
      defaultInputModes: ["text/plain", "application/json"],
      defaultOutputModes: ["text/plain"],
      skills: [
        {
          id: params.agent,
          name: params.agent,
          description,
          tags: ["freehold", params.namespace],
          inputModes: ["text/plain", "application/json"],
          outputModes: ["text/plain"],
        },
      ],
    });
  },
});

export const agentRpcRoute = defineRoute({
  method: "post",
  path: "/a2a/{namespace}/{agent}",
  operationId: "agentJsonRpc",
  summary: "A2A JSON-RPC: message/send, message/stream, tasks/get, tasks/cancel, tasks/resubscribe",
  description:
    "Task ids are run ids. States: queued→submitted, running→working, waiting for a person or an " +
    "approval→input-required, completed, failed and limit_exceeded→failed, cancelled→canceled. " +
    "message/stream and tasks/resubscribe answer with SSE, one JSON-RPC response per message.",
  tag: "a2a",
  params: agentParams,
  documentedBody: JsonRpcRequest,
  // Strangers to the namespace get a 404 before anything; each method checks its own verb.
  access: ({ namespace, agent }) => ({ verb: "get", resource: "agents", namespace, name: agent }),
  responses: {
    200: {
      description: "A JSON-RPC response; for message/stream and tasks/resubscribe an SSE stream of them.",
      schema: JsonRpcResponse,
      eventStream: "One JSON-RPC response per message: the Task, then status and artifact updates.",
      eventData: JsonRpcResponse,
    },
    404: {
      description: "No agent of that name is exposed over A2A (spec.a2a.enabled) in the namespace.",
      schema: ErrorBody,
    },
  },
  handle: async (parts, request) => {
    const { namespace, agent } = request.params;
    await requireExposedAgent(parts, namespace, agent);
    const read = readJsonRpcRequest(await request.text());
    if (!("request" in read)) return jsonResponse(errorEnvelope(read.id, read.error));
    const { method, params } = read.request;
    const id = read.request.id ?? null;
    const signal = AbortSignal.any([request.signal, parts.closing]);
    try {
      switch (method) {
        case "message/send": {
          const sendParams = parseParams(MessageSendParams, params);
          const run = await startTask(parts, namespace, agent, sendParams, request.identity);
          const blocking = sendParams.configuration?.blocking !== false;
          const current = blocking ? await settled(parts, run, signal) : run;
          const historyLength = sendParams.configuration?.historyLength;
          return jsonResponse(
            resultEnvelope(id, runTask(current, historyLength === undefined ? {} : { historyLength })),
          );
        }
        case "message/stream": {
          const run = await startTask(
            parts,
            namespace,
            agent,
            parseParams(MessageSendParams, params),
            request.identity,
          );
          return streamTask(parts, run, id, request.signal);
        }
        case "tasks/get": {
          const { id: taskId, historyLength } = parseParams(TaskQueryParams, params);
          await parts.access.require(request.identity, {
            verb: "get",
            resource: "runs",
            namespace,
            name: taskId,
          });
          const run = await requireAgentTask(parts, namespace, agent, taskId);
          return jsonResponse(
            resultEnvelope(id, runTask(run, historyLength === undefined ? {} : { historyLength })),
          );
        }
        case "tasks/cancel": {
          const { id: taskId } = parseParams(TaskIdParams, params);
          await parts.access.require(request.identity, {
            verb: "delete",
            resource: "runs",
            namespace,
            name: taskId,
          });
          await requireAgentTask(parts, namespace, agent, taskId);
          return jsonResponse(resultEnvelope(id, runTask(await cancelRun(parts.store, namespace, taskId))));
        }
        case "tasks/resubscribe": {
          const { id: taskId } = parseParams(TaskIdParams, params);
          await parts.access.require(request.identity, {
            verb: "watch",
            resource: "runs",
            namespace,
            name: taskId,
          });
          return streamTask(
            parts,
            await requireAgentTask(parts, namespace, agent, taskId),
            id,
            request.signal,
          );
        }
        case "tasks/pushNotificationConfig/set":
        case "tasks/pushNotificationConfig/get":
        case "tasks/pushNotificationConfig/list":
        case "tasks/pushNotificationConfig/delete":
          throw new FreeholdError(
            "a2a.push-notification-not-supported",
            "push notifications are not supported: use message/stream or tasks/resubscribe",
          );
        default:
          throw new FreeholdError(
            "a2a.method-not-found",
            `method ${method} is not supported; use message/send, message/stream, tasks/get, tasks/cancel or tasks/resubscribe`,
          );
      }
    } catch (error) {
      if (!isFreeholdError(error))
        parts.log(`A2A ${method} on ${namespace}/${agent} failed: ${String(error)}`);
      return jsonResponse(errorEnvelope(id, error));
    }
  },
});

/** The A2A routes. */
export const a2aRoutes: readonly Route[] = [agentCardRoute, agentRpcRoute];
