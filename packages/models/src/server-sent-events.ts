/**
 * Reading a Server-Sent Events body (`text/event-stream`) with eventsource-parser: the streaming
 * wire format of OpenAI, Anthropic and Gemini alike.
 *
 * @module
 */
import type { EventSourceMessage } from "eventsource-parser";
import { EventSourceParserStream } from "eventsource-parser/stream";

export type { EventSourceMessage };

/**
 * The events of an SSE body, in order. Stopping the iteration early cancels the body, which closes
 * the connection.
 *
 * @example
 * ```ts
 * for await (const event of readServerSentEvents(response.body)) console.log(event.event, event.data);
 * ```
 */
export async function* readServerSentEvents(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<EventSourceMessage, void, undefined> {
  const events = body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
  for await (const event of events) yield event;
}
