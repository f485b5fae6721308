/**
 * `freehold doctor`'s cluster checks: the kube-apiserver answers with the kubeconfig's credentials
 * (or the Pod's service account), every Freehold CRD is installed and the same as the ones this
 * version generates (`freehold crds`), and the Models and MCPServers there, with their Secrets.
 *
 * @module
 */
import { CoreV1Api, CustomObjectsApi, KubeConfig, VersionApi } from "@kubernetes/client-node";
import {
  customResourceDefinition,
  FreeholdError,
  group,
  McpServer,
  Model,
  resourceKinds,
  type McpServerSpec,
  type ModelSpec,
  version,
  type SecretKeySelector,
} from "@freehold/api";
import { errorMessage, result, type CheckResult } from "./check.ts";

/** How the cluster is reached. */
export interface ClusterOptions {
  /** A kubeconfig file; default: KUBECONFIG or ~/.kube/config. */
  readonly kubeconfig?: string;
  /** The Pod's service account instead of a kubeconfig. */
  readonly inCluster?: boolean;
}

/** The Models and MCPServers the cluster holds, to probe, with a way to read their Secrets. */
export interface ClusterResources {
  readonly models: { readonly name: string; readonly namespace: string; readonly spec: ModelSpec }[];
  readonly mcpServers: {
    readonly name: string;
    readonly namespace: string;
    readonly spec: McpServerSpec;
    readonly statusUrl?: string;
  }[];
  readonly resolveSecret: (namespace: string) => (reference: SecretKeySelector) => Promise<string>;
}

function statusCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === "number" ? code : undefined;
}

/** Keys sorted, so two schemas compare by content, not by the order the server kept. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, entry]) => entry !== undefined)
        .sort(([left], [right]) => left.localeCompare(right))
        .map(([key, entry]) => [key, canonical(entry)]),
    );
  }
  return value;
}

/** What must match for a CRD to be current: its names, scope and each version's schema. */
function comparable(spec: unknown): string {
  const { names, scope, versions } = spec as {
    names?: unknown;
    scope?: unknown;
    versions?: { name?: unknown; schema?: unknown; served?: unknown; storage?: unknown }[];
  };
  return JSON.stringify(
    canonical({
      names,
      scope,
      versions: (versions ?? []).map(({ name, schema, served, storage }) => ({
        name,
        schema,
        served,
        storage,
      })),
    }),
  );
}

function loadKubeConfig(options: ClusterOptions): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (options.inCluster === true) kubeConfig.loadFromCluster();
  else if (options.kubeconfig !== undefined) kubeConfig.loadFromFile(options.kubeconfig);
  else kubeConfig.loadFromDefault();
  return kubeConfig;
}

/**
 * Checks the cluster; `resources` is there when the cluster answered and the CRDs are installed.
 *
 * @example
 * ```ts
 * const { checks, resources } = await checkCluster({ kubeconfig: "/tmp/kubeconfig" }, "default");
 * ```
 */
export async function checkCluster(
  options: ClusterOptions,
  namespace: string | undefined,
): Promise<{ checks: CheckResult[]; resources?: ClusterResources }> {
  const checks: CheckResult[] = [];
  let kubeConfig: KubeConfig;
  try {
    kubeConfig = loadKubeConfig(options);
  } catch (error) {
    return {
      checks: [
        result(
          "cluster",
          "fail",
          `no usable kubeconfig: ${errorMessage(error)}`,
          "set KUBECONFIG or pass --kubeconfig",
        ),
      ],
    };
  }
  const server = kubeConfig.getCurrentCluster()?.server;
  if (server === undefined) {
    return {
      checks: [
        result(
          "cluster",
          "fail",
          "the kubeconfig names no current cluster",
          "set KUBECONFIG or pass --kubeconfig (or --dev <folder> to check a folder instead)",
        ),
      ],
    };
  }
  try {
    const version = await kubeConfig.makeApiClient(VersionApi).getCode();
    checks.push(result("cluster", "ok", `Kubernetes ${version.gitVersion} at ${server}`));
  } catch (error) {
    checks.push(
      result(
        "cluster",
        "fail",
        `the kube-apiserver at ${server} did not answer: ${errorMessage(error)}`,
        "check the kubeconfig's context and credentials (kubectl version should answer)",
      ),
    );
    return { checks };
  }
  const objects = kubeConfig.makeApiClient(CustomObjectsApi);
  let installed = true;
  for (const kind of resourceKinds) {
    const wanted = customResourceDefinition(kind);
    const name = wanted.metadata.name;
    const apply = `freehold crds | kubectl apply --server-side -f -`;
    try {
      // Read as plain JSON: the typed client renames the schema's x-kubernetes-* fields.
      const found = (await objects.getClusterCustomObject({
        group: "apiextensions.k8s.io",
        version: "v1",
        plural: "customresourcedefinitions",
        name,
      })) as { spec?: unknown };
      if (comparable(found.spec) === comparable(JSON.parse(JSON.stringify(wanted.spec)))) {
        checks.push(result(`crd ${name}`, "ok", "installed and current"));
      } else {
        checks.push(
          result(
            `crd ${name}`,
            "fail",
            "installed, but not the one this version of freehold generates",
            apply,
          ),
        );
      }
    } catch (error) {
      installed = false;
      checks.push(
        statusCode(error) === 404
          ? result(`crd ${name}`, "fail", "not installed", apply)
          : result(
              `crd ${name}`,
              "fail",
              `cannot be read: ${errorMessage(error)}`,
              "check the credentials' RBAC",
            ),
      );
    }
  }
  if (!installed) return { checks };

  const list = async (plural: string): Promise<unknown[]> => {
    const answer = (await (namespace === undefined
      ? objects.listClusterCustomObject({ group, version, plural })
      : objects.listNamespacedCustomObject({ group, version, namespace, plural }))) as {
      items?: unknown[];
    };
    return answer.items ?? [];
  };
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const resolveSecret =
    (secretNamespace: string) =>
    async (reference: SecretKeySelector): Promise<string> => {
      const secret = await core.readNamespacedSecret({ name: reference.name, namespace: secretNamespace });
      const value = secret.data?.[reference.key];
      if (value === undefined) {
        throw new FreeholdError(
          "secret.not-found",
          `Secret ${secretNamespace}/${reference.name} has no key ${reference.key}`,
        );
      }
      return Buffer.from(value, "base64").toString("utf8");
    };
  try {
    const models = (await list("models")).map((item) => Model.schema.parse(item));
    const mcpServers = (await list("mcpservers")).map((item) => McpServer.schema.parse(item));
    return {
      checks,
      resources: {
        models: models.map((model) => ({
          name: model.metadata.name,
          namespace: model.metadata.namespace ?? "default",
          spec: model.spec,
        })),
        mcpServers: mcpServers.map((server) => ({
          name: server.metadata.name,
          namespace: server.metadata.namespace ?? "default",
          spec: server.spec,
          ...(server.status?.url === undefined ? {} : { statusUrl: server.status.url }),
        })),
        resolveSecret,
      },
    };
  } catch (error) {
    checks.push(
      result(
        "cluster resources",
        "fail",
        `Models and MCPServers cannot be listed: ${errorMessage(error)}`,
        "check the credentials' RBAC",
      ),
    );
    return { checks };
  }
}
