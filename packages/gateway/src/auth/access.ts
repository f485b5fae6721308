/**
 * The gate every route passes: the RBAC check of its action, answered so that a namespace the
 * caller cannot read looks empty (404, never a 403 that confirms what exists there); the
 * HumanQueue's members; separation of duties on approvals; and which runs a caller may list.
 *
 * @module
 */
import { FreeholdError, type ApprovalItem, type Subject } from "@freehold/api";
import { resourcePath, type AccessRequest, type Authorizer } from "./authorizer.ts";
import type { Identity } from "./identity.ts";
import type { DirectoryQueue, ResourceDirectory } from "./resource-directory.ts";
import { isStarter, type RunStarters } from "./run-starters.ts";

/** The checks route handlers call. */
export interface Access {
  /**
   * Passes when the identity may perform the request; otherwise a 404 (`notFound`, or the
   * resource's not-found error) when it cannot read the namespace at all, else `auth.forbidden`.
   */
  require(identity: Identity, request: AccessRequest, notFound?: () => FreeholdError): Promise<void>;
  /** `auth.forbidden` unless the queue sets no members or the identity is one (by user or group). */
  requireQueueMember(identity: Identity, namespace: string, queue: string): Promise<void>;
  /** The namespace's HumanQueues whose items the identity works: members' queues and open ones. */
  memberQueues(identity: Identity, namespace: string): Promise<readonly DirectoryQueue[]>;
  /**
   * `auth.forbidden` when the identity started the approval's run (or the run it descends from)
   * and the agent's tool entry does not say `allowSelfApproval: true`.
   */
  requireNotSelfApproval(identity: Identity, approval: ApprovalItem): Promise<void>;
  /**
   * Which of a namespace's runs the identity may list: `all` when it may `list runs` there; else
   * `started` (those it started, or that descend from one it started) when it may start runs
   * there (`create agents/runs`, on every agent); else it is refused as {@link Access.require}
   * refuses `list runs`.
   */
  runsToList(identity: Identity, namespace: string): Promise<"all" | "started">;
  /** Who started which run. */
  readonly starters: RunStarters;
  /** What the gateway knows of the namespaces' HumanQueues and Agents. */
  readonly directory: ResourceDirectory;
}

/** What {@link createAccess} takes. */
export interface AccessOptions {
  readonly authorizer: Authorizer;
  readonly directory: ResourceDirectory;
  readonly starters: RunStarters;
}

/** The error of a thing that is not there, as the store would say it. */
function notFoundOf(request: AccessRequest): FreeholdError {
  const { namespace, name } = request;
  const details = { namespace, ...(name === undefined ? {} : { name }) };
  switch (request.resource) {
    case "runs":
      return new FreeholdError("run.not-found", `run ${name ?? ""} not found in namespace ${namespace}`, {
        details,
      });
    case "approvals":
      return new FreeholdError(
        "approval.not-found",
        `approval ${name ?? ""} not found in namespace ${namespace}`,
        {
          details,
        },
      );
    case "humanqueues":
      return new FreeholdError("inbox.item-not-found", `no such inbox item in namespace ${namespace}`, {
        details,
      });
    default:
      return new FreeholdError("agent.not-found", `agent ${name ?? ""} not found in namespace ${namespace}`, {
        details,
      });
  }
}

/**
 * @example
 * ```ts
 * const access = createAccess({ authorizer, directory, starters });
 * await access.require(identity, { verb: "delete", resource: "runs", namespace: "acme", name: runId });
 * ```
 */
export function createAccess(options: AccessOptions): Access {
  const { authorizer, directory, starters } = options;
  const access: Access = {
    starters,
    directory,
    async runsToList(identity, namespace) {
      const listAll = { verb: "list", resource: "runs", namespace } as const;
      if (await authorizer.allowed(identity, listAll)) return "all";
      const start = { verb: "create", resource: "agents", subresource: "runs", namespace } as const;
      if (await authorizer.allowed(identity, start)) return "started";
      await access.require(
        identity,
        listAll,
        () =>
          new FreeholdError(
            "run.not-found",
            `no runs to list in namespace ${namespace}: check its name, or ask its admins for a role there`,
            { details: { namespace } },
          ),
      );
      return "all";
    },
    async require(identity, request, notFound) {
      if (await authorizer.allowed(identity, request)) return;
      const readable = await authorizer.allowed(identity, {
        verb: "list",
        resource: "agents",
        namespace: request.namespace,
      });
      if (!readable) throw (notFound ?? (() => notFoundOf(request)))();
      throw new FreeholdError(
        "auth.forbidden",
        `${identity.user} may not ${request.verb} ${resourcePath(request)} in namespace ${request.namespace}: ` +
          "ask an admin of the namespace for a role that grants it (freehold-tenant-admin or -member)",
        { details: { verb: request.verb, resource: resourcePath(request), namespace: request.namespace } },
      );
    },
    async memberQueues(identity, namespace) {
      return (await directory.humanQueues(namespace)).filter((queue) => isMember(identity, queue.members));
    },
    async requireQueueMember(identity, namespace, queue) {
      if (isMember(identity, await directory.queueMembers(namespace, queue))) return;
      throw new FreeholdError(
        "auth.forbidden",
        `${identity.user} is not a member of human queue ${queue} in namespace ${namespace}: ` +
          "ask its owners to add you (or a group of yours) to spec.members",
        { details: { namespace, queue } },
      );
    },
    async requireNotSelfApproval(identity, approval) {
      const startedBy = await starters.startedBy(approval.namespace, approval.runId);
      if (!isStarter(startedBy, identity)) return;
      const tools = await directory.agentTools(approval.namespace, approval.agent);
      const entry = tools.find((tool) => tool.mcpServer === approval.server);
      if (entry?.allowSelfApproval === true) return;
      throw new FreeholdError(
        "auth.forbidden",
        `${identity.user} started run ${approval.runId}${startedBy === identity.user ? "" : ` (as ${startedBy})`} ` +
          `and may not approve its own call of ${approval.tool}: ` +
          "ask another member of the namespace to decide (or set allowSelfApproval on the agent's tool entry)",
        { details: { namespace: approval.namespace, itemId: approval.id, runId: approval.runId } },
      );
    },
  };
  return access;
}

/** Whether the identity is one of a queue's members (by user or group); a queue without members is open. */
function isMember(identity: Identity, members: readonly Subject[] | undefined): boolean {
  if (members === undefined) return true;
  return members.some((subject) =>
    subject.user !== undefined
      ? subject.user === identity.user
      : identity.groups.includes(subject.group ?? ""),
  );
}
