/**
 * `Tenant` (cluster-scoped): a team's share of the cluster: its namespaces, who administers and uses
 * them, and its quotas. The operator makes the namespaces, role bindings, network policy, resource
 * quota and a Redis user confined to the tenant's keys.
 *
 * @module
 */
import { z } from "zod";
import { statusBase } from "./conditions.ts";
import { Subject } from "./human-queue.ts";
import { DnsLabel } from "./names.ts";
import { defineResource } from "./resource.ts";
import { withRules } from "./validation-rule.ts";

export const TenantQuotas = z
  .strictObject({
    agents: z
      .int()
      .min(0)
      .max(100_000)
      .optional()
      .describe("The most Agents across the tenant's namespaces."),
    runsPerMinute: z.int().min(0).max(10_000_000).optional().describe("The most runs started per minute."),
    tokensPerDay: z.int().min(0).max(1_000_000_000_000).optional().describe("The most model tokens per day."),
    cpu: z.string().max(64).optional().describe("Total CPU requests of the tenant's pods, e.g. 16."),
    memory: z.string().max(64).optional().describe("Total memory requests of the tenant's pods, e.g. 64Gi."),
  })
  .describe("Quotas across all of the tenant's namespaces.");

export const TenantSpec = withRules(
  z
    .strictObject({
      displayName: z.string().max(256).optional().describe("A human-readable name."),
      namespaces: z.array(DnsLabel).min(1).max(64).meta({
        description:
          "The namespaces the tenant owns; the operator creates them. No two tenants may share one.",
        "x-kubernetes-list-type": "set",
      }),
      admins: z.array(Subject).max(256).optional().describe("Who may change the tenant's resources."),
      members: z.array(Subject).max(1024).optional().describe("Who may run agents and work the inboxes."),
      quotas: TenantQuotas.optional(),
      runRetention: z
        .string()
        .regex(/^[0-9]{1,9}[smhd]?$/, "must be seconds or a number with s, m, h or d, such as 7d")
        .optional()
        .describe(
          "How long finished runs of the tenant's namespaces keep their state and events (7d, 12h, 30m or seconds; 0 keeps them forever); overrides the installation's runs.retention.",
        ),
      isolation: z
        .strictObject({
          networkPolicy: z
            .boolean()
            .default(true)
            .describe("Deny traffic from other namespaces, except from Freehold's gateway and operator."),
        })
        .prefault({})
        .describe("How strictly the tenant is walled off."),
      deletionPolicy: z
        .enum(["Retain", "Delete"])
        .default("Retain")
        .describe(
          "What happens to the namespaces when the Tenant is deleted: Retain keeps them (and what is in them), Delete deletes them. Either way the tenant's Redis user is removed.",
        ),
    })
    .describe("The desired state of a Tenant."),
  [
    {
      rule: "self.namespaces.all(n, self.namespaces.exists_one(o, o == n))",
      message: "each namespace may be listed only once",
      fieldPath: ".namespaces",
      check: (spec) => new Set(spec.namespaces).size === spec.namespaces.length,
    },
    {
      rule: "self.namespaces.all(n, !(n in ['kube-system', 'kube-public', 'kube-node-lease', 'default']))",
      message: "a tenant cannot own kube-system, kube-public, kube-node-lease or default",
      fieldPath: ".namespaces",
      reason: "FieldValueForbidden",
      check: (spec) =>
        !spec.namespaces.some((namespace) =>
          ["kube-system", "kube-public", "kube-node-lease", "default"].includes(namespace),
        ),
    },
  ],
);
export type TenantSpec = z.infer<typeof TenantSpec>;

export const TenantStatus = z
  .strictObject({
    ...statusBase,
    namespaces: z.array(z.string()).optional().describe("The namespaces that exist and are set up."),
    redisUser: z.string().optional().describe("The Redis ACL user confined to the tenant's keys."),
    usage: z
      .strictObject({
        agents: z.int().min(0).describe("Agents across the tenant's namespaces."),
        runsThisMinute: z.int().min(0).describe("Runs started in the current minute (UTC)."),
        tokensToday: z.int().min(0).describe("Model tokens used today (UTC)."),
      })
      .optional()
      .describe("What the tenant uses of its quotas, as last read."),
  })
  .describe("The observed state of a Tenant.");

export const Tenant = defineResource({
  kind: "Tenant",
  plural: "tenants",
  shortNames: ["tn"],
  scope: "Cluster",
  description: "A tenant: namespaces, admins and members, and quotas, walled off from other tenants.",
  spec: TenantSpec,
  status: TenantStatus,
  printerColumns: [
    { name: "Namespaces", type: "string", jsonPath: ".spec.namespaces" },
    { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: "Agents", type: "integer", jsonPath: ".status.usage.agents" },
    { name: "Tokens Today", type: "integer", jsonPath: ".status.usage.tokensToday", priority: 1 },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
  nameRule: "label",
});
export type Tenant = z.infer<typeof Tenant.schema>;
