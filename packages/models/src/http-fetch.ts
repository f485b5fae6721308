/**
 * A `fetch` over `node:http` and `node:https`, for the requests a worker makes all the time: model
 * calls and MCP requests. It keeps the global fetch's contract for what those requests use (a URL, a
 * method, headers, a string or bytes body, an `AbortSignal`, `redirect: "manual"`; a `Response`
 * whose body streams), and leaves out undici's connection machinery, whose HTTP parser is
 * WebAssembly compiled on the first request: a worker that never calls the global fetch idles in
 * 3.5 MiB less (81.6 vs 85.1 MiB, `bench:worker-memory` back to back) and spends less CPU per request.
 * Its `Response` is not the global one (see http-response.ts), so a worker loads no undici at all.
 *
 * What it does not do itself it hands to the global fetch, unchanged: a `Request` as input, a body
 * that is a stream, a `Blob` or `FormData`, a redirect to follow (`redirect: "follow"`, the default),
 * and every request made while `NODE_USE_ENV_PROXY` is set (Node's fetch then honours `HTTP(S)_PROXY`;
 * read per request: a worker started from a startup snapshot made its fetch when the snapshot was built).
 * Like the global fetch it sends `accept-encoding: gzip, deflate, br` unless told otherwise and
 * decodes those (`deflate` with or without its zlib wrapper); gives up connecting after 10 s and,
 * once connected, waiting for headers after 300 s; rejects with the signal's reason when aborted and
 * with `TypeError("fetch failed", { cause })` when the network fails. A request of an idempotent
 * method (GET, HEAD, OPTIONS, PUT, DELETE) on a kept-alive connection the server had just closed is
 * sent again once; a POST is not, since the server may have acted on it (an MCP `tools/call` must
 * not run twice because a connection dropped).
 *
 * @module
 */
import type * as http from "node:http";
import type { ClientRequest, IncomingMessage } from "node:http";
import { pipeline, Readable, Transform, type TransformCallback } from "node:stream";
import type * as zlib from "node:zlib";
import { HttpHeaders, HttpResponse } from "./http-response.ts";

/** Options of {@link createHttpFetch}. */
export interface HttpFetchOptions {
  /** How long to wait for a connection (TLS included). Default 10 s, as the global fetch. */
  readonly connectTimeoutMs?: number;
  /** How long to wait for the response's headers once connected. Default 300 s, as the global fetch. */
  readonly headersTimeoutMs?: number;
  /** Where requests it does not serve itself go. Default: the global fetch. */
  readonly fallback?: typeof fetch;
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);
const nullBodyStatuses = new Set([101, 204, 205, 304]);
/** Methods a request may be sent again with after a dropped connection (RFC 9110, section 9.2.2). */
const idempotentMethods = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);

type Body = string | Uint8Array | undefined;

/** The body as bytes or text, with the content type fetch would give it; undefined when it is not served here. */
function requestBody(body: RequestInit["body"]): { bytes: Body; type?: string } | undefined {
  if (body === undefined || body === null) return { bytes: undefined };
  if (typeof body === "string") return { bytes: body, type: "text/plain;charset=UTF-8" };
  if (body instanceof URLSearchParams) {
    return { bytes: body.toString(), type: "application/x-www-form-urlencoded;charset=UTF-8" };
  }
  if (body instanceof ArrayBuffer) return { bytes: new Uint8Array(body) };
  if (ArrayBuffer.isView(body))
    return { bytes: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
  return undefined;
}

/** Header names lowercased, repeated names joined with ", " (as `Headers` does), without touching `Headers`. */
function requestHeaders(init: RequestInit["headers"]): Record<string, string> {
  const headers: Record<string, string> = {};
  const add = (name: string, value: string): void => {
    const key = name.toLowerCase();
    const trimmed = value.trim();
    headers[key] = headers[key] === undefined ? trimmed : `${headers[key]}, ${trimmed}`;
  };
  if (init === undefined) return headers;
  if (Array.isArray(init)) {
    for (const pair of init) {
      const [name, value] = pair;
      add(name, value);
    }
  } else if (typeof (init as Headers).forEach === "function") {
    (init as Headers).forEach((value, name) => {
      add(name, value);
    });
  } else {
    for (const [name, value] of Object.entries(init as Record<string, string>)) add(name, value);
  }
  return headers;
}

/** Why `signal` aborted, as fetch rejects: its reason (an `AbortError` or `TimeoutError` `DOMException` unless given one). */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException(String(reason), "AbortError");
}

function fetchFailed(cause: unknown): TypeError {
  return new TypeError("fetch failed", { cause });
}

function timeoutError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** zlib's options for a body decoded as it arrives: each chunk's output at once, and no error on a cut-short end. */
function streaming(z: typeof zlib): { flush: number; finishFlush: number } {
  return { flush: z.constants.Z_SYNC_FLUSH, finishFlush: z.constants.Z_SYNC_FLUSH };
}

