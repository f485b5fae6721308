/**
 * A scripted OpenAI-compatible model server: a real HTTP endpoint (`POST /v1/chat/completions`,
 * streamed or not, and `GET /v1/models`) that answers from a {@link ModelScript}. Tests, examples and
 * benchmarks point any framework at it for deterministic runs.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { asRecord } from "../json-value.ts";
import { parseModelScript, type ModelScript, type ModelScriptInput } from "./model-script.ts";
import { completionBody, completionChunks, errorResponse, scriptedAnswer } from "./scripted-completion.ts";
import { selectScriptTurn, type ErrorTurnCounts } from "./select-script-turn.ts";

/** Options of {@link startScriptedModelServer}. */
export interface ScriptedModelServerOptions {
  /** The script: parsed already, or as written (validated here). */
  readonly script: ModelScript | ModelScriptInput;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
}

/** A chat completions request as the server received it. */
export interface ScriptedModelRequest {
  readonly model?: string;
  readonly messages: readonly Record<string, unknown>[];
  readonly stream?: boolean;
  readonly tools?: readonly unknown[];
  readonly [field: string]: unknown;
}

/** A running scripted model server. */
export interface ScriptedModelServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `http://127.0.0.1:<port>/v1`: the `baseUrl` of an openai-compatible Model. */
  readonly baseUrl: string;
  /** The bodies of the chat completion requests received so far, in order. */
  readonly requests: readonly ScriptedModelRequest[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(typeof body === "string" ? body : JSON.stringify(body));
}

function openAiError(message: string, type: string, code: string | null = null): Record<string, unknown> {
  return { error: { message, type, param: null, code } };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Starts a scripted model server.
 *
 * @throws FreeholdError `model-script.invalid` for a bad script.
 * @example
 * ```ts
 * await using server = await startScriptedModelServer({ script: loadModelScript(yamlText) });
 * const model = createLanguageModel(ModelSpec.parse({ provider: "openai-compatible", model: "scripted",
 *   baseUrl: server.baseUrl }));
 * ```
 */
export async function startScriptedModelServer(
  options: ScriptedModelServerOptions,
): Promise<ScriptedModelServer> {
  const script = parseModelScript(options.script);
  const requests: ScriptedModelRequest[] = [];
  const errorCounts: ErrorTurnCounts = new Map();
  const created = Math.floor(Date.now() / 1000);

  async function chatCompletion(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let body: unknown;
    try {
      body = JSON.parse(await readBody(request)) as unknown;
    } catch {
      send(response, 400, openAiError("The request body is not valid JSON.", "invalid_request_error"));
      return;
    }
    const fields = asRecord(body);
    if (fields === undefined || !Array.isArray(fields.messages)) {
      send(response, 400, openAiError("'messages' is a required property.", "invalid_request_error"));
      return;
    }
    const received = fields as ScriptedModelRequest;
    requests.push(received);
    const choice = selectScriptTurn(script, received.messages, errorCounts);
    if (choice.kind === "exhausted") {
      const message =
        `The model script has no turn for this request: it is answer ${choice.step + 1} of the conversation, ` +
        `and the script's ${script.turns.length} turns are used up (or none matches). ` +
        "Add turns, a turn without match, or loop: true.";
      send(response, 400, openAiError(message, "invalid_request_error", "script_exhausted"));
      return;
    }
    if (choice.turn.delayMs !== undefined) {
      const closed = new AbortController();
      response.once("close", () => {
        closed.abort();
      });
      try {
        await sleep(choice.turn.delayMs, undefined, { signal: closed.signal });
      } catch {
        return;
      }
    }
    if (choice.kind === "error") {
      const { status, headers, body: errorBody } = errorResponse(choice.error);
      send(response, status, errorBody, headers);
      return;
    }
    const answer = scriptedAnswer(choice.turn, choice.step, received.messages);
    const model = typeof received.model === "string" && received.model !== "" ? received.model : script.model;
    const identity = {
      id: `chatcmpl-${randomUUID().replaceAll("-", "")}`,
      model,
      created: Math.floor(Date.now() / 1000),
    };
    if (received.stream !== true) {
      send(response, 200, completionBody(answer, identity));
      return;
    }
    const includeUsage = asRecord(received.stream_options)?.include_usage === true;
    response.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    for (const chunk of completionChunks(answer, identity, includeUsage)) {
      response.write(`data: ${JSON.stringify(chunk)}\n\n`);
    }
    response.end("data: [DONE]\n\n");
  }

  function models(response: ServerResponse): void {
    send(response, 200, {
      object: "list",
      data: [{ id: script.model, object: "model", created, owned_by: "freehold" }],
    });
  }

  // Not imported as a module: that loads undici (see models' http-response.ts).
  const server = process.getBuiltinModule("node:http").createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://scripted").pathname.replace(/\/+$/, "");
    if (request.method === "POST" && path === "/v1/chat/completions") {
      chatCompletion(request, response).catch((error: unknown) => {
        if (!response.headersSent) send(response, 500, openAiError(String(error), "server_error"));
        else response.destroy();
      });
    } else if (request.method === "GET" && path === "/v1/models") {
      models(response);
    } else {
      const message = `Unknown request URL: ${request.method ?? "GET"} ${path}. Use POST /v1/chat/completions or GET /v1/models.`;
      send(response, 404, openAiError(message, "invalid_request_error", "unknown_url"));
    }
  });
  server.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  await once(server, "listening");
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= new Promise<void>((resolve, reject) => {
      server.close((error) => {
        if (error === undefined) resolve();
        else reject(error);
      });
      server.closeAllConnections();
    });
    return closing;
  }

  return { url, baseUrl: `${url}/v1`, requests, close, [Symbol.asyncDispose]: close };
}
