/**
 * The generated CRDs on a real kube-apiserver: they are accepted, every example manifest is
 * accepted, every bad manifest is refused with a message that names the offending field (and the
 * zod schemas refuse the same manifest at the same field), and `kubectl explain` shows the field
 * descriptions written in the schemas.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FreeholdError, parseManifest, parseManifests, type ManifestIssue } from "@freehold/api";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { manifestFiles } from "freehold";
import { badManifests } from "../fixtures/bad-manifests.ts";
import { createKubectl } from "./kubectl.ts";

const root = join(import.meta.dirname, "..", "..");
const crdDirectory = join(root, "packages", "api", "generated", "crds");
const cluster = inject("cluster");
const kubectl = createKubectl(cluster.kubectl, cluster.kubeconfig);
const badNamespace = "freehold-bad";

/** The examples' manifests, as `freehold validate examples` reads them (not the YAML of their packages). */
function exampleFiles(): string[] {
  return manifestFiles([join(root, "examples")]).map((file) => file.slice(root.length + 1));
}

function zodIssues(manifest: unknown): ManifestIssue[] {
  try {
    parseManifest(manifest);
  } catch (error) {
    if (error instanceof FreeholdError && error.code === "manifest.invalid") {
      return error.details?.issues as ManifestIssue[];
    }
    throw error;
  }
  return [];
}

beforeAll(async () => {
  const applied = await kubectl([
    "apply",
    "--server-side",
    "--field-manager=freehold-test",
    "-f",
    crdDirectory,
  ]);
  expect(applied.stderr).toBe("");
  const established = await kubectl([
    "wait",
    "--for=condition=Established",
    "--timeout=60s",
    ...readdirSync(crdDirectory).map(
      (file) => `crd/${file.replace(/^freehold\.dev_(.*)\.yaml$/, "$1.freehold.dev")}`,
    ),
  ]);
  expect(established.code, established.stderr).toBe(0);
  const namespaces = new Set(
    exampleFiles().flatMap((file) =>
      parseAllDocuments(readFileSync(join(root, file), "utf8")).flatMap((document) => {
        const namespace = (document.toJS() as { metadata?: { namespace?: string } } | null)?.metadata
          ?.namespace;
        return namespace === undefined ? [] : [namespace];
      }),
    ),
  );
  for (const namespace of [...namespaces, badNamespace]) {
    await kubectl(["create", "namespace", namespace]);
  }
});

describe("the generated CRDs", () => {
  it(`are served by kube-apiserver ${cluster.kubernetesVersion}`, async () => {
    const resources = await kubectl(["api-resources", "--api-group=freehold.dev", "-o", "name"]);
    expect(resources.stdout.trim().split("\n").sort()).toEqual([
      "agents.freehold.dev",
      "humanqueues.freehold.dev",
      "mcpservers.freehold.dev",
      "models.freehold.dev",
      "tenants.freehold.dev",
    ]);
  });
});

describe("every example manifest", () => {
  const files = exampleFiles();

  it("exists", () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it.each(files)("%s is accepted by the API server and by the schemas", async (file) => {
    const text = readFileSync(join(root, file), "utf8");
    const resources = parseManifests(text, file);
    expect(resources.length).toBeGreaterThan(0);
    const applied = await kubectl(["apply", "-f", join(root, file)]);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    for (const resource of resources) {
      const namespace = resource.metadata.namespace;
      const got = await kubectl([
        "get",
        `${resource.kind.toLowerCase()}.freehold.dev`,
        resource.metadata.name,
        ...(namespace === undefined ? [] : ["-n", namespace]),
        "-o",
        "json",
      ]);
      expect(got.code, got.stderr).toBe(0);
      // The API server applied the same defaults as the schemas.
      const stored = JSON.parse(got.stdout) as { spec: unknown };
      expect(stored.spec).toEqual(resource.spec);
    }
  });
});

describe("a bad manifest", () => {
  it("has at least 30 cases", () => {
    expect(badManifests.length).toBeGreaterThanOrEqual(30);
  });

  it.each(badManifests)("is refused: $title", async ({ manifest, field, message }) => {
    // The schemas refuse it at the same field.
    const issues = zodIssues(manifest);
    expect(issues.map((issue) => issue.path)).toContain(field);
    if (message !== undefined) {
      expect(issues.find((issue) => issue.path === field)?.message).toContain(message);
    }

    // The API server refuses it, naming the field.
    const namespaced =
      manifest.kind === "Tenant"
        ? manifest
        : { ...manifest, metadata: { ...manifest.metadata, namespace: badNamespace } };
    const applied = await kubectl(["apply", "-f", "-"], JSON.stringify(namespaced));
    expect(applied.code).not.toBe(0);
    expect(applied.stderr).toContain(field === "spec" ? "spec:" : field);
    if (message !== undefined) expect(applied.stderr).toContain(message);
    expect(applied.stderr).not.toMatch(/panic|goroutine/);

    // Nothing was stored.
    const name = String(manifest.metadata.name);
    const got = await kubectl([
      "get",
      `${manifest.kind.toLowerCase()}.freehold.dev`,
      name,
      ...(manifest.kind === "Tenant" ? [] : ["-n", badNamespace]),
    ]);
    expect(got.stderr).toMatch(/NotFound|not found/);
  });
});

describe("kubectl", () => {
  it("explains agent.spec.tools with the schema's descriptions", async () => {
    const explained = await kubectl(["explain", "agent.spec.tools"]);
    expect(explained.code, explained.stderr).toBe(0);
    const text = explained.stdout.replace(/\s+/g, " ");
    expect(text).toContain("Tool sources: MCP servers and agents used as tools.");
    expect(text).toContain("requireApproval <[]string>");
    expect(text).toContain(
      "The tools of the MCP server the agent may call. Enforced by the runtime, not by the prompt.",
    );
  });

  it("lists agents with READY, MODEL and FRAMEWORK columns", async () => {
    const listed = await kubectl(["get", "agents", "-n", "acme"]);
    expect(listed.code, listed.stderr).toBe(0);
    const [header, ...rows] = listed.stdout.trim().split("\n");
    expect(header?.split(/\s+/)).toEqual(["NAME", "READY", "MODEL", "FRAMEWORK", "REPLICAS", "AGE"]);
    expect(rows.find((row) => row.startsWith("researcher"))).toMatch(/^researcher\s+default\s+vercel-ai\s/);
  });

  it("finds agents by short name and category", async () => {
    const byShortName = await kubectl(["get", "ag", "-n", "acme", "-o", "name"]);
    expect(byShortName.stdout).toContain("agent.freehold.dev/billing");
    const byCategory = await kubectl(["get", "freehold", "-n", "acme", "-o", "name"]);
    expect(byCategory.stdout).toContain("humanqueue.freehold.dev/billing-desk");
    expect(byCategory.stdout).toContain("model.freehold.dev/default");
  });
});