/**
 * Inflates a `deflate` body, with or without its zlib wrapper: servers send both (the global fetch
 * accepts both). The first byte tells which: a zlib header's low four bits are 8 (the deflate method).
 */
class InflateEither extends Transform {
  #inner: Transform | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.#inner === undefined) {
      if (chunk.length === 0) {
        done();
        return;
      }
      const z = process.getBuiltinModule("node:zlib");
      const inner =
        ((chunk[0] ?? 0) & 0x0f) === 0x08 ? z.createInflate(streaming(z)) : z.createInflateRaw(streaming(z));
      inner.on("data", (data: Buffer) => this.push(data));
      inner.on("end", () => this.push(null));
      inner.on("error", (error) => this.destroy(error));
      this.#inner = inner;
    }
    this.#inner.write(chunk, done);
  }

  override _final(done: (error?: Error | null) => void): void {
    if (this.#inner === undefined) this.push(null);
    else this.#inner.end();
    done();
  }

  // A body cancelled or failed half-way: the inflater's zlib handle goes with it.
  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#inner?.destroy();
    done(error);
  }
}

/** The decoders for a `content-encoding`, in the order to apply them; undefined when one is unknown. */
function decoders(encoding: string | undefined): NodeJS.ReadWriteStream[] | undefined {
  if (encoding === undefined) return [];
  const codings = encoding
    .toLowerCase()
    .split(",")
    .map((coding) => coding.trim())
    .filter((coding) => coding !== "" && coding !== "identity");
  if (codings.length === 0) return [];
  const z = process.getBuiltinModule("node:zlib");
  const streams: NodeJS.ReadWriteStream[] = [];
  for (const coding of codings.reverse()) {
    if (coding === "gzip" || coding === "x-gzip") {
      streams.push(z.createGunzip(streaming(z)));
    } else if (coding === "deflate") {
      streams.push(new InflateEither());
    } else if (coding === "br") {
      streams.push(
        z.createBrotliDecompress({
          flush: z.constants.BROTLI_OPERATION_FLUSH,
          finishFlush: z.constants.BROTLI_OPERATION_FLUSH,
        }),
      );
    } else {
      return undefined;
    }
  }
  return streams;
}

/**
 * Creates a fetch over `node:http`/`node:https` with its own kept-alive connections.
 *
 * @example
 * ```ts
 * const fetch = createHttpFetch();
 * const response = await fetch("http://127.0.0.1:8000/v1/models", { signal: AbortSignal.timeout(5_000) });
 * console.log(response.status, await response.json());
 * ```
 */
