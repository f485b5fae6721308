/**
 * One pooled MCP server: a single client shared by every caller, its tool catalog, and the
 * reconnect loop. The client is replaced (never repaired) when the connection breaks: the stdio
 * child died, the HTTP server forgot the session, the event stream dropped or a ping failed; the
 * next attempt follows exponential backoff, and a call that arrives while the server is down tries
 * once at once instead of waiting for the timer.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SseError } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CallToolResultSchema,
  ListToolsResultSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
} from "@modelcontextprotocol/sdk/types.js";
import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import { idempotencyKeyMeta, type CallToolOptions } from "./call-tool-options.ts";
import { createTransport } from "./create-transport.ts";
import { lazySchemaValidator } from "./lazy-schema-validator.ts";
import { describeConnection, type McpConnection } from "./mcp-connection.ts";
import {
  classifyFailure,
  describeError,
  isConnectionFailure,
  isRefusal,
  refusedError,
  toolCallError,
  unavailableError,
  withToolContext,
  type ToolCallContext,
} from "./mcp-failure.ts";
import { toMcpTool, type McpTool } from "./mcp-tool.ts";
import { StdioProcessTransport } from "./stdio-process-transport.ts";

/** The state of one server in the pool. */
export type McpServerState = "connecting" | "ready" | "down";

/** What `McpPool.status` reports for one server. */
export interface McpServerStatus {
  readonly state: McpServerState;
  /** Why the server is down, or why the last attempt failed while it is connecting again. */
  readonly error?: string;
  /** How many tools the server listed last. */
  readonly tools?: number;
}

/** The pool-wide settings a server connection uses, with every default applied. */
export interface ServerConnectionSettings {
  readonly clientInfo: { readonly name: string; readonly version: string };
  readonly defaultTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly reconnect: BackoffOptions;
  readonly pingIntervalMs: number;
  readonly baseEnvironment: Readonly<Record<string, string>>;
  readonly fetch?: typeof fetch;
  readonly onStatusChange?: (status: McpServerStatus) => void;
  readonly onToolsChanged?: (tools: readonly McpTool[]) => void;
  readonly onStderr?: (text: string) => void;
}

interface Session {
  readonly client: Client;
  readonly transport: Transport;
  readonly generation: number;
}

/** The longest a health-check ping may take before the connection counts as broken. */
const pingTimeoutMs = 10_000;
/** How long closing waits for the server to end an HTTP session. */
const terminateTimeoutMs = 2_000;
/** A guard against servers whose cursors never end. */
const maxToolPages = 1_000;

function ignore(): void {
  // Deliberately empty: background work whose failure is already reported through the state.
}

/** A pooled connection to one MCP server. Internal to the pool. */
export class ServerConnection {
  readonly #name: string;
  readonly #connection: McpConnection;
  readonly #settings: ServerConnectionSettings;
  #state: McpServerState = "connecting";
  #error: string | undefined;
  #session: Session | undefined;
  #attempt: Promise<Session> | undefined;
  #generation = 0;
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #checking = false;
  #tools: McpTool[] | undefined;
  #toolsGeneration = -1;
  #toolsLoad: Promise<McpTool[]> | undefined;
  #toolsVersion = 0;
  #closed = false;

  constructor(name: string, connection: McpConnection, settings: ServerConnectionSettings) {
    this.#name = name;
    this.#connection = connection;
    this.#settings = settings;
  }

  /** Starts connecting in the background. */
  start(): void {
    this.#connect().catch(ignore);
  }

