/**
 * `httpFetch` against real servers on loopback (HTTP and HTTPS), each case run against the global
 * fetch as well: what a worker's model calls and MCP requests see must not change with the client.
 */
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createSecureServer } from "node:https";
import { createConnection, createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { promisify } from "node:util";
import {
  brotliCompressSync,
  createDeflate,
  createDeflateRaw,
  createGzip,
  deflateRawSync,
  deflateSync,
  gzipSync,
} from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpFetch, httpFetch } from "./http-fetch.ts";

interface Seen {
  readonly sockets: Set<unknown>;
  closedStreams: number;
}

function answer(request: IncomingMessage, response: ServerResponse, body: string, seen: Seen): void {
  const url = new URL(request.url ?? "/", "http://x");
  const status = /^\/status\/(\d+)$/.exec(url.pathname);
  if (status !== null) {
    response.writeHead(Number(status[1]), { "content-type": "text/plain" });
    response.end(Number(status[1]) === 204 ? undefined : `status ${status[1]}`);
    return;
  }
  switch (url.pathname) {
    case "/echo":
      response.writeHead(200, { "content-type": "application/json", "x-multi": ["a", "b"] });
      response.end(JSON.stringify({ method: request.method, headers: request.headers, body }));
      return;
    case "/gzip":
    case "/br":
    case "/deflate":
    case "/deflate-raw":
    case "/deflate-empty": {
      const name = url.pathname.slice(1);
      const json = Buffer.from(JSON.stringify({ encoded: name }));
      const encode = {
        gzip: gzipSync,
        br: brotliCompressSync,
        deflate: deflateSync,
        "deflate-raw": deflateRawSync,
      };
      response.writeHead(200, {
        "content-type": "application/json",
        "content-encoding": name.startsWith("deflate") ? "deflate" : name,
      });
      // An empty body: nothing at all, not an empty stream of compressed data.
      response.end(name === "deflate-empty" ? undefined : encode[name as keyof typeof encode](json));
      return;
    }
    case "/read":
      // Repeated headers, cookies apart, names out of order, and a body that starts with a BOM.
      response.writeHead(200, [
        ["Content-Type", "text/plain;charset=utf-8"],
        ["X-B", "2"],
        ["Set-Cookie", "a=1"],
        ["X-A", "1"],
        ["Set-Cookie", "b=2"],
        ["X-B", "3"],
      ]);
      response.end("\ufeffhello, world");
      return;
    case "/form":
      response.writeHead(200, { "content-type": "application/x-www-form-urlencoded" });
      response.end("a=1&b=two");
      return;
    case "/redirect":
      response.writeHead(302, { location: "/echo" });
      response.end();
      return;
    case "/events": {
      // One event now, then nothing until the client goes away; compressed as ?encoding= says.
      const encoding = url.searchParams.get("encoding") ?? "";
      response.on("close", () => {
        seen.closedStreams++;
      });
      if (encoding === "") {
        response.writeHead(200, { "content-type": "text/event-stream" });
        response.write("data: first\n\n");
        return;
      }
      const compress = { gzip: createGzip, deflate: createDeflate, "deflate-raw": createDeflateRaw }[
        encoding as "gzip" | "deflate" | "deflate-raw"
      ]();
      response.writeHead(200, {
        "content-type": "text/event-stream",
        "content-encoding": encoding.startsWith("deflate") ? "deflate" : encoding,
      });
      compress.pipe(response);
      compress.write("data: first\n\n");
      compress.flush();
      response.on("close", () => compress.destroy());
      return;
    }
    case "/hang":
      return;
    default:
      response.writeHead(404);
      response.end("no such path");
  }
}

async function listen(server: Server, seen: Seen): Promise<string> {
  server.on("connection", (socket) => seen.sockets.add(socket));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return String((server.address() as AddressInfo).port);
}

function handler(seen: Seen) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      answer(request, response, Buffer.concat(chunks).toString("utf8"), seen);
    });
  };
}

