/**
 * A Server-Sent Events response from an async iterable of messages: each message is read from the
 * source when the socket has taken the previous one (backpressure reaches the source), a comment
 * keeps idle connections open through proxies, and the source is stopped (its
 * `finally` runs) when the caller goes away or the gateway closes. An error while streaming is sent
 * as an `error` event with the `{code, message}` body, then the stream ends.
 *
 * @module
 */
import { toResponseError } from "./error-status.ts";

/** One SSE message. */
export interface ServerSentEvent {
  /** The `id:` field: what the caller sends back as `Last-Event-ID` to resume. */
  readonly id?: string;
  /** The `event:` field; absent means `message`. */
  readonly event?: string;
  /** Serialized as JSON on one `data:` line. */
  readonly data: unknown;
}

/** Options of {@link serverSentEvents}. */
export interface ServerSentEventsOptions {
  /** Stop when any of these abort (the request's signal, the gateway's closing signal). */
  readonly signals: readonly AbortSignal[];
  /** Milliseconds between keep-alive comments. */
  readonly keepAliveMs: number;
  /** Where errors met while streaming are reported. */
  readonly log: (message: string) => void;
}

function frame(message: ServerSentEvent): string {
  let text = "";
  if (message.id !== undefined) text += `id: ${message.id}\n`;
  if (message.event !== undefined) text += `event: ${message.event}\n`;
  return `${text}data: ${JSON.stringify(message.data)}\n\n`;
}

/**
 * Streams `source` as `text/event-stream`. `source` gets a signal that aborts when the stream
 * should stop.
 *
 * @example
 * ```ts
 * return serverSentEvents(async function* (signal) {
 *   for await (const { id, event } of store.followEvents(namespace, runId, { signal })) yield { id, data: event };
 * }, { signals: [request.signal], keepAliveMs: 15_000, log: console.error });
 * ```
 */
export function serverSentEvents(
  source: (signal: AbortSignal) => AsyncIterable<ServerSentEvent>,
  options: ServerSentEventsOptions,
): Response {
  const stop = new AbortController();
  const signal = AbortSignal.any([stop.signal, ...options.signals]);
  const encoder = new TextEncoder();
  let keepAlive: NodeJS.Timeout | undefined;
  let iterator: AsyncIterator<ServerSentEvent> | undefined;
  let finished = false;

  const finish = (controller: ReadableStreamDefaultController<Uint8Array>): void => {
    if (finished) return;
    finished = true;
    clearInterval(keepAlive);
    stop.abort();
    try {
      controller.close();
    } catch {
      // The caller cancelled the stream in the meantime.
    }
  };

  // Pulled, not pushed: the next message is read from the source only when the socket took the
  // last one, so a caller that stops reading leaves its events with the source (which bounds
  // them), never in this stream's queue.
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        iterator = source(signal)[Symbol.asyncIterator]();
        keepAlive = setInterval(() => {
          if (!finished && !signal.aborted && (controller.desiredSize ?? 0) > 0)
            controller.enqueue(encoder.encode(": keep-alive\n\n"));
        }, options.keepAliveMs);
        keepAlive.unref();
        signal.addEventListener(
          "abort",
          () => {
            clearInterval(keepAlive);
          },
          { once: true },
        );
      },
      async pull(controller) {
        if (iterator === undefined || finished) return;
        try {
          const next = await iterator.next();
          if (next.done === true || signal.aborted) {
            finish(controller);
            return;
          }
          controller.enqueue(encoder.encode(frame(next.value)));
        } catch (error) {
          if (!signal.aborted) {
            const freeholdError = toResponseError(error);
            if (!freeholdError.retryable || freeholdError.code === "gateway.internal")
              options.log(`event stream failed: ${freeholdError.code}: ${String(error)}`);
            controller.enqueue(encoder.encode(frame({ event: "error", data: freeholdError.toJSON() })));
          }
          finish(controller);
        }
      },
      async cancel() {
        finished = true;
        clearInterval(keepAlive);
        stop.abort();
        await iterator?.return?.();
      },
    },
    { highWaterMark: 1 },
  );
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    },
  });
}
