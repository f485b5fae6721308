/**
 * The `Response` and `Headers` that `httpFetch` answers with: the fetch standard's response, as it
 * is read (status, headers, a body that streams or is read whole), built without the global
 * `Response` and `Headers`. Those come from undici, Node's fetch, which Node loads on first use: it
 * holds about 3 MiB of an idle worker (`bench:worker-memory` idle: 79.2 and 78.3 MiB without it,
 * 82.0 with it). A worker whose requests all go through `httpFetch` never loads it.
 *
 * They behave as a fetch response's do: the headers are immutable (changing them throws a
 * `TypeError`), iterate sorted by name with `set-cookie` values apart, and `get` joins repeated
 * values with ", "; a body is read once (`bodyUsed`; reading it again throws a `TypeError`),
 * `clone()` tees it, `text()` decodes UTF-8 (a BOM dropped), `json()` throws the parser's
 * `SyntaxError`, `blob()` carries the content type. Only `formData()` hands the body to the global
 * `Response` (and so loads undici), and `instanceof Response` is false.
 *
 * @module
 */
import * as stream from "node:stream";

const streams = stream as typeof stream & { isDisturbed(body: ReadableStream): boolean };

/** Whether a stream was read from or cancelled: Node's `stream.isDisturbed` (documented, not typed). */
function isDisturbed(body: ReadableStream): boolean {
  return streams.isDisturbed(body);
}

function immutable(): TypeError {
  return new TypeError("Headers are immutable: they belong to a response");
}

/** A response's headers (see the module): read-only, as a fetch response's. */
export class HttpHeaders implements Headers {
  /** Lowercased name → its values, in the order received. */
  readonly #values = new Map<string, string[]>();

  /** From Node's `rawHeaders`: names and values alternating, as received (its parser refused invalid ones). */
  static fromRaw(raw: readonly string[]): HttpHeaders {
    const headers = new HttpHeaders();
    for (let index = 0; index + 1 < raw.length; index += 2) {
      const name = (raw[index] ?? "").toLowerCase();
      const value = (raw[index + 1] ?? "").trim();
      const values = headers.#values.get(name);
      if (values === undefined) headers.#values.set(name, [value]);
      else values.push(value);
    }
    return headers;
  }

  get(name: string): string | null {
    return this.#values.get(name.toLowerCase())?.join(", ") ?? null;
  }

  has(name: string): boolean {
    return this.#values.has(name.toLowerCase());
  }

  getSetCookie(): string[] {
    return [...(this.#values.get("set-cookie") ?? [])];
  }

  append(): void {
    throw immutable();
  }

  set(): void {
    throw immutable();
  }

  delete(): void {
    throw immutable();
  }

  forEach(callback: (value: string, name: string, headers: Headers) => void, thisArg?: unknown): void {
    for (const [name, value] of this) callback.call(thisArg, value, name, this);
  }

  *entries(): Generator<[string, string]> {
    for (const name of [...this.#values.keys()].sort()) {
      const values = this.#values.get(name) ?? [];
      if (name === "set-cookie") for (const value of values) yield [name, value];
      else yield [name, values.join(", ")];
    }
  }

  *keys(): Generator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): Generator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): Generator<[string, string]> {
    return this.entries();
  }
}

/** What {@link HttpResponse} is made of. */
export interface HttpResponseInit {
  readonly status: number;
  readonly statusText: string;
  readonly headers: HttpHeaders;
  /** The URL the response answers (the request's: `httpFetch` follows no redirect itself). */
  readonly url: string;
}

/** A response as fetch gives it (see the module). */
export class HttpResponse implements Response {
  #body: ReadableStream<Uint8Array<ArrayBuffer>> | null;
  readonly #init: HttpResponseInit;
  readonly type = "basic";
  readonly redirected = false;

  constructor(body: ReadableStream<Uint8Array<ArrayBuffer>> | null, init: HttpResponseInit) {
    this.#body = body;
    this.#init = init;
  }

  get status(): number {
    return this.#init.status;
  }

  get statusText(): string {
    return this.#init.statusText;
  }

  get ok(): boolean {
    return this.#init.status >= 200 && this.#init.status <= 299;
  }

  get headers(): HttpHeaders {
    return this.#init.headers;
  }

  get url(): string {
    return this.#init.url;
  }

  get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    return this.#body;
  }

  get bodyUsed(): boolean {
    return this.#body !== null && isDisturbed(this.#body);
  }

  /** The whole body, read once. */
  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    const body = this.#body;
    if (body === null) return new Uint8Array(0);
    if (this.bodyUsed || body.locked) throw new TypeError("Body is unusable: Body has already been read");
    const chunks: Uint8Array[] = [];
    let length = 0;
    for await (const chunk of body) {
      chunks.push(chunk);
      length += chunk.byteLength;
    }
    const bytes = new Uint8Array(length);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return bytes;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return (await this.bytes()).buffer;
  }

  async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  async blob(): Promise<Blob> {
    return new Blob([await this.bytes()], { type: this.headers.get("content-type") ?? "" });
  }

  /** The only part served by the global `Response` (loading undici): multipart and urlencoded parsing. */
  async formData(): Promise<FormData> {
    const bytes = await this.bytes();
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the standard's method (Node's types deprecate it for servers)
    return new Response(bytes, { status: this.status, headers: [...this.headers] }).formData();
  }

  clone(): HttpResponse {
    if (this.bodyUsed) throw new TypeError("Response.clone: Body has already been consumed.");
    if (this.#body === null) return new HttpResponse(null, this.#init);
    const [mine, theirs] = this.#body.tee();
    this.#body = mine;
    return new HttpResponse(theirs, this.#init);
  }
}
