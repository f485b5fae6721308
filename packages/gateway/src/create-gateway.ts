/**
 * The gateway: Freehold's HTTP API on Hono, over the Redis-backed parts of `@freehold/handoff`.
 * Every route of {@link gatewayRoutes} is registered; errors leave as `{code, message, details}` with
 * the status of their code; unknown paths are 404s that point at `/openapi.json`. Authentication
 * runs first on every route but the public ones (the identity is the context variable `identity`);
 * each route then checks its action with the authorizer.
 *
 * @module
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { FreeholdError, redactUrls } from "@freehold/api";
import {
  createAgentQueues,
  createAgentRegistry,
  createApprovals,
  createEventFanout,
  createInbox,
  createQuotas,
  createRunStore,
  type Quotas,
  type RedisClient,
} from "@freehold/handoff";
import { createAdaptorServer } from "@hono/node-server";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createAccess } from "./auth/access.ts";
import { authentication } from "./auth/authenticate.ts";
import type { Authorizer } from "./auth/authorizer.ts";
import type { Authenticator, AuthVariables } from "./auth/identity.ts";
import { createManifestDirectory, type ResourceDirectory } from "./auth/resource-directory.ts";
import { createRunStarters } from "./auth/run-starters.ts";
import { consoleFiles, readConsole, type ConsoleOptions } from "./console.ts";
import { createEdge, type EdgeOptions } from "./edge/edge.ts";
import type { ListenAddress } from "./edge/loopback-host.ts";
import { errorResponse, statusOfCode, toResponseError } from "./error-status.ts";
import type { GatewayParts } from "./gateway-parts.ts";
import type { GatewayMetrics } from "./metrics.ts";
import { allowedMethods, methodNotAllowed } from "./method-not-allowed.ts";
import { gatewayRoutes } from "./routes.ts";

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** The Redis of the runs and queues. The gateway uses it but does not close it. */
  readonly redis: RedisClient;
  /** Where the gateway reports failures (requests that failed with a 500, broken streams). */
  readonly log?: (message: string) => void;
  /** The URL callers reach the gateway at, for A2A agent cards (default: where it listens; never the request's Host). */
  readonly publicUrl?: string;
  /** Allowed origins, rate limits, event stream caps: see {@link EdgeOptions} for the defaults. */
  readonly edge?: EdgeOptions;
  /**
   * How long the runs the gateway ends (cancels) keep their state and events, in seconds (0:
   * forever); the same as the workers' (`runs.retention` in the chart). Default 7 days.
   */
  readonly runRetentionSeconds?: number;
  /** Events a follower may have waiting before its stream is closed (default 1000; it resumes with Last-Event-ID). */
  readonly maxBufferedEvents?: number;
  /** Longest a blocking A2A message/send waits before answering with the task as it is, in ms (default 60 000). */
  readonly a2aSendTimeoutMs?: number;
  /** Milliseconds between SSE keep-alive comments (default 15 000). */
  readonly keepAliveMs?: number;
  /** Largest request body accepted, in bytes (default 4 MiB). */
  readonly maxBodyBytes?: number;
  /** The tenants' quotas (default: over `redis`, which must be able to read every tenant's limits). */
  readonly quotas?: Quotas;
  /** Who is calling: a bearer token to an identity (a chain of token file, OIDC, TokenReview). */
  readonly authenticator: Authenticator;
  /** What they may do: SubjectAccessReview in a cluster, a policy file under `freehold dev`. */
  readonly authorizer: Authorizer;
  /** HumanQueues' members and Agents' tools (default: none known: queues open to the role, no self-approval). */
  readonly directory?: ResourceDirectory;
  /** Prometheus metrics of the requests, served apart (see metrics.ts); default: none kept. */
  readonly metrics?: GatewayMetrics;
  /** Serve the web console at `/` from these built files. Absent: no console. */
  readonly console?: ConsoleOptions;
}

/** A running gateway. */
export interface Gateway extends AsyncDisposable {
  /** Listens on `host:port` (default 127.0.0.1, a free port) and resolves to the base URL. */
  listen(port?: number, host?: string): Promise<{ readonly url: string }>;
  /** Handles one request without a socket (tests, embedding in another server). */
  fetch(request: Request): Promise<Response>;
  /** Ends open event streams, stops listening, closes the gateway's queues. */
  close(): Promise<void>;
}

const defaults = {
  log: (message: string): void => {
    console.error(message);
  },
  keepAliveMs: 15_000,
  maxBodyBytes: 4 * 1024 * 1024,
  a2aSendTimeoutMs: 60_000,
} satisfies Partial<GatewayOptions>;

/** How long `close` waits for open connections before cutting them. */
const closeGraceMs = 3000;

/** An OpenAPI path (`/runs/{runId}`) as a Hono path (`/runs/:runId`). */
function honoPath(path: string): string {
  return path.replace(/\{([A-Za-z]+)\}/g, ":$1");
}

