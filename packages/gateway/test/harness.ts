/**
 * The gateway suites' real parts: a Redis (redis-server on a free port), the gateway on a free
 * port, and per test a namespace of its own with runtime workers in this process driven by the
 * scripted OpenAI-compatible model server. Also a small SSE reader over `fetch`.
 *
 * Every request is authenticated: the gateway reads a token file of the harness's people (each
 * with a random token) and a policy (default: the group `testers`, every person's, is admin of every
 * namespace); `request(..., { user })` sends that person's token, `tester` by default.
 */
import { randomBytes } from "node:crypto";
import { RuntimeConfig, type RunState } from "@freehold/api";
import {
  createAgentQueues,
  createAgentRegistry,
  createRunStore,
  startRedisServer,
  type AgentQueues,
  type Quotas,
  type RedisServer,
  type RedisServerOptions,
  type RunStore,
} from "@freehold/handoff";
import { startScriptedModelServer, type ModelScriptInput } from "@freehold/models";
import { createRuntime, createRuntimeWorker } from "@freehold/runtime";
import { Redis } from "ioredis";
import { expect } from "vitest";
import {
  createAuthenticatorChain,
  createGateway,
  createManifestDirectory,
  createPolicyAuthorizer,
  createTokenFileAuthenticator,
  type Authenticator,
  type Authorizer,
  type Gateway,
  type GatewayOptions,
  type ManifestDirectory,
  type Policy,
} from "../src/index.ts";

export interface Harness {
  readonly redis: RedisServer;
  readonly connection: Redis;
  readonly store: RunStore;
  readonly queues: AgentQueues;
  readonly gateway: Gateway;
  /** The gateway's base URL. */
  readonly url: string;
  /** Lines the gateway logged. */
  readonly logged: string[];
  /** Each person's bearer token, by user name. */
  readonly tokens: ReadonlyMap<string, string>;
  /** The HumanQueues and Agents the gateway knows of (world() adds its own). */
  readonly directory: ManifestDirectory;
  /** Stops what {@link world} started, then the gateway and Redis. */
  close(): Promise<void>;
  /** Steps that stop what {@link world} started. */
  readonly cleanups: (() => Promise<void>)[];
  /** Stops what {@link world} started since the last call. */
  cleanup(): Promise<void>;
}

/** What {@link startHarness} takes: the Redis's options, the gateway's quotas over its connection. */
export interface HarnessOptions {
  readonly redis?: RedisServerOptions;
  readonly quotas?: (connection: Redis) => Quotas;
  /** People (user → groups) besides the default ones, each given a token. */
  readonly people?: Readonly<Record<string, readonly string[]>>;
  /** The policy file's content (default: group `testers` is admin everywhere). */
  readonly policy?: Policy;
  /** Decides instead of the policy (a role the policy file has no name for, as a cluster's RBAC could grant). */
  readonly authorizer?: Authorizer;
  /** Authenticators asked after the token file (OIDC, TokenReview). */
  readonly authenticators?: readonly Authenticator[];
  /** More gateway options: the edge's limits, the public URL, A2A's timeout. */
  readonly gateway?: Pick<
    GatewayOptions,
    | "edge"
    | "publicUrl"
    | "a2aSendTimeoutMs"
    | "maxBufferedEvents"
    | "metrics"
    | "runRetentionSeconds"
    | "console"
  >;
}

/** Everyone the existing suites act as; all in the group `testers`. */
const defaultPeople: Readonly<Record<string, readonly string[]>> = {
  tester: ["testers"],
  ann: ["testers"],
  bob: ["testers"],
};

const defaultPolicy: Policy = {
  bindings: [{ namespace: "*", role: "admin", subjects: [{ group: "testers" }] }],
};

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const redis = await startRedisServer(options.redis);
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const logged: string[] = [];
  const people = { ...defaultPeople, ...options.people };
  const tokens = new Map(Object.keys(people).map((user) => [user, randomBytes(24).toString("hex")]));
  const directory = createManifestDirectory();
  let gateway: Gateway;
  let url: string;
  try {
    gateway = createGateway({
      redis: connection,
      authenticator: createAuthenticatorChain([
        createTokenFileAuthenticator(
          Object.entries(people).map(([user, groups]) => ({ token: tokens.get(user) ?? "", user, groups })),
        ),
        ...(options.authenticators ?? []),
      ]),
      authorizer: options.authorizer ?? createPolicyAuthorizer(options.policy ?? defaultPolicy),
      directory,
      log: (line) => logged.push(line),
      keepAliveMs: 60_000,
      ...(options.quotas === undefined ? {} : { quotas: options.quotas(connection) }),
      ...options.gateway,
    });
    ({ url } = await gateway.listen(0, "127.0.0.1"));
  } catch (error) {
    // A gateway that refuses to start (what some tests check) leaves no Redis behind.
    connection.disconnect();
    await redis.stop();
    throw error;
  }
  const queues = createAgentQueues(connection);
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const step of cleanups.splice(0).reverse()) await step();
  };
  return {
    redis,
    connection,
    store: createRunStore(connection),
    queues,
    gateway,
    url,
    logged,
    tokens,
    directory,
    cleanups,
    cleanup,
    async close() {
      await cleanup();
      await gateway.close();
      await queues.close();
      connection.disconnect();
      await redis.stop();
    },
  };
}

