/**
 * A cap on the event streams (SSE) one caller holds open at once. A response that turns out to
 * be an event stream counts against its caller until its body ends; past the cap it is cancelled
 * at once (its follower detaches) and the caller gets 429 `events.too-many-streams`.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import type { Context, MiddlewareHandler } from "hono";
import { errorResponse } from "../error-status.ts";

/** The code of a stream past its caller's cap (429). */
export const tooManyStreamsCode = "events.too-many-streams";

/** Options of {@link streamLimit}. */
export interface StreamLimitOptions {
  /** Event streams one caller may hold open (default 50). */
  readonly maxStreamsPerCaller?: number;
  /** Who a request counts against. */
  readonly key: (context: Context) => string;
}

/**
 * Counts open event streams per caller and refuses those past the cap.
 *
 * @example
 * ```ts
 * app.use(streamLimit({ maxStreamsPerCaller: 50, key: identityKey }));
 * ```
 */
export function streamLimit(options: StreamLimitOptions): MiddlewareHandler {
  const cap = options.maxStreamsPerCaller ?? 50;
  const open = new Map<string, number>();
  const release = (key: string): void => {
    const count = (open.get(key) ?? 1) - 1;
    if (count <= 0) open.delete(key);
    else open.set(key, count);
  };
  return async (context, next) => {
    await next();
    const response = context.res;
    const body = response.body;
    if (body === null || !(response.headers.get("content-type") ?? "").startsWith("text/event-stream"))
      return undefined;
    const key = options.key(context);
    const count = open.get(key) ?? 0;
    if (count >= cap) {
      await body.cancel().catch(() => undefined);
      context.res = errorResponse(
        new FreeholdError(
          tooManyStreamsCode,
          `this caller has ${count} event streams open, the most the gateway allows: close one ` +
            "before opening another",
          { retryable: true, details: { maxStreams: cap, retryAfterSeconds: 1 } },
        ),
      );
      return undefined;
    }
    open.set(key, count + 1);
    let released = false;
    const once = (): void => {
      if (!released) {
        released = true;
        release(key);
      }
    };
    const reader: ReadableStreamDefaultReader<Uint8Array> = body.getReader();
    const counted = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          try {
            const next = await reader.read();
            if (next.done) {
              once();
              controller.close();
            } else controller.enqueue(next.value);
          } catch (error) {
            once();
            controller.error(error);
          }
        },
        async cancel(reason) {
          once();
          await reader.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
    context.res = new Response(counted, { status: response.status, headers: response.headers });
    return undefined;
  };
}
