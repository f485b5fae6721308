import { describe, expect, it } from "vitest";
import type { ClusterCache } from "./cluster-cache.ts";
import { clusterViewFromObjects } from "./cluster-view.ts";
import { routeEvents, type KindQueues } from "./event-routing.ts";
import type { InformerEvent } from "./informer-cache.ts";
import type { KubernetesObject } from "./kubernetes-objects.ts";
import type { WorkQueue } from "./work-queue.ts";

type Listener = (object: KubernetesObject, event: InformerEvent) => void;

/** An informer that only delivers the events a test sends. */
function informer(): { onChange(listener: Listener): void; list(): []; emit: Listener } {
  const listeners: Listener[] = [];
  return {
    onChange: (listener) => listeners.push(listener),
    list: () => [],
    emit: (object, event) => {
      for (const listener of listeners) listener(object, event);
    },
  };
}

/** A queue that records what was added. */
function recordingQueue(): WorkQueue & { readonly added: string[] } {
  const added: string[] = [];
  return {
    added,
    add: (key: string) => added.push(key),
  } as unknown as WorkQueue & { readonly added: string[] };
}

function agent(generation: number, servers: readonly string[]): KubernetesObject {
  return {
    apiVersion: "freehold.dev/v1alpha1",
    kind: "Agent",
    metadata: { name: "archivist", namespace: "acme", generation },
    spec: {
      model: { ref: "default" },
      instructions: "Keep notes.",
      tools: servers.map((server) => ({ mcpServer: server })),
    },
  } as KubernetesObject;
}

describe("routeEvents", () => {
  it("queues the MCPServers an Agent starts or stops using, so their bridge's NetworkPolicy follows", () => {
    const agents = informer();
    const empty = informer();
    const cache = {
      agents,
      models: empty,
      mcpServers: empty,
      humanQueues: empty,
      secrets: empty,
      owned: [],
      view: { ...clusterViewFromObjects([]), models: () => [], mcpServers: () => [] },
    } as unknown as ClusterCache;
    const queues = {
      Agent: recordingQueue(),
      Model: recordingQueue(),
      MCPServer: recordingQueue(),
      HumanQueue: recordingQueue(),
      Tenant: recordingQueue(),
      RedisSecret: recordingQueue(),
    } satisfies KindQueues;
    routeEvents(cache, queues);
    const servers = queues.MCPServer.added;

    agents.emit(agent(1, ["notes", "billing-api"]), "add");
    expect(servers.splice(0)).toEqual(["acme/notes", "acme/billing-api"]);
    // Its own status write: nothing about servers changed.
    agents.emit(agent(1, ["notes", "billing-api"]), "update");
    expect(servers.splice(0)).toEqual([]);
    // Another spec change that keeps the same servers: their policies stay as they are.
    agents.emit(agent(2, ["billing-api", "notes"]), "update");
    expect(servers.splice(0)).toEqual([]);
    agents.emit(agent(3, ["billing-api", "search"]), "update");
    expect(servers.splice(0).sort()).toEqual(["acme/notes", "acme/search"]);
    agents.emit(agent(3, ["billing-api", "search"]), "delete");
    expect(servers.splice(0).sort()).toEqual(["acme/billing-api", "acme/search"]);
  });
});