const seen: Seen = { sockets: new Set(), closedStreams: 0 };
const plain = createServer(handler(seen));
let base = "";
let closed = "";

beforeAll(async () => {
  base = `http://127.0.0.1:${await listen(plain, seen)}`;
  const probe = createServer();
  closed = `http://127.0.0.1:${await listen(probe, { sockets: new Set(), closedStreams: 0 })}`;
  await new Promise((done) => probe.close(done));
});

afterAll(async () => {
  plain.closeAllConnections();
  await new Promise((done) => plain.close(done));
});

const clients: [string, typeof fetch][] = [
  ["global fetch", (input, init) => fetch(input, init)],
  ["httpFetch", httpFetch],
];

describe.each(clients)("%s", (_name, client) => {
  it("sends the method, headers and body, and reads a JSON answer", async () => {
    const response = await client(`${base}/echo`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer k" },
      body: JSON.stringify({ a: 1 }),
    });
    expect(response.status).toBe(200);
    expect(response.ok).toBe(true);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("x-multi")).toBe("a, b");
    const echoed = (await response.json()) as {
      method: string;
      headers: Record<string, string>;
      body: string;
    };
    expect(echoed.method).toBe("POST");
    expect(echoed.body).toBe('{"a":1}');
    expect(echoed.headers).toMatchObject({
      "content-type": "application/json",
      authorization: "Bearer k",
      "content-length": "7",
      accept: "*/*",
    });
    expect(echoed.headers["accept-encoding"]).toMatch(/gzip/);
  });

  it("takes headers as a Headers object or pairs, and bodies as bytes or form parameters", async () => {
    const fromHeaders = await client(`${base}/echo`, {
      method: "POST",
      headers: new Headers([["x-one", "1"]]),
      body: new TextEncoder().encode("bytes"),
    });
    expect(await fromHeaders.json()).toMatchObject({ headers: { "x-one": "1" }, body: "bytes" });
    const fromPairs = await client(`${base}/echo`, {
      method: "POST",
      headers: [["x-two", "2"]],
      body: new URLSearchParams({ grant_type: "client_credentials" }),
    });
    expect(await fromPairs.json()).toMatchObject({
      headers: { "x-two": "2", "content-type": "application/x-www-form-urlencoded;charset=UTF-8" },
      body: "grant_type=client_credentials",
    });
  });

  it("reads a response as fetch does: headers sorted and read-only, a body read once, cloned, as a Blob", async () => {
    const response = await client(`${base}/read`);
    expect(response.url).toBe(`${base}/read`);
    expect([response.type, response.redirected, response.statusText]).toEqual(["basic", false, "OK"]);
    expect([...response.headers].filter(([name]) => /^(x-|set-cookie|content-type)/.test(name))).toEqual([
      ["content-type", "text/plain;charset=utf-8"],
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
      ["x-a", "1"],
      ["x-b", "2, 3"],
    ]);
    expect([response.headers.get("X-B"), response.headers.has("x-a"), response.headers.get("x-c")]).toEqual([
      "2, 3",
      true,
      null,
    ]);
    expect([response.headers.getSetCookie(), response.headers.get("set-cookie")]).toEqual([
      ["a=1", "b=2"],
      "a=1, b=2",
    ]);
    const seenByForEach: string[] = [];
    response.headers.forEach((value, name) => {
      if (name.startsWith("x-")) seenByForEach.push(`${name}=${value}`);
    });
    expect(seenByForEach).toEqual(["x-a=1", "x-b=2, 3"]);
    expect(() => {
      response.headers.set("x-a", "changed");
    }).toThrow(TypeError);
    expect(() => {
      response.headers.append("x-c", "new");
    }).toThrow(TypeError);
    expect(response.headers.get("x-a")).toBe("1");

    const copy = response.clone();
    expect(response.bodyUsed).toBe(false);
    expect(await copy.text()).toBe("hello, world");
    expect(await response.text()).toBe("hello, world");
    expect(response.bodyUsed).toBe(true);
    await expect(response.text()).rejects.toThrow(TypeError);
    expect(() => response.clone()).toThrow(TypeError);

    const blob = await (await client(`${base}/read`)).blob();
    expect([blob.type, blob.size]).toEqual(["text/plain;charset=utf-8", 15]);
    expect((await (await client(`${base}/read`)).arrayBuffer()).byteLength).toBe(15);
    expect(
      Buffer.from(await (await client(`${base}/read`)).bytes())
        .subarray(3)
        .toString(),
    ).toBe("hello, world");
    await expect((await client(`${base}/read`)).json()).rejects.toThrow(SyntaxError);
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the standard's method, as a client reads a form
    const form = await (await client(`${base}/form`)).formData();
    expect([form.get("a"), form.get("b")]).toEqual(["1", "two"]);
  });

  it("gives error statuses as answers, and 204 without a body", async () => {
    const missing = await client(`${base}/status/404`);
    expect([missing.status, missing.ok, await missing.text()]).toEqual([404, false, "status 404"]);
    const empty = await client(`${base}/status/204`);
    expect([empty.status, empty.body]).toEqual([204, null]);
  });

  it("decodes gzip, brotli and deflate bodies (deflate with or without its zlib wrapper)", async () => {
    for (const encoding of ["gzip", "br", "deflate", "deflate-raw"]) {
      expect(await (await client(`${base}/${encoding}`)).json()).toEqual({ encoded: encoding });
    }
    expect(await (await client(`${base}/deflate-empty`)).text()).toBe("");
  });

  it("streams a body as it arrives, compressed or not, and cancelling it closes the connection", async () => {
    for (const encoding of ["", "gzip", "deflate", "deflate-raw"]) {
      const before = seen.closedStreams;
      const response = await client(`${base}/events?encoding=${encoding}`);
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value), encoding).toBe("data: first\n\n");
      await reader.cancel();
      await expect.poll(() => seen.closedStreams).toBe(before + 1);
    }
  });

  it("returns a redirect as is with redirect: manual, and follows it by default", async () => {
    const manual = await client(`${base}/redirect`, { redirect: "manual" });
    expect([manual.status, manual.headers.get("location")]).toEqual([302, "/echo"]);
    const followed = await client(`${base}/redirect`);
    expect(followed.status).toBe(200);
    expect(await followed.json()).toMatchObject({ method: "GET" });
  });

  it("rejects with the signal's reason when aborted before, while waiting and while reading", async () => {
    const early = new AbortController();
    early.abort();
    await expect(client(`${base}/echo`, { signal: early.signal })).rejects.toMatchObject({
      name: "AbortError",
    });
    await expect(client(`${base}/hang`, { signal: AbortSignal.timeout(100) })).rejects.toMatchObject({
      name: "TimeoutError",
    });
    const reading = new AbortController();
    const response = await client(`${base}/events`, { signal: reading.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    reading.abort();
    await expect(reader.read()).rejects.toMatchObject({ name: "AbortError" });
  });

  it("fails with TypeError fetch failed and the system's code when nothing listens", async () => {
    const failure = await client(`${closed}/echo`).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TypeError);
    expect(failure).toMatchObject({ message: "fetch failed", cause: { code: "ECONNREFUSED" } });
  });

  it("refuses a GET with a body, sending nothing", async () => {
    const before = seen.sockets.size;
    await expect(client(`${base}/echo`, { body: "x" })).rejects.toThrow(/GET\/HEAD method cannot have body/);
    expect(seen.sockets.size).toBe(before);
  });

  it("refuses a header value with a line break, sending nothing", async () => {
    const before = seen.sockets.size;
    await expect(
      client(`${base}/echo`, { headers: { "x-bad": "a\r\nx-injected: 1" } }),
    ).rejects.toBeInstanceOf(TypeError);
    expect(seen.sockets.size).toBe(before);
  });
});

