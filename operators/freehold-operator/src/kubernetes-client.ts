/**
 * The operator's writes and reads: server-side apply with the field manager `freehold-operator`
 * (objects and status subresources), deletes, lists, gets, creates and replaces, all as plain JSON.
 *
 * @module
 */
import { isFreeholdError } from "@freehold/api";
import type { KubernetesHttp } from "./kubernetes-http.ts";
import type { KubernetesObject } from "./kubernetes-objects.ts";
import { fieldManager } from "./names.ts";
import { resourcePath, resourceTypeOf, type ResourceType } from "./resource-types.ts";

const applyPatch = "application/apply-patch+yaml";

/** A list response. */
export interface ObjectList<T> {
  readonly items: T[];
  readonly metadata: { readonly resourceVersion?: string };
}

/** The operator's access to the API server. */
export interface KubernetesClient {
  /** Server-side apply of a whole desired object, taking over conflicting fields (force). */
  apply<T extends KubernetesObject>(object: T): Promise<T>;
  /** Server-side apply of an object's status through its status subresource. */
  applyStatus(resource: ResourceType, namespace: string, name: string, status: unknown): Promise<void>;
  /** Deletes an object; one that is already gone is fine. */
  delete(resource: ResourceType, namespace: string, name: string): Promise<void>;
  /** An object, or undefined when it does not exist. */
  get<T>(resource: ResourceType, namespace: string, name: string): Promise<T | undefined>;
  list<T>(
    resource: ResourceType,
    options?: { readonly namespace?: string; readonly labelSelector?: string },
  ): Promise<ObjectList<T>>;
  create<T extends KubernetesObject>(object: T): Promise<T>;
  /** Replaces an object; fails with `kubernetes.conflict` when its resourceVersion is stale. */
  replace<T extends KubernetesObject>(object: T): Promise<T>;
  /** Whether the API server serves a group version (e.g. `keda.sh/v1alpha1`) with the given resource. */
  serves(apiVersion: string, plural: string): Promise<boolean>;
}

/**
 * @example
 * ```ts
 * const client = createKubernetesClient(createKubernetesHttp(kubeConfig));
 * await client.apply(deployment);
 * ```
 */
export function createKubernetesClient(http: KubernetesHttp): KubernetesClient {
  const objectPath = (object: KubernetesObject): string =>
    resourcePath(resourceTypeOf(object), object.metadata.namespace, object.metadata.name);
  return {
    apply: (object) =>
      http.request("PATCH", objectPath(object), {
        body: object,
        contentType: applyPatch,
        query: { fieldManager, force: "true" },
      }),
    async applyStatus(resource, namespace, name, status) {
      await http.request("PATCH", resourcePath(resource, namespace, name, "status"), {
        body: {
          apiVersion: resource.apiVersion,
          kind: resource.kind,
          metadata: namespace === "" ? { name } : { name, namespace },
          status,
        },
        contentType: applyPatch,
        query: { fieldManager, force: "true" },
      });
    },
    async delete(resource, namespace, name) {
      try {
        await http.request("DELETE", resourcePath(resource, namespace, name), {
          body: { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background" },
        });
      } catch (error) {
        if (!isFreeholdError(error, "kubernetes.not-found")) throw error;
      }
    },
    async get(resource, namespace, name) {
      try {
        return await http.request("GET", resourcePath(resource, namespace, name));
      } catch (error) {
        if (isFreeholdError(error, "kubernetes.not-found")) return undefined;
        throw error;
      }
    },
    list: (resource, options = {}) =>
      http.request("GET", resourcePath(resource, options.namespace), {
        query: { labelSelector: options.labelSelector },
      }),
    create: (object) =>
      http.request("POST", resourcePath(resourceTypeOf(object), object.metadata.namespace), { body: object }),
    replace: (object) => http.request("PUT", objectPath(object), { body: object }),
    async serves(apiVersion, plural) {
      try {
        const list = await http.request<{ resources?: { name: string }[] }>("GET", `/apis/${apiVersion}`);
        return (list.resources ?? []).some((resource) => resource.name === plural);
      } catch (error) {
        if (isFreeholdError(error, "kubernetes.not-found")) return false;
        throw error;
      }
    },
  };
}
