/**
 * Following the gateway's Server-Sent Events with `fetch` (no EventSource: it cannot send the
 * bearer token): parses the stream, resumes after a dropped connection from the last event id
 * (`Last-Event-ID`), and ends where the stream's kind says (a run's events at its end; a queue's
 * feed only when stopped). One follower serves every stream: {@link followEvents} for a run,
 * {@link followInboxEvents} for a human queue.
 *
 * @module
 */
import {
  ErrorBody,
  FreeholdError,
  InboxEvent,
  RunEvent,
  type StoredInboxEvent,
  type StoredRunEvent,
} from "@freehold/api";
import type { z } from "zod";

/** The code of a stream the gateway dropped because its reader fell behind: resumed like a lost connection. */
const followerDroppedCode = "events.follower-dropped";

/** Options of a client's `follow` and `followInbox`. */
export interface FollowOptions {
  /** Only events after this id (an event's `id`, as a previous follow gave it). */
  readonly after?: string;
  /** Stops following (the iteration ends, without an error). */
  readonly signal?: AbortSignal;
  /**
   * How many times in a row a lost connection is opened again, each after a pause doubling from
   * 250 ms to 5 s; an event received resets the count. Default: 10.
   */
  readonly maxReconnects?: number;
}

/** How a client reaches one event stream. */
export interface EventSource {
  readonly fetch: typeof fetch;
  /** The stream's URL, after an event id or from the start. */
  url(after: string | undefined): string;
  headers(): Record<string, string>;
  /** Names the stream in messages (`run acme/r1`). */
  readonly where: string;
}

/** What one kind of stream carries: the schema of its events, and the event that ends it. */
interface StreamKind<Event> {
  readonly schema: z.ZodType<Event>;
  /** The schema's name, for messages. */
  readonly name: string;
  /** Whether the stream ends after `event`; absent: it ends only when stopped. */
  readonly isLast?: (event: Event) => boolean;
}

/** The most one SSE message may hold: a bound on what a misbehaving server makes the client buffer. */
const maxMessageLength = 16 * 1024 * 1024;

/** One message of an event stream. */
interface Message {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

/** Splits a text/event-stream body into messages (comments and unknown fields skipped). */
async function* messages(body: ReadableStream<Uint8Array>): AsyncGenerator<Message> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let id: string | undefined;
  let event = "";
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      if (buffer.length > maxMessageLength) {
        throw new FreeholdError(
          "client.bad-stream",
          `an event of the stream is over ${maxMessageLength} bytes; the URL may not be a Freehold gateway`,
        );
      }
      let newline: number;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(
          buffer[newline] === "\r" && buffer[newline + 1] === "\n" ? newline + 2 : newline + 1,
        );
        if (line === "") {
          if (data.length > 0) yield { id, event: event === "" ? "message" : event, data: data.join("\n") };
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "id") id = text;
        else if (field === "event") event = text;
        else if (field === "data") data.push(text);
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

const pause = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/**
 * The events of a run until its end, reconnecting with the last id after a lost connection.
 *
 * @throws FreeholdError the gateway's error (`run.not-found`, `auth.*`), `client.stream-lost` after
 *   `maxReconnects` failed attempts in a row.
 */
export function followEvents(source: EventSource, options: FollowOptions): AsyncGenerator<StoredRunEvent> {
  return followStream(source, options, {
    schema: RunEvent,
    name: "RunEvent",
    isLast: (event) => event.type === "run-end",
  });
}

/**
 * The changes to a human queue's items until `signal` aborts, reconnecting with the last id after a
 * lost connection.
 *
 * @throws FreeholdError the gateway's error (`auth.*`, `request.invalid` for a bad `after`),
 *   `client.stream-lost` after `maxReconnects` failed attempts in a row.
 */
export function followInboxEvents(
  source: EventSource,
  options: FollowOptions,
): AsyncGenerator<StoredInboxEvent> {
  return followStream(source, options, { schema: InboxEvent, name: "InboxEvent" });
}

/** The events of one stream, from `options.after`, reconnecting after a lost connection. */
async function* followStream<Event>(
  source: EventSource,
  options: FollowOptions,
  kind: StreamKind<Event>,
): AsyncGenerator<{ id: string; event: Event }> {
  const maxReconnects = options.maxReconnects ?? 10;
  const stopped = (): boolean => options.signal?.aborted === true;
  let after = options.after;
  let failures = 0;
  let lastProblem = "";
  for (;;) {
    if (stopped()) return;
    let response: Response | undefined;
    try {
      response = await source.fetch(source.url(after), {
        headers: {
          accept: "text/event-stream",
          ...source.headers(),
          ...(after === undefined ? {} : { "last-event-id": after }),
        },
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    } catch (error) {
      if (stopped()) return;
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    if (response !== undefined && !response.ok) {
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const body = ErrorBody.safeParse(parsed);
      // The gateway's refusal (not found, not allowed): no reconnect helps.
      if (response.status < 500 && body.success) throw FreeholdError.fromJSON(body.data);
      lastProblem = `${response.status} ${text.slice(0, 200)}`;
    } else if (response?.body !== null && response?.body !== undefined) {
      let ended = "the stream ended before it was done";
      try {
        for await (const message of messages(response.body)) {
          if (message.event === "error") {
            const body = ErrorBody.safeParse(JSON.parse(message.data));
            // Dropped for falling behind: following again after the last event loses nothing.
            if (body.success && body.data.code === followerDroppedCode) {
              ended = body.data.message;
              break;
            }
            if (body.success) throw FreeholdError.fromJSON(body.data, { retryable: true });
            throw new FreeholdError("client.bad-stream", `${source.where}: an error event without a body`);
          }
          if (message.id === undefined) continue;
          const event = kind.schema.safeParse(JSON.parse(message.data));
          if (!event.success) {
            throw new FreeholdError(
              "client.bad-stream",
              `${source.where}: event ${message.id} does not match ${kind.name}: ${event.error.message}`,
            );
          }
          after = message.id;
          failures = 0;
          yield { id: message.id, event: event.data };
          if (kind.isLast?.(event.data) === true) return;
        }
        lastProblem = ended;
      } catch (error) {
        if (stopped()) return;
        if (error instanceof FreeholdError) throw error;
        lastProblem = error instanceof Error ? error.message : String(error);
      }
    }
    failures += 1;
    if (failures > maxReconnects) {
      throw new FreeholdError(
        "client.stream-lost",
        `lost the event stream of ${source.where} ${maxReconnects + 1} times in a row (${lastProblem}); ` +
          "check that the gateway is running, then follow again from the last event id",
        { retryable: true, details: { after: after ?? null } },
      );
    }
    await pause(Math.min(5000, 250 * 2 ** (failures - 1)), options.signal);
  }
}