describe("httpFetch", () => {
  it("keeps its connection alive between requests", async () => {
    const own = createHttpFetch();
    const counted: Seen = { sockets: new Set(), closedStreams: 0 };
    const server = createServer(handler(counted));
    const url = `http://127.0.0.1:${await listen(server, counted)}/echo`;
    for (let request = 0; request < 5; request++)
      await (await own(url, { method: "POST", body: "{}" })).json();
    expect(counted.sockets.size).toBe(1);
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  it("sends an idempotent request again, once, when a kept-alive connection is reset under it", async () => {
    const own = createHttpFetch();
    const connections: Seen = { sockets: new Set(), closedStreams: 0 };
    let requests = 0;
    // The second request on each connection finds it closed (the race a server's idle timeout makes).
    const served = new WeakMap<object, number>();
    const server = createServer((request, response) => {
      requests++;
      const count = (served.get(request.socket) ?? 0) + 1;
      served.set(request.socket, count);
      if (count === 2) {
        request.socket.destroy();
        return;
      }
      handler(connections)(request, response);
    });
    const url = `http://127.0.0.1:${await listen(server, connections)}/echo`;
    expect(await (await own(url)).json()).toMatchObject({ method: "GET" });
    expect(await (await own(url, { method: "PUT", body: "2" })).json()).toMatchObject({ body: "2" });
    expect([requests, connections.sockets.size]).toEqual([3, 2]);

    // A POST on a reused connection is not sent again: the server may have acted on it.
    requests = 0;
    await expect(own(url, { method: "POST", body: "3" })).rejects.toMatchObject({
      message: "fetch failed",
      cause: { code: "ECONNRESET" },
    });
    expect(requests).toBe(1);

    // A reset on a new connection is an answer: not sent again, whatever the method.
    const refusing = createServer((request) => {
      requests++;
      request.socket.destroy();
    });
    const refusingUrl = `http://127.0.0.1:${await listen(refusing, connections)}/echo`;
    requests = 0;
    await expect(own(refusingUrl)).rejects.toMatchObject({
      message: "fetch failed",
      cause: { code: "ECONNRESET" },
    });
    expect(requests).toBe(1);
    for (const closing of [server, refusing]) {
      closing.closeAllConnections();
      await new Promise((done) => closing.close(done));
    }
  });

  it("hands what it does not serve itself to the fallback, and nothing else", async () => {
    const handed: string[] = [];
    const own = createHttpFetch({
      fallback: (input, init) => {
        handed.push(input instanceof Request ? `request ${input.url}` : String(input));
        return fetch(input, init);
      },
    });
    await (await own(`${base}/echo`, { method: "POST", body: "{}" })).json();
    await (await own(new URL(`${base}/gzip`))).json();
    await (await own(`${base}/redirect`, { redirect: "manual" })).text();
    expect(handed).toEqual([]);
    await (await own(new Request(`${base}/echo`))).json();
    await (await own(`${base}/echo`, { method: "POST", body: new Blob(["blob"]) })).json();
    await (await own(`${base}/redirect`)).json();
    // A URL with credentials: the global fetch refuses it, as it should.
    const withCredentials = base.replace("http://", "http://user:secret@");
    await expect(own(`${withCredentials}/echo`)).rejects.toBeInstanceOf(TypeError);
    expect(handed).toEqual([
      `request ${base}/echo`,
      `${base}/echo`,
      `${base}/redirect`,
      `${withCredentials}/echo`,
    ]);
  });

  it("hands requests to the fallback while NODE_USE_ENV_PROXY is set, read per request", async () => {
    // Per request, not when the fetch is made: a worker started from a startup snapshot made its
    // fetch when the snapshot was built, in another environment.
    const handed: string[] = [];
    const proxied = createHttpFetch({
      fallback: (input, init) => {
        handed.push(input instanceof Request ? input.url : input.toString());
        return fetch(input, init);
      },
    });
    process.env["NODE_USE_ENV_PROXY"] = "1";
    try {
      await (await proxied(`${base}/echo`, { method: "POST", body: "{}" })).json();
    } finally {
      delete process.env["NODE_USE_ENV_PROXY"];
    }
    expect(handed).toEqual([`${base}/echo`]);
    await (await proxied(`${base}/echo`, { method: "POST", body: "{}" })).json();
    expect(handed).toEqual([`${base}/echo`]);
  });

  it("gives up connecting after connectTimeoutMs, the TLS handshake included", async () => {
    // A TCP server that accepts and never answers the TLS handshake.
    const silent = createNetServer(() => undefined);
    const accepted: Seen = { sockets: new Set(), closedStreams: 0 };
    const port = await listen(silent as unknown as Server, accepted);
    const own = createHttpFetch({ connectTimeoutMs: 200 });
    await expect(own(`https://127.0.0.1:${port}/`)).rejects.toMatchObject({
      message: "fetch failed",
      cause: { code: "UND_ERR_CONNECT_TIMEOUT" },
    });
    expect(accepted.sockets.size, "the client reached the server").toBe(1);
    for (const socket of accepted.sockets) (socket as Socket).destroy();
    await new Promise((done) => silent.close(done));
  });

  it("gives up waiting for headers after headersTimeoutMs", async () => {
    const own = createHttpFetch({ headersTimeoutMs: 200 });
    await expect(own(`${base}/hang`)).rejects.toMatchObject({
      message: "fetch failed",
      cause: { code: "UND_ERR_HEADERS_TIMEOUT" },
    });
  });
});

describe("httpFetch over HTTPS", () => {
  let directory = "";
  let url = "";
  let certificate = "";
  const secureSeen: Seen = { sockets: new Set(), closedStreams: 0 };
  let server: Server | undefined;
  const defaults = getCACertificates("default");

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "http-fetch-"));
    await promisify(execFile)("openssl", [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", join(directory, "key.pem"), "-out", join(directory, "cert.pem"), "-days", "1"],
      ...["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
    ]);
    certificate = await readFile(join(directory, "cert.pem"), "utf8");
    server = createSecureServer(
      { key: await readFile(join(directory, "key.pem")), cert: certificate },
      handler(secureSeen),
    );
    url = `https://127.0.0.1:${await listen(server, secureSeen)}`;
  });

  afterAll(async () => {
    setDefaultCACertificates(defaults);
    server?.closeAllConnections();
    await new Promise((done) => server?.close(done));
    await rm(directory, { recursive: true, force: true });
  });

  it("refuses a certificate it does not trust, then talks to the server once it is trusted", async () => {
    const own = createHttpFetch();
    const refused = await own(`${url}/echo`).catch((error: unknown) => error);
    expect(refused).toMatchObject({
      message: "fetch failed",
      cause: { code: "DEPTH_ZERO_SELF_SIGNED_CERT" },
    });
    setDefaultCACertificates([...defaults, certificate]);
    const response = await own(`${url}/echo`, { method: "POST", body: "over tls" });
    expect(await response.json()).toMatchObject({ method: "POST", body: "over tls" });
  });

  it("counts the wait for headers from the connection: a slow handshake does not use it up", async () => {
    setDefaultCACertificates([...defaults, certificate]);
    // In front of the server, a relay that holds each connection 1.5 s before passing it on: the TLS
    // handshake ends after that, and the answer comes at once.
    const target = new URL(url);
    const relay = createNetServer((socket) => {
      socket.pause();
      setTimeout(() => {
        const upstream = createConnection(Number(target.port), target.hostname, () => {
          socket.pipe(upstream).pipe(socket);
          socket.resume();
        });
        upstream.on("error", () => socket.destroy());
        socket.on("error", () => upstream.destroy());
      }, 1_500);
    });
    const relayed: Seen = { sockets: new Set(), closedStreams: 0 };
    const port = await listen(relay as unknown as Server, relayed);
    const own = createHttpFetch({ connectTimeoutMs: 10_000, headersTimeoutMs: 750 });
    const response = await own(`https://127.0.0.1:${port}/echo`, { method: "POST", body: "late" });
    expect(await response.json()).toMatchObject({ body: "late" });
    for (const socket of relayed.sockets) (socket as Socket).destroy();
    await new Promise((done) => relay.close(done));
  });
});
