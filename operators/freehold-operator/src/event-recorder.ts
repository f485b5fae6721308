/**
 * Kubernetes Events about Freehold resources (`kubectl describe agent billing` shows them): one per
 * condition transition. Events about a cluster-scoped object (a Tenant) go to the `default`
 * namespace, as Kubernetes' own do. Recording never fails a reconcile; a failure is logged.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import type { KubernetesClient } from "./kubernetes-client.ts";
import type { KubernetesObject } from "./kubernetes-objects.ts";
import { fieldManager } from "./names.ts";

/** Records Events. */
export interface EventRecorder {
  record(
    object: KubernetesObject,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ): Promise<void>;
}

/**
 * @example
 * ```ts
 * const events = createEventRecorder(client, { instance: "freehold-operator-7d9f", log: console.error });
 * await events.record(agent, "Warning", "ModelNotFound", "Model default not found in namespace acme");
 * ```
 */
export function createEventRecorder(
  client: KubernetesClient,
  options: { readonly instance: string; readonly log: (line: string) => void },
): EventRecorder {
  return {
    async record(object, type, reason, message) {
      const objectNamespace = object.metadata.namespace ?? "";
      const namespace = objectNamespace === "" ? "default" : objectNamespace;
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
      try {
        await client.create({
          apiVersion: "v1",
          kind: "Event",
          metadata: { name: `${object.metadata.name}.${randomBytes(8).toString("hex")}`, namespace },
          involvedObject: {
            apiVersion: object.apiVersion,
            kind: object.kind,
            name: object.metadata.name,
            ...(objectNamespace === "" ? {} : { namespace: objectNamespace }),
            ...(object.metadata.uid === undefined ? {} : { uid: object.metadata.uid }),
          },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: fieldManager },
          reportingComponent: fieldManager,
          reportingInstance: options.instance,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        });
      } catch (error) {
        options.log(
          `could not record event ${reason} on ${object.kind} ${namespace}/${object.metadata.name}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    },
  };
}
