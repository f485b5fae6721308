/**
 * Approvals: the tool calls waiting for a person's yes or no, and the decision, made as the
 * authenticated person: `approvals` get/list to see them, update to decide. Separation of duties:
 * the person who started a run does not decide its calls unless the agent's tool entry says
 * `allowSelfApproval: true`.
 *
 * @module
 */
import { ApprovalItem, DecisionRequest, DnsLabel, isFreeholdError, RunState } from "@freehold/api";
import { z } from "zod";
import { page, pageQuery } from "./pagination.ts";
import { defineRoute, json, linksTo, type Route } from "./route.ts";
import { runLinks } from "./run-routes.ts";
import { ApprovalItemList, ErrorBody, ItemParameter, NamespaceParameter } from "./schemas.ts";

const itemParams = z.object({ namespace: NamespaceParameter, itemId: ItemParameter });

export const listApprovalsRoute = defineRoute({
  method: "get",
  path: "/v1/namespaces/{namespace}/approvals",
  operationId: "listApprovals",
  summary: "Tool calls waiting for approval, oldest first",
  tag: "approvals",
  params: z.object({ namespace: NamespaceParameter }),
  query: z.object({ agent: DnsLabel.optional().describe("Only this agent's approvals."), ...pageQuery }),
  access: ({ namespace }) => ({ verb: "list", resource: "approvals", namespace }),
  responses: {
    200: {
      description: "The approval items.",
      schema: ApprovalItemList,
      links: linksTo(["getApproval", "decideApproval"], {
        namespace: "$request.path.namespace",
        itemId: "$response.body#/items/0/id",
      }),
    },
    400: { description: "A parameter does not match its schema.", schema: ErrorBody },
    403: { description: "You may not list approvals here (auth.forbidden).", schema: ErrorBody },
    404: { description: "A namespace you cannot read.", schema: ErrorBody },
  },
  handle: async (parts, { params, query, identity }) => {
    const items = await parts.approvals.list(
      params.namespace,
      query.agent === undefined ? {} : { agent: query.agent },
    );
    const listed = page(items, (item) => item.id, query);
    // Separation of duties said up front: the calls of runs the caller started carry why not.
    const checked = await Promise.all(
      listed.items.map(async (item) => {
        try {
          await parts.access.requireNotSelfApproval(identity, item);
          return item;
        } catch (error) {
          if (!isFreeholdError(error, "auth.forbidden")) throw error;
          return { ...item, notYours: error.message };
        }
      }),
    );
    return json(ApprovalItemList, { ...listed, items: checked });
  },
});

export const getApprovalRoute = defineRoute({
  method: "get",
  path: "/v1/namespaces/{namespace}/approvals/{itemId}",
  operationId: "getApproval",
  summary: "One approval item: the tool call, its arguments, the model's reason",
  tag: "approvals",
  params: itemParams,
  access: ({ namespace, itemId }) => ({ verb: "get", resource: "approvals", namespace, name: itemId }),
  responses: {
    200: {
      description: "The approval item.",
      schema: ApprovalItem,
      links: linksTo(["decideApproval"], {
        namespace: "$request.path.namespace",
        itemId: "$response.body#/id",
      }),
    },
    400: { description: "A parameter does not match its schema.", schema: ErrorBody },
    403: { description: "You may not read approvals here (auth.forbidden).", schema: ErrorBody },
    404: {
      description: "No such approval (approval.not-found), or a namespace you cannot read.",
      schema: ErrorBody,
    },
  },
  handle: async (parts, { params }) =>
    json(ApprovalItem, await parts.approvals.get(params.namespace, params.itemId)),
});

export const decideApprovalRoute = defineRoute({
  method: "post",
  path: "/v1/namespaces/{namespace}/approvals/{itemId}/decision",
  operationId: "decideApproval",
  summary: "Approve (the call runs) or reject (the model gets an error with your reason)",
  tag: "approvals",
  params: itemParams,
  access: ({ namespace, itemId }) => ({ verb: "update", resource: "approvals", namespace, name: itemId }),
  body: DecisionRequest,
  responses: {
    200: { description: "The run, after the decision.", schema: RunState, links: runLinks(["getRun"]) },
    400: { description: "A parameter or the body does not match its schema.", schema: ErrorBody },
    403: {
      description:
        "You may not decide approvals here, or you started the run and the tool does not allow self-approval (auth.forbidden).",
      schema: ErrorBody,
    },
    404: {
      description: "No such approval (approval.not-found), or a namespace you cannot read.",
      schema: ErrorBody,
    },
    409: { description: "The run no longer waits for it (approval.stale).", schema: ErrorBody },
  },
  handle: async (parts, { params, body, identity }) => {
    await parts.access.requireNotSelfApproval(
      identity,
      await parts.approvals.get(params.namespace, params.itemId),
    );
    return json(RunState, await parts.approvals.decide(params.namespace, params.itemId, identity, body));
  },
});

/** The approval routes. */
export const approvalRoutes: readonly Route[] = [listApprovalsRoute, getApprovalRoute, decideApprovalRoute];
