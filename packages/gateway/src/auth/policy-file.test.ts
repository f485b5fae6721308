import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { createPolicyAuthorizer, parsePolicy, tenantRoleRules } from "./policy-file.ts";

const ann = { user: "ann", groups: ["billing-desk"] };

/** The freehold.dev rules of a ClusterRole in the chart's tenant-roles.yaml (Helm lines left out). */
function chartRules(name: string): { resources: string[]; verbs: string[] }[] {
  const path = join(
    import.meta.dirname,
    "..",
    "..",
    "..",
    "..",
    "charts",
    "freehold",
    "templates",
    "tenant-roles.yaml",
  );
  const text = readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => !line.includes("{{"))
    .join("\n");
  const role = parseAllDocuments(text)
    .map((document) => document.toJS() as { metadata?: { name?: string }; rules?: unknown[] } | null)
    .find((document) => document?.metadata?.name === name);
  const rules = (role?.rules ?? []) as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  return rules
    .filter((rule) => rule.apiGroups.includes("freehold.dev"))
    .map(({ resources, verbs }) => ({ resources, verbs }));
}

describe("the policy file", () => {
  it("has the chart's tenant roles' rules", () => {
    expect(tenantRoleRules.member).toEqual(chartRules("freehold-tenant-member"));
    expect(tenantRoleRules.admin).toEqual(chartRules("freehold-tenant-admin"));
  });

  it("grants a member what freehold-tenant-member grants, in the bound namespace only", async () => {
    const authorizer = createPolicyAuthorizer(
      parsePolicy(
        "bindings:\n  - namespace: acme\n    role: member\n    subjects: [{ group: billing-desk }]\n",
        "p",
      ),
    );
    const allowed = (
      verb: "create" | "delete" | "claim" | "update",
      resource: string,
      namespace = "acme",
      subresource?: string,
    ) =>
      authorizer.allowed(ann, {
        verb,
        resource,
        namespace,
        ...(subresource === undefined ? {} : { subresource }),
      });
    expect(await allowed("create", "agents", "acme", "runs")).toBe(true);
    expect(await allowed("claim", "humanqueues", "acme", "items")).toBe(true);
    expect(await allowed("update", "approvals")).toBe(true);
    expect(await allowed("delete", "runs")).toBe(false);
    expect(await allowed("create", "agents")).toBe(false);
    expect(await allowed("create", "agents", "globex", "runs")).toBe(false);
  });

  it("grants an admin everything on freehold.dev, and * binds every namespace", async () => {
    const authorizer = createPolicyAuthorizer(
      parsePolicy("bindings: [{ namespace: '*', role: admin, subjects: [{ user: ann }] }]", "p"),
    );
    expect(await authorizer.allowed(ann, { verb: "delete", resource: "runs", namespace: "anywhere" })).toBe(
      true,
    );
    expect(
      await authorizer.allowed(
        { user: "bob", groups: [] },
        { verb: "get", resource: "runs", namespace: "x" },
      ),
    ).toBe(false);
  });

  it("refuses a malformed file, naming the field", () => {
    expect(() =>
      parsePolicy("bindings: [{ namespace: acme, role: owner, subjects: [{ user: ann }] }]", "p.yaml"),
    ).toThrow(/p\.yaml: bindings\.0\.role/);
    expect(() =>
      parsePolicy("bindings: [{ namespace: acme, role: admin, subjects: [{ user: a, group: b }] }]", "p"),
    ).toThrow(/subjects/);
  });
});
