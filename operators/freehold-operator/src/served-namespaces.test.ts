import { describe, expect, it } from "vitest";
import {
  namespaceService,
  parseConfiguredNamespaces,
  servedSecretNamespaces,
  type ServingState,
} from "./served-namespaces.ts";

const labels: Record<string, string> = {
  acme: "acme",
  "acme-staging": "acme",
  stray: "initech",
  leaving: "globex",
};

function state(configured: ServingState["configured"]): ServingState {
  return {
    tenants: [
      { name: "acme", namespaces: ["acme", "acme-staging", "globex"], deleting: false },
      { name: "globex", namespaces: ["globex", "leaving"], deleting: true },
    ],
    tenantLabel: (namespace) => labels[namespace],
    configured,
  };
}

function reasonOf(namespace: string, serving: ServingState): string {
  const service = namespaceService(namespace, serving);
  return service.kind === "none" ? service.reason : `served as ${service.kind}`;
}

describe("namespaceService", () => {
  it("serves a namespace labelled for a tenant that lists it", () => {
    expect(namespaceService("acme-staging", state([]))).toEqual({ kind: "tenant", tenant: "acme" });
  });

  it("does not serve a namespace a tenant lists but that is not labelled for it", () => {
    expect(namespaceService("globex", state([]))).toMatchObject({ kind: "none" });
  });

  it("does not serve a namespace labelled for a missing or departing tenant, even with *", () => {
    expect(reasonOf("stray", state("*"))).toContain("tenant initech, which does not exist");
    expect(reasonOf("leaving", state("*"))).toContain("which is being deleted");
  });

  it("serves unlabelled namespaces in FREEHOLD_NAMESPACES, or all with *", () => {
    expect(namespaceService("team-a", state(["team-a"]))).toEqual({ kind: "single" });
    expect(reasonOf("team-b", state(["team-a"]))).toContain("FREEHOLD_NAMESPACES");
    expect(namespaceService("anything", state("*"))).toEqual({ kind: "single" });
  });
});

describe("servedSecretNamespaces", () => {
  it("is the served namespaces and the operator's own", () => {
    expect(servedSecretNamespaces(state(["team-a", "stray"]), "freehold-system")).toEqual(
      new Set(["freehold-system", "team-a", "acme", "acme-staging"]),
    );
    expect(servedSecretNamespaces(state("*"), "freehold-system")).toBe("*");
  });
});

describe("parseConfiguredNamespaces", () => {
  it("reads a list, a star or nothing", () => {
    expect(parseConfiguredNamespaces(" team-a, team-b ,")).toEqual(["team-a", "team-b"]);
    expect(parseConfiguredNamespaces("*")).toBe("*");
    expect(parseConfiguredNamespaces(undefined)).toEqual([]);
  });
});
