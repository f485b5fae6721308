/**
 * A local HTTP server that replays recorded provider responses (files under `test/fixtures/`), so the
 * provider tests exercise the real HTTP client, SSE parsing and error mapping without a live API.
 * Streamed bodies are written in small pieces, so events split across reads are exercised too.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { once } from "node:events";

/** A request the server received. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query: `/v1/chat/completions`. */
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: Record<string, unknown>;
}

/** What to answer: a fixture file or a body, a status, headers; or never answer at all. */
export type FixtureResponse =
  | { readonly status?: number; readonly headers?: Record<string, string>; readonly fixture: string }
  | { readonly status?: number; readonly headers?: Record<string, string>; readonly body: string }
  | "hang";

/** A running fixture server. */
export interface FixtureServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The text of `test/fixtures/<name>`. */
export function readFixture(name: string): string {
  return readFileSync(new URL(`fixtures/${name}`, import.meta.url), "utf8");
}

/** A free loopback port nothing listens on (to test refused connections). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts a server answering each request with `respond(request)`.
 *
 * @example
 * ```ts
 * await using server = await startFixtureServer(() => ({ fixture: "openai/chat-completion-text.json" }));
 * ```
 */
export async function startFixtureServer(
  respond: (request: RecordedRequest, index: number) => FixtureResponse,
): Promise<FixtureServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const recorded: RecordedRequest = {
        method: request.method ?? "GET",
        path: request.url ?? "/",
        headers: request.headers,
        body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>),
      };
      requests.push(recorded);
      const answer = respond(recorded, requests.length - 1);
      if (answer === "hang") return;
      const name = "fixture" in answer ? answer.fixture : undefined;
      const body = name === undefined ? ("body" in answer ? answer.body : "") : readFixture(name);
      const streamed = name?.endsWith(".sse") === true;
      response.writeHead(answer.status ?? 200, {
        "content-type": streamed ? "text/event-stream" : "application/json",
        ...answer.headers,
      });
      if (!streamed) {
        response.end(body);
        return;
      }
      const bytes = Buffer.from(body, "utf8");
      let offset = 0;
      const writePiece = (): void => {
        if (offset >= bytes.length) {
          response.end();
          return;
        }
        response.write(bytes.subarray(offset, offset + 97));
        offset += 97;
        setImmediate(writePiece);
      };
      writePiece();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const close = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return { url: `http://127.0.0.1:${port}`, requests, close, [Symbol.asyncDispose]: close };
}
