/**
 * OpenTelemetry spans with the GenAI semantic conventions: `invoke_agent {agent}` for a run's work on
 * a worker, `chat {model}` for each model call, `execute_tool {tool}` for each tool call. The run's
 * root span context is stored in the run (W3C traceparent), so work resumed on another worker joins
 * the same trace. Without a registered OpenTelemetry SDK these are no-ops.
 *
 * @module
 */
import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type Tracer,
} from "@opentelemetry/api";

/** The runtime's tracer. */
export function runtimeTracer(): Tracer {
  return trace.getTracer("@freehold/runtime");
}

/** `00-<trace id>-<span id>-<flags>` of a span. */
export function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, "0")}`;
}

/** The context to start a run's spans in: the stored traceparent's, or the active one. */
export function contextFromTraceparent(traceparent: string | undefined): Context {
  const match =
    traceparent === undefined ? null : /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(traceparent);
  if (match === null) return context.active();
  const [, traceId = "", spanId = "", flags = "00"] = match;
  return trace.setSpanContext(context.active(), {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16),
    isRemote: true,
  });
}

/** Runs `work` in a span, recording an exception and error status when it throws. */
export async function inSpan<T>(
  tracer: Tracer,
  name: string,
  parent: Context,
  attributes: Record<string, string | number | boolean>,
  work: (span: Span, spanContext: Context) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  const span = tracer.startSpan(name, { kind, attributes }, parent);
  const spanContext = trace.setSpan(parent, span);
  try {
    return await context.with(spanContext, () => work(span, spanContext));
  } catch (error) {
    span.recordException(error instanceof Error ? error : new Error(String(error)));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    const code = (error as { code?: unknown }).code;
    span.setAttribute("error.type", typeof code === "string" ? code : "_OTHER");
    throw error;
  } finally {
    span.end();
  }
}

export { SpanKind };
