/**
 * The cluster's authorizer: a SubjectAccessReview per decision, on `freehold.dev` resources and
 * the virtual subresources the chart's tenant ClusterRoles grant (`agents/runs`,
 * `humanqueues/items`, `runs`, `approvals`). Wrap it in `createCachedAuthorizer`.
 *
 * @module
 */
import { z } from "zod";
import { apiGroup, type Authorizer } from "./authorizer.ts";
import type { KubernetesClient } from "./kubernetes-client.ts";

const ReviewAnswer = z.object({ status: z.object({ allowed: z.boolean().optional() }).optional() });

/**
 * @example
 * ```ts
 * const authorizer = createSubjectAccessReviewAuthorizer({ client });
 * await authorizer.allowed({ user: "ann", groups: [] }, { verb: "create", resource: "agents", subresource: "runs", namespace: "acme" });
 * ```
 */
export function createSubjectAccessReviewAuthorizer(options: {
  readonly client: KubernetesClient;
}): Authorizer {
  return {
    async allowed(identity, request) {
      const answer = ReviewAnswer.parse(
        await options.client.call("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: {
            user: identity.user,
            groups: [...identity.groups],
            resourceAttributes: {
              group: apiGroup,
              verb: request.verb,
              resource: request.resource,
              namespace: request.namespace,
              ...(request.subresource === undefined ? {} : { subresource: request.subresource }),
              ...(request.name === undefined ? {} : { name: request.name }),
            },
          },
        }),
      );
      return answer.status?.allowed === true;
    },
  };
}