  status(): McpServerStatus {
    return {
      state: this.#state,
      ...(this.#error === undefined ? {} : { error: this.#error }),
      ...(this.#tools === undefined ? {} : { tools: this.#tools.length }),
    };
  }

  /** Every tool of the server, over all pages; cached until the server says the list changed. */
  async listTools(): Promise<McpTool[]> {
    for (let attempt = 0; ; attempt++) {
      const session = await this.#ready();
      try {
        return await this.#loadTools(session);
      } catch (error) {
        const failure = classifyFailure(error);
        if (isConnectionFailure(failure.kind)) {
          this.#lost(session.generation, failure.reason);
          if (attempt === 0) continue;
          throw unavailableError(this.#name, this.#connection, failure.reason, error);
        }
        throw new FreeholdError(
          failure.kind === "timeout" ? "mcp.timeout" : "mcp.protocol",
          `failed to list the tools of MCP server "${this.#name}" (${describeConnection(this.#connection)}): ${failure.reason}`,
          { retryable: failure.kind === "timeout", cause: error, details: { server: this.#name } },
        );
      }
    }
  }

  /** Calls a tool on the shared client; see `McpPool.callTool`. */
  async callTool(
    name: string,
    args: Record<string, unknown>,
    options: CallToolOptions,
  ): Promise<CallToolResult> {
    const timeoutMs = options.timeoutMs ?? this.#connection.timeoutMs ?? this.#settings.defaultTimeoutMs;
    const context: ToolCallContext = {
      server: this.#name,
      tool: name,
      connection: this.#connection,
      timeoutMs,
    };
    if (options.signal?.aborted === true) throw cancelledError(context, options.signal.reason);
    await this.#requireTool(name);
    for (let attempt = 0; ; attempt++) {
      const session = await this.#ready().catch((error: unknown) => {
        throw error instanceof FreeholdError ? withToolContext(this.#name, name, error) : error;
      });
      // A per-call controller, so that a long-lived caller signal does not collect one listener per call.
      const controller = new AbortController();
      const onAbort = (): void => {
        controller.abort(options.signal?.reason);
      };
      options.signal?.addEventListener("abort", onAbort, { once: true });
      try {
        return await session.client.request(
          {
            method: "tools/call",
            params: { name, arguments: args, _meta: { [idempotencyKeyMeta]: options.idempotencyKey } },
          },
          CallToolResultSchema,
          {
            timeout: timeoutMs,
            resetTimeoutOnProgress: true,
            signal: controller.signal,
            onprogress: ({ progress, total, message }) => {
              options.onProgress?.({
                progress,
                ...(total === undefined ? {} : { total }),
                ...(message === undefined ? {} : { message }),
              });
            },
          },
        );
      } catch (error) {
        // The caller's signal, not the per-call one: the SDK reports an abort as a timeout.
        if (controller.signal.aborted) throw cancelledError(context, controller.signal.reason);
        const failure = classifyFailure(error);
        if (isConnectionFailure(failure.kind)) this.#lost(session.generation, failure.reason);
        // The server never saw the request: it is safe to send it again on a new session.
        const notDelivered = failure.kind === "session-lost" || failure.kind === "unreachable";
        if (notDelivered && attempt === 0) continue;
        throw toolCallError(context, failure, error);
      } finally {
        options.signal?.removeEventListener("abort", onAbort);
      }
    }
  }

  /** Disconnects for good: ends an HTTP session, kills a stdio child's process group. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#pingTimer);
    this.#generation++;
    const session = this.#session;
    const attempt = this.#attempt;
    this.#session = undefined;
    this.#error = "the pool was closed";
    this.#setState("down");
    if (session !== undefined) await endSession(session);
    if (attempt !== undefined) await attempt.then(ignore, ignore);
  }

  /** Throws `tool.not-found` unless the server lists the tool, refreshing the catalog once if needed. */
  async #requireTool(name: string): Promise<void> {
    const list = async (): Promise<McpTool[]> => {
      try {
        return await this.listTools();
      } catch (error) {
        throw error instanceof FreeholdError ? withToolContext(this.#name, name, error) : error;
      }
    };
    let tools = await list();
    if (tools.some((tool) => tool.name === name)) return;
    this.#invalidateTools();
    tools = await list();
    if (tools.some((tool) => tool.name === name)) return;
    const names = tools.map((tool) => tool.name);
    throw new FreeholdError(
      "tool.not-found",
      `failed to call tool ${name} on ${this.#name}: the server has no tool named "${name}"; it lists ` +
        (names.length === 0
          ? "no tools"
          : `${names.slice(0, 20).join(", ")}${names.length > 20 ? ", …" : ""}`),
      { details: { server: this.#name, tool: name } },
    );
  }

  /** The live session, connecting first when there is none. Throws `mcp.unavailable`. */
  async #ready(): Promise<Session> {
    if (this.#closed) {
      throw new FreeholdError(
        "mcp.unavailable",
        `the MCP pool was closed; MCP server "${this.#name}" is no longer served`,
        {
          details: { server: this.#name },
        },
      );
    }
    return this.#session ?? (await this.#connect());
  }

  #connect(): Promise<Session> {
    if (this.#attempt !== undefined) return this.#attempt;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const attempt = this.#open().finally(() => {
      if (this.#attempt === attempt) this.#attempt = undefined;
    });
    this.#attempt = attempt;
    return attempt;
  }

  async #open(): Promise<Session> {
    const generation = ++this.#generation;
    this.#setState("connecting");
    let transport: Transport;
    try {
      transport = await createTransport(this.#connection, {
        baseEnvironment: this.#settings.baseEnvironment,
        ...(this.#settings.fetch === undefined ? {} : { fetch: this.#settings.fetch }),
        ...(this.#settings.onStderr === undefined ? {} : { onStderr: this.#settings.onStderr }),
      });
    } catch (error) {
      // An in-process server that could not start: down, as one that does not answer.
      const reason = describeError(error);
      if (!this.#closed && generation === this.#generation) {
        this.#failures++;
        this.#error = reason;
        this.#setState("down");
        this.#scheduleRetry();
      }
      throw unavailableError(this.#name, this.#connection, reason, error);
    }
    const client = new Client(this.#settings.clientInfo, {
      capabilities: {},
      jsonSchemaValidator: lazySchemaValidator(),
    });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      if (this.#session?.generation !== generation) return;
      this.#invalidateTools();
      this.#loadTools(this.#session).catch(ignore);
    });
    client.onclose = () => {
      this.#lost(generation, closeReason(transport));
    };
    client.onerror = (error) => {
      this.#transportError(generation, error);
    };
    try {
      await client.connect(transport, { timeout: this.#settings.connectTimeoutMs });
    } catch (error) {
      await client.close().catch(ignore);
      const exited = transport instanceof StdioProcessTransport && transport.exitDescription !== undefined;
      const reason = exited ? closeReason(transport) : withStderr(describeError(error), transport);
      if (!this.#closed && generation === this.#generation) {
        this.#failures++;
        this.#error = reason;
        this.#setState("down");
        this.#scheduleRetry();
      }
      if (isRefusal(error)) throw refusedError(this.#name, this.#connection, reason, error);
      throw unavailableError(this.#name, this.#connection, reason, error);
    }
    if (this.#closed || generation !== this.#generation) {
      await endSession({ client, transport, generation });
      throw unavailableError(this.#name, this.#connection, "the pool was closed while connecting");
    }
    const session: Session = { client, transport, generation };
    this.#session = session;
    this.#failures = 0;
    this.#error = undefined;
    this.#setState("ready");
    if (this.#settings.pingIntervalMs > 0) {
      this.#pingTimer = setInterval(() => {
        this.#check(generation);
      }, this.#settings.pingIntervalMs).unref();
    }
    this.#loadTools(session).catch(ignore);
    return session;
  }

  /** Drops a broken session and schedules the next attempt. Stale generations are ignored. */
  #lost(generation: number, reason: string): void {
    const session = this.#session;
    if (this.#closed || session?.generation !== generation) return;
    this.#session = undefined;
    clearInterval(this.#pingTimer);
    session.client.close().catch(ignore);
    this.#error = reason;
    this.#setState("down");
    this.#scheduleRetry();
  }

  #transportError(generation: number, error: Error): void {
    if (this.#session?.generation !== generation) return;
    if (error instanceof SseError) {
      // The legacy transport's session lives and dies with its event stream.
      this.#lost(generation, describeError(error));
      return;
    }
    this.#check(generation);
  }

  /** Pings the server; a connection failure or no answer drops the session. */
  #check(generation: number): void {
    const session = this.#session;
    if (this.#checking || session?.generation !== generation) return;
    this.#checking = true;
    session.client
      .ping({ timeout: Math.min(pingTimeoutMs, this.#settings.connectTimeoutMs) })
      .then(ignore, (error: unknown) => {
        const failure = classifyFailure(error);
        if (isConnectionFailure(failure.kind) || failure.kind === "timeout")
          this.#lost(generation, failure.reason);
      })
      .finally(() => {
        this.#checking = false;
      });
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#retryTimer !== undefined) return;
    const wait = backoffDelay(Math.max(0, this.#failures - 1), this.#settings.reconnect);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#session === undefined) this.#connect().catch(ignore);
    }, wait).unref();
  }

  #invalidateTools(): void {
    this.#toolsVersion++;
    this.#toolsGeneration = -1;
    this.#toolsLoad = undefined;
  }

  #loadTools(session: Session): Promise<McpTool[]> {
    if (this.#tools !== undefined && this.#toolsGeneration === session.generation)
      return Promise.resolve(this.#tools);
    if (this.#toolsLoad !== undefined) return this.#toolsLoad;
    const version = this.#toolsVersion;
    const load = this.#fetchTools(session)
      .then((tools) => {
        if (version === this.#toolsVersion && this.#session === session) {
          const changed = JSON.stringify(tools) !== JSON.stringify(this.#tools);
          this.#tools = tools;
          this.#toolsGeneration = session.generation;
          if (changed) this.#settings.onToolsChanged?.(tools);
        }
        return tools;
      })
      .finally(() => {
        if (this.#toolsLoad === load) this.#toolsLoad = undefined;
      });
    this.#toolsLoad = load;
    return load;
  }

  async #fetchTools(session: Session): Promise<McpTool[]> {
    const tools: McpTool[] = [];
    const cursors = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < maxToolPages; page++) {
      const result = await session.client.request(
        cursor === undefined ? { method: "tools/list" } : { method: "tools/list", params: { cursor } },
        ListToolsResultSchema,
        { timeout: this.#settings.defaultTimeoutMs },
      );
      for (const tool of result.tools) tools.push(toMcpTool(this.#name, tool));
      cursor = result.nextCursor;
      if (cursor === undefined) return tools;
      if (cursors.has(cursor)) throw new Error(`tools/list returned the cursor "${cursor}" twice`);
      cursors.add(cursor);
    }
    throw new Error(`tools/list did not end after ${maxToolPages} pages`);
  }

  #setState(state: McpServerState): void {
    const before = JSON.stringify(this.status());
    this.#state = state;
    const after = this.status();
    if (JSON.stringify(after) !== before) this.#settings.onStatusChange?.(after);
  }
}

function cancelledError(context: ToolCallContext, reason: unknown): FreeholdError {
  return new FreeholdError(
    "mcp.cancelled",
    `failed to call tool ${context.tool} on ${context.server}: the call was cancelled (${describeError(reason)})`,
    { cause: reason, details: { server: context.server, tool: context.tool } },
  );
}

function closeReason(transport: Transport): string {
  if (transport instanceof StdioProcessTransport) {
    return withStderr(`the server process ${transport.exitDescription ?? "closed its output"}`, transport);
  }
  return "the connection closed";
}

function withStderr(reason: string, transport: Transport): string {
  if (!(transport instanceof StdioProcessTransport) || transport.stderrTail === "") return reason;
  return `${reason}; its stderr ends with: ${transport.stderrTail.slice(-500)}`;
}

async function endSession(session: Session): Promise<void> {
  if (session.transport instanceof StreamableHTTPClientTransport) {
    // Lets the server (or the stdio bridge) free the session now rather than when it times out.
    const timer = AbortSignal.timeout(terminateTimeoutMs);
    await Promise.race([
      session.transport.terminateSession().catch(ignore),
      new Promise<void>((resolve) => {
        timer.addEventListener(
          "abort",
          () => {
            resolve();
          },
          { once: true },
        );
      }),
    ]);
  }
  await session.client.close().catch(ignore);
}
