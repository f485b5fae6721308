/**
 * LangChain sends traces to LangSmith when the environment asks for it (`LANGSMITH_TRACING`,
 * `LANGCHAIN_TRACING_V2`): its callback manager adds a LangSmith tracer to every run that has none.
 * A run's model and tool calls are traced by Freehold (OpenTelemetry spans, run events), and nothing
 * of a run leaves the worker through LangChain's callbacks: the graph runs with a tracer of its own,
 * which takes that tracer's place, samples no trace, and whose client has no way to the network.
 *
 * @module
 */
import { LangChainTracer } from "@langchain/core/tracers/tracer_langchain";
import { Client } from "langsmith";

/** The client's fetch: never reaches the network (the client samples nothing, so it is not called). */
function refuse(): Promise<Response> {
  return Promise.reject(new Error("LangSmith tracing is off in Freehold's LangGraph driver"));
}

/**
 * A tracer for a graph's callbacks that keeps LangChain's traces in the worker, whatever the
 * environment says.
 *
 * @example
 * ```ts
 * await graph.invoke({ messages }, { callbacks: [localTracer()] });
 * ```
 */
export function localTracer(): LangChainTracer {
  return new LangChainTracer({
    client: new Client({ tracingSamplingRate: 0, autoBatchTracing: false, fetchImplementation: refuse }),
  });
}

/**
 * Whether the environment asks LangChain to trace to LangSmith; only then does a graph need
 * {@link localTracer} in the LangSmith tracer's place (a tracer builds a record of every node it sees,
 * which costs time on every step).
 */
export function langSmithRequested(
  environment: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  return ["LANGSMITH_TRACING", "LANGSMITH_TRACING_V2", "LANGCHAIN_TRACING_V2", "LANGCHAIN_TRACING"].some(
    (name) => environment[name]?.toLowerCase() === "true",
  );
}
