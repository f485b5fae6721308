/**
 * What a caller may do: an {@link Authorizer} answers whether an identity may perform a verb on a
 * `freehold.dev` resource (or virtual subresource) in a namespace, the way the API server's
 * RBAC does. Two implementations: SubjectAccessReview in a cluster, a policy file under
 * `freehold dev`. {@link createCachedAuthorizer} remembers decisions for a few seconds.
 *
 * @module
 */
import type { Identity } from "./identity.ts";

/** Verbs of the tenant roles on Freehold's resources. */
export type Verb = "get" | "list" | "watch" | "create" | "update" | "delete" | "claim" | "answer";

/** One action on a `freehold.dev` resource, as a SubjectAccessReview's resourceAttributes. */
export interface AccessRequest {
  readonly verb: Verb;
  /** `agents`, `runs`, `humanqueues`, `approvals`. */
  readonly resource: string;
  /** `runs` of `agents/runs`, `items` of `humanqueues/items`. */
  readonly subresource?: string;
  readonly namespace: string;
  /** The object's name, when the action is on one (an agent, a queue, a run). */
  readonly name?: string;
}

/** Decides access requests. */
export interface Authorizer {
  allowed(identity: Identity, request: AccessRequest): Promise<boolean>;
}

/** The API group of every access request. */
export const apiGroup = "freehold.dev";

/** `agents/runs` for an access request with a subresource. */
export function resourcePath(request: Pick<AccessRequest, "resource" | "subresource">): string {
  return request.subresource === undefined ? request.resource : `${request.resource}/${request.subresource}`;
}

const cacheLimit = 10_000;

/**
 * Remembers another authorizer's decisions for `ttlMs`, keyed by the user, the groups and the whole
 * request.
 *
 * @example
 * ```ts
 * const authorizer = createCachedAuthorizer(createSubjectAccessReviewAuthorizer({ client }), 5000);
 * ```
 */
export function createCachedAuthorizer(inner: Authorizer, ttlMs: number): Authorizer {
  const cache = new Map<string, { readonly allowed: boolean; readonly until: number }>();
  return {
    async allowed(identity, request) {
      const key = JSON.stringify([
        identity.user,
        [...identity.groups].sort(),
        request.verb,
        resourcePath(request),
        request.namespace,
        request.name ?? "",
      ]);
      const cached = cache.get(key);
      if (cached !== undefined && cached.until > Date.now()) return cached.allowed;
      const allowed = await inner.allowed(identity, request);
      if (cache.size >= cacheLimit) cache.delete(cache.keys().next().value ?? "");
      cache.set(key, { allowed, until: Date.now() + ttlMs });
      return allowed;
    },
  };
}