export function createHttpFetch(options: HttpFetchOptions = {}): typeof fetch {
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const headersTimeoutMs = options.headersTimeoutMs ?? 300_000;
  const fallback: typeof fetch = options.fallback ?? ((input, init) => fetch(input, init));
  // NODE_USE_ENV_PROXY is read per request, not now: a worker started from a startup snapshot
  // (packages/cli/src/worker-snapshot.ts) made this module's fetch when the snapshot was built.
  const proxied = (): boolean => process.env["NODE_USE_ENV_PROXY"] !== undefined;
  // As Node's global agents: kept alive, the most recently used connection first, idle ones closed after 5 s.
  const agentOptions = { keepAlive: true, scheduling: "lifo", timeout: 5_000 } as const;
  // node:http and node:https are loaded by the first request that needs them. Not when this module
  // loads: a startup snapshot cannot hold node:http's parser. And not as `import ... from
  // "node:http"`: an ES module import of it reads every export, and three of them (WebSocket,
  // CloseEvent, MessageEvent) load undici, the very thing this fetch leaves out.
  const transport = (name: "node:http" | "node:https") => {
    let made: { agent: http.Agent; request: typeof http.request } | undefined;
    return (): { agent: http.Agent; request: typeof http.request } => {
      if (made === undefined) {
        const module = process.getBuiltinModule(name);
        made = { agent: new module.Agent(agentOptions), request: module.request };
      }
      return made;
    };
  };
  const plain = transport("node:http");
  const secure = transport("node:https");

  function send(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: Body,
    init: RequestInit | undefined,
    retried: boolean,
  ): Promise<Response> {
    const signal = init?.signal ?? undefined;
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(abortReason(signal));
        return;
      }
      const tls = url.protocol === "https:";
      const transport = tls ? secure() : plain();
      let settled = false;
      let response: IncomingMessage | undefined;
      let bodyStream: Readable | undefined;
      let connectTimer: NodeJS.Timeout | undefined;
      const stopTimers = (): void => {
        clearTimeout(headersTimer);
        clearTimeout(connectTimer);
      };
      const detach = (): void => {
        stopTimers();
        signal?.removeEventListener("abort", onAbort);
      };
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        detach();
        reject(error);
      };
      function onAbort(): void {
        if (signal === undefined) return;
        const reason = abortReason(signal);
        request.destroy();
        const stream = bodyStream ?? response;
        if (stream === undefined) fail(reason);
        else {
          detach();
          stream.destroy(reason);
        }
      }

      let request: ClientRequest;
      let headersTimer: NodeJS.Timeout | undefined;
      /** The wait for the response's headers counts from the connection, not from the request's start. */
      const awaitHeaders = (): void => {
        if (settled || response !== undefined) return;
        headersTimer = setTimeout(() => {
          request.destroy(
            timeoutError("UND_ERR_HEADERS_TIMEOUT", `no response headers within ${headersTimeoutMs} ms`),
          );
        }, headersTimeoutMs);
      };
      try {
        request = transport.request(url, { method, headers, agent: transport.agent });
      } catch (error) {
        // Invalid header names or values are refused before anything is sent.
        fail(fetchFailed(error));
        return;
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      request.on("socket", (socket) => {
        if (!socket.connecting) {
          awaitHeaders();
          return;
        }
        connectTimer = setTimeout(() => {
          request.destroy(
            timeoutError("UND_ERR_CONNECT_TIMEOUT", `no connection within ${connectTimeoutMs} ms`),
          );
        }, connectTimeoutMs);
        socket.once(tls ? "secureConnect" : "connect", () => {
          clearTimeout(connectTimer);
          awaitHeaders();
        });
      });
      request.on("error", (error: NodeJS.ErrnoException) => {
        if (settled) return;
        // A kept-alive connection the server closed as this request went out: once more, on a new one,
        // when the method is idempotent. A POST may have reached the server and been acted on.
        if (
          !retried &&
          idempotentMethods.has(method) &&
          response === undefined &&
          request.reusedSocket &&
          (error.code === "ECONNRESET" || error.code === "EPIPE")
        ) {
          settled = true;
          detach();
          resolve(send(url, method, headers, body, init, true));
          return;
        }
        fail(signal?.aborted === true ? abortReason(signal) : fetchFailed(error));
      });
      request.on("response", (incoming) => {
        response = incoming;
        stopTimers();
        const status = incoming.statusCode ?? 0;
        if (redirectStatuses.has(status) && incoming.headers.location !== undefined) {
          const mode = init?.redirect ?? "follow";
          if (mode === "follow") {
            incoming.resume();
            settled = true;
            detach();
            resolve(fallback(url, init));
            return;
          }
          if (mode === "error") {
            incoming.resume();
            fail(fetchFailed(new Error(`unexpected redirect to ${incoming.headers.location}`)));
            return;
          }
        }
        let stream: Readable = incoming;
        const decoding = decoders(incoming.headers["content-encoding"]);
        if (method !== "HEAD" && decoding !== undefined && decoding.length > 0) {
          stream = pipeline([incoming, ...decoding], () => undefined) as unknown as Readable;
        }
        bodyStream = stream;
        stream.once("close", detach);
        const nullBody = method === "HEAD" || nullBodyStatuses.has(status);
        // A Response in all but its class (see http-response.ts): `instanceof Response` is false.
        // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
        const answer: Response = new HttpResponse(
          nullBody ? null : (Readable.toWeb(stream) as ReadableStream<Uint8Array<ArrayBuffer>>),
          {
            status,
            statusText: incoming.statusMessage ?? "",
            headers: HttpHeaders.fromRaw(incoming.rawHeaders),
            url: url.href,
          },
        );
        if (nullBody) incoming.resume();
        settled = true;
        resolve(answer);
      });
      request.end(body);
    });
  }

  return async function httpFetch(input, init) {
    const body = requestBody(init?.body);
    const usable = (typeof input === "string" || input instanceof URL) && body !== undefined && !proxied();
    if (!usable) return fallback(input, init);
    let url: URL;
    try {
      url = new URL(input);
    } catch (error) {
      throw new TypeError(`Failed to parse URL from ${String(input)}`, { cause: error });
    }
    // Other schemes, and URLs with credentials (which fetch refuses), are the global fetch's to answer.
    if (
      (url.protocol !== "http:" && url.protocol !== "https:") ||
      url.username !== "" ||
      url.password !== ""
    ) {
      return fallback(input, init);
    }
    const headers = requestHeaders(init?.headers);
    if (body.type !== undefined && headers["content-type"] === undefined) headers["content-type"] = body.type;
    headers["accept"] ??= "*/*";
    headers["accept-encoding"] ??= "gzip, deflate, br";
    headers["user-agent"] ??= "node";
    if (body.bytes !== undefined) headers["content-length"] = String(Buffer.byteLength(body.bytes));
    const method = (init?.method ?? "GET").toUpperCase();
    if ((method === "GET" || method === "HEAD") && body.bytes !== undefined) {
      throw new TypeError("Request with GET/HEAD method cannot have body.");
    }
    return send(url, method, headers, body.bytes, init, false);
  };
}

/** The fetch a worker's models and MCP connections use by default (one set of kept-alive connections). */
export const httpFetch: typeof fetch = createHttpFetch();