function urlOf(address: AddressInfo): string {
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/**
 * Builds the gateway; call `listen` to serve it.
 *
 * @example
 * ```ts
 * const gateway = createGateway({
 *   redis: connectRedis("redis://127.0.0.1:6379"),
 *   authenticator: createTokenFileAuthenticator(readTokenFile("tokens.csv")),
 *   authorizer: createPolicyAuthorizer(readPolicyFile("policy.yaml")),
 * });
 * const { url } = await gateway.listen(8080, "0.0.0.0");
 * // curl -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
 * //   -X POST $url/v1/namespaces/acme/agents/billing/runs -d '{"input":"Where is my invoice?"}'
 * ```
 */
export function createGateway(options: GatewayOptions): Gateway {
  const settings = { ...defaults, ...options };
  const { redis } = settings;
  // Every line the gateway logs goes out with the credentials of URLs (Redis above all) hidden.
  const log = (message: string): void => {
    settings.log(redactUrls(message));
  };
  const closing = new AbortController();
  const store = createRunStore(
    redis,
    settings.runRetentionSeconds === undefined ? {} : { retentionSeconds: settings.runRetentionSeconds },
  );
  const queues = createAgentQueues(redis);
  let listening: ListenAddress | undefined;
  let listeningUrl: string | undefined;
  const events = createEventFanout({
    redis,
    store,
    log,
    ...(settings.maxBufferedEvents === undefined ? {} : { maxBufferedEvents: settings.maxBufferedEvents }),
  });
  const parts: GatewayParts = {
    redis,
    store,
    queues,
    registry: createAgentRegistry(redis),
    inbox: createInbox({ redis, store, queues }),
    approvals: createApprovals({ redis, store, queues }),
    quotas: settings.quotas ?? createQuotas(redis),
    access: createAccess({
      authorizer: settings.authorizer,
      directory: settings.directory ?? createManifestDirectory(),
      starters: createRunStarters(redis, store),
    }),
    log,
    get publicUrl() {
      return settings.publicUrl ?? listeningUrl;
    },
    events,
    a2aSendTimeoutMs: settings.a2aSendTimeoutMs,
    closing: closing.signal,
    keepAliveMs: settings.keepAliveMs,
  };

  const consoleAssets = settings.console === undefined ? undefined : readConsole(settings.console);
  const app = new Hono<{ Variables: AuthVariables }>();
  const edge = createEdge(settings.edge ?? {}, {
    listening: () => listening,
    publicUrl: settings.publicUrl,
    paths: gatewayRoutes.map((route) => route.path),
  });
  if (settings.metrics !== undefined) app.use(settings.metrics.middleware);
  // Cheap refusals first: no token check, no Redis call for a request refused on its face.
  for (const middleware of edge.refusals) app.use(middleware);
  // The console's page and assets are public, as a sign-in page is; what it shows comes from the API.
  if (consoleAssets !== undefined) app.use(consoleFiles(consoleAssets));
  app.use(
    authentication({
      authenticator: settings.authenticator,
      publicRoutes: gatewayRoutes.filter((route) => route.public),
    }),
  );
  // Per-identity limits, once the caller is known.
  for (const middleware of edge.limits) app.use(middleware);
  app.use(
    bodyLimit({
      maxSize: settings.maxBodyBytes,
      onError: () =>
        errorResponse(
          new FreeholdError(
            "request.too-large",
            `the request body is larger than ${settings.maxBodyBytes} bytes`,
            { details: { maxBytes: settings.maxBodyBytes } },
          ),
        ),
    }),
  );
  for (const route of gatewayRoutes) {
    app.on(route.method.toUpperCase(), honoPath(route.path), (context) =>
      route.handle(parts, {
        params: context.req.param(),
        url: new URL(context.req.url),
        headers: context.req.raw.headers,
        signal: context.req.raw.signal,
        identity: context.get("identity"),
        text: () => context.req.text(),
      }),
    );
  }
  const methodsOf = allowedMethods(gatewayRoutes);
  app.notFound((context) => {
    const { pathname } = new URL(context.req.url);
    const allowed = methodsOf(pathname);
    if (allowed.length > 0) {
      const response = errorResponse(methodNotAllowed(context.req.method, pathname, allowed));
      response.headers.set("allow", allowed.join(", "));
      return response;
    }
    return errorResponse(
      new FreeholdError(
        "route.not-found",
        `no route ${context.req.method} ${pathname}; the API is described at /openapi.json`,
      ),
    );
  });
  app.onError((error, context) => {
    const freeholdError = toResponseError(error);
    if (statusOfCode(freeholdError.code) >= 500) {
      const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(
        `${context.req.method} ${new URL(context.req.url).pathname} failed (${freeholdError.code}): ${detail}`,
      );
    }
    return errorResponse(freeholdError);
  });

  let server: Server | undefined;
  const close = async (): Promise<void> => {
    closing.abort();
    const running = server;
    server = undefined;
    if (running !== undefined) {
      await new Promise<void>((resolve) => {
        // Streams end on the closing signal within a second; connections still open after the
        // grace period are cut.
        const force = setTimeout(() => {
          running.closeAllConnections();
        }, closeGraceMs);
        running.close(() => {
          clearTimeout(force);
          resolve();
        });
        running.closeIdleConnections();
      });
    }
    await events.close();
    await queues.close();
  };

  return {
    async listen(port = 0, host = "127.0.0.1") {
      if (server !== undefined)
        throw new FreeholdError("gateway.listening", "the gateway is listening already");
      const created = createAdaptorServer({ fetch: app.fetch }) as Server;
      await new Promise<void>((resolve, reject) => {
        const refuse = (error: Error): void => {
          reject(
            new FreeholdError("gateway.listen-failed", `cannot listen on ${host}:${port}: ${error.message}`, {
              cause: error,
            }),
          );
        };
        created.once("error", refuse);
        created.listen(port, host, () => {
          created.off("error", refuse);
          resolve();
        });
      });
      server = created;
      const address = created.address() as AddressInfo;
      listening = { host, port: address.port };
      listeningUrl = urlOf(address);
      return { url: listeningUrl };
    },
    fetch: async (request) => app.fetch(request),
    close,
    [Symbol.asyncDispose]: close,
  };
}