const resource = (kind: string, namespace: string, name: string, spec: unknown) => ({
  apiVersion: "freehold.dev/v1alpha1",
  kind,
  metadata: { name, namespace },
  spec,
});

/** What {@link world} takes besides the script and the agents. */
export interface WorldOptions {
  readonly humanQueues?: Record<string, Record<string, unknown>>;
  /** MCP servers by name: their streamable HTTP URLs. */
  readonly mcpServers?: Record<string, string>;
  /** The namespace (default: a fresh random one). */
  readonly namespace?: string;
}

/**
 * A fresh namespace whose agents (model `scripted`) are served by a runtime worker in this
 * process. Returns the namespace.
 */
export async function world(
  harness: Harness,
  script: ModelScriptInput,
  agents: Record<string, Record<string, unknown>>,
  options: WorldOptions = {},
): Promise<string> {
  const namespace = options.namespace ?? `g${Math.random().toString(36).slice(2, 10)}`;
  const model = await startScriptedModelServer({ script });
  const config = RuntimeConfig.parse({
    schemaVersion: 1,
    namespace,
    agents: Object.entries(agents).map(([name, spec]) =>
      resource("Agent", namespace, name, {
        model: { ref: "scripted" },
        instructions: `You are ${name}.`,
        ...spec,
      }),
    ),
    models: [
      resource("Model", namespace, "scripted", {
        provider: "openai-compatible",
        model: "scripted-model",
        baseUrl: model.baseUrl,
        maxRetries: 0,
      }),
    ],
    mcpServers: Object.entries(options.mcpServers ?? {}).map(([name, url]) =>
      resource("MCPServer", namespace, name, { http: { url } }),
    ),
    humanQueues: Object.entries(options.humanQueues ?? {}).map(([name, spec]) =>
      resource("HumanQueue", namespace, name, spec),
    ),
  });
  harness.directory.add([...config.agents, ...config.humanQueues]);
  const runtime = await createRuntime(config, {
    resolveSecret: () => Promise.reject(new Error("no secrets in these tests")),
  });
  const worker = createRuntimeWorker({
    connection: harness.connection,
    store: harness.store,
    agents: runtime.agents,
    sweepIntervalMs: 200,
  });
  await worker.ready();
  harness.cleanups.push(async () => {
    await worker.close();
    await runtime.close();
    await model.close();
  });
  return namespace;
}

/**
 * A namespace with an agent that is registered but has no worker: its runs stay queued. Exposed
 * over A2A unless `a2a` is false (as `spec.a2a.enabled` would).
 */
export async function idleAgent(harness: Harness, name = "idle", a2a = true): Promise<string> {
  const namespace = `g${Math.random().toString(36).slice(2, 10)}`;
  await createAgentRegistry(harness.connection).register(namespace, {
    name,
    description: "Never works.",
    a2a,
  });
  return namespace;
}

/** Waits until the run has the status. */
export async function waitForStatus(
  harness: Harness,
  namespace: string,
  runId: string,
  status: RunState["status"],
): Promise<RunState> {
  await expect
    .poll(async () => (await harness.store.require(namespace, runId)).status, {
      timeout: 20_000,
      interval: 50,
    })
    .toBe(status);
  return harness.store.require(namespace, runId);
}

/** One SSE message as read. */
export interface ReadEvent {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: unknown;
}

/**
 * Reads SSE messages from a response until the stream ends or `until` says stop (then the
 * connection is dropped).
 */
export async function readEvents(
  response: Response,
  until: (event: ReadEvent, index: number) => boolean = () => false,
): Promise<ReadEvent[]> {
  if (response.body === null) throw new Error("no body");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const events: ReadEvent[] = [];
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return events;
      buffer += value;
      let end = buffer.indexOf("\n\n");
      while (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        const fields = new Map<string, string>();
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
        }
        const data = fields.get("data");
        if (data === undefined) continue;
        const event: ReadEvent = { id: fields.get("id"), event: fields.get("event"), data: JSON.parse(data) };
        events.push(event);
        if (until(event, events.length - 1)) return events;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** The `Authorization` header of a person of the harness. */
export function authorization(harness: Harness, user = "tester"): Record<string, string> {
  const token = harness.tokens.get(user);
  if (token === undefined) throw new Error(`no person ${user} in the harness`);
  return { authorization: `Bearer ${token}` };
}

/**
 * A JSON request to the gateway, as `user` (default `tester`); `user: null` sends no token, and
 * `headers.authorization` replaces the person's.
 */
export async function request(
  harness: Harness,
  method: "GET" | "POST",
  path: string,
  options: {
    body?: unknown;
    rawBody?: string;
    user?: string | null;
    headers?: Record<string, string>;
  } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const headers: Record<string, string> = {
    ...(options.user === null ? {} : authorization(harness, options.user)),
    ...options.headers,
  };
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  const response = await fetch(`${harness.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === "" ? undefined : (JSON.parse(text) as unknown),
    headers: response.headers,
  };
}
