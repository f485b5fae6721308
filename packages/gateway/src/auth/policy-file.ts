/**
 * The local authorizer of `freehold dev`: a policy file that binds people and groups to the
 * chart's tenant roles per namespace, decided with the same rules as the ClusterRoles
 * `freehold-tenant-admin` and `freehold-tenant-member` (charts/freehold/templates/tenant-roles.yaml).
 *
 * ```yaml
 * bindings:
 *   - namespace: acme        # or "*": every namespace
 *     role: member           # admin | member
 *     subjects: [{ user: ann }, { group: billing-desk }]
 * ```
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { FreeholdError, Subject } from "@freehold/api";
import { parse } from "yaml";
import { z } from "zod";
import { resourcePath, type Authorizer, type Verb } from "./authorizer.ts";
import type { Identity } from "./identity.ts";

/** A rule of a role: verbs on resources (`agents/runs` for a subresource); `*` matches any. */
export interface RoleRule {
  readonly resources: readonly string[];
  readonly verbs: readonly (Verb | "*")[];
}

/** The `freehold.dev` rules of the chart's tenant ClusterRoles. */
export const tenantRoleRules: Readonly<Record<"admin" | "member", readonly RoleRule[]>> = {
  admin: [{ resources: ["*"], verbs: ["*"] }],
  member: [
    { resources: ["agents", "models", "mcpservers", "humanqueues"], verbs: ["get", "list", "watch"] },
    { resources: ["agents/runs"], verbs: ["create"] },
    { resources: ["runs"], verbs: ["get", "list", "watch"] },
    { resources: ["humanqueues/items"], verbs: ["get", "list", "claim", "answer", "update"] },
    { resources: ["approvals"], verbs: ["get", "list", "update"] },
  ],
};

export const PolicyBinding = z.strictObject({
  namespace: z.string().min(1).describe('A namespace, or "*" for every namespace.'),
  role: z.enum(["admin", "member"]).describe("freehold-tenant-admin or freehold-tenant-member."),
  subjects: z.array(Subject).min(1),
});
export const Policy = z.strictObject({ bindings: z.array(PolicyBinding) });
export type Policy = z.infer<typeof Policy>;

function matches(subject: Subject, identity: Identity): boolean {
  return subject.user !== undefined
    ? subject.user === identity.user
    : identity.groups.includes(subject.group ?? "");
}

/**
 * Parses a policy file's text; `source` names it in errors.
 *
 * @example
 * ```ts
 * parsePolicy("bindings: [{namespace: acme, role: admin, subjects: [{user: ann}]}]", "policy.yaml");
 * ```
 */
export function parsePolicy(text: string, source: string): Policy {
  let value: unknown;
  try {
    value = parse(text) as unknown;
  } catch (error) {
    throw new FreeholdError(
      "auth.policy-file-invalid",
      `${source} is not YAML: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const result = Policy.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new FreeholdError(
      "auth.policy-file-invalid",
      `${source}: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}; see the format in the gateway README`,
    );
  }
  return result.data;
}

/**
 * Reads a policy file.
 *
 * @example
 * ```ts
 * const authorizer = createPolicyAuthorizer(readPolicyFile(".freehold/dev/policy.yaml"));
 * ```
 */
export function readPolicyFile(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new FreeholdError(
      "auth.policy-file-invalid",
      `cannot read the policy file ${path}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return parsePolicy(text, path);
}

/**
 * Decides with the policy's bindings and the tenant roles' rules.
 *
 * @example
 * ```ts
 * await createPolicyAuthorizer(policy).allowed({ user: "ann", groups: [] }, { verb: "delete", resource: "runs", namespace: "acme" }); // false for a member
 * ```
 */
export function createPolicyAuthorizer(policy: Policy): Authorizer {
  return {
    allowed(identity, request) {
      const resource = resourcePath(request);
      const allowed = policy.bindings.some(
        (binding) =>
          (binding.namespace === "*" || binding.namespace === request.namespace) &&
          binding.subjects.some((subject) => matches(subject, identity)) &&
          tenantRoleRules[binding.role].some(
            (rule) =>
              (rule.resources.includes("*") || rule.resources.includes(resource)) &&
              (rule.verbs.includes("*") || rule.verbs.includes(request.verb)),
          ),
      );
      return Promise.resolve(allowed);
    },
  };
}
