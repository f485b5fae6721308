/**
 * Runs: the namespace's runs, newest first, filtered by agent, status, who started them and since
 * when; a run's timeline, live:
 * each model call (model, tokens, time), each tool call (arguments, result, time), approvals,
 * transfers, child runs (linked), people's actions, and the totals; cancel a run in flight.
 *
 * @module
 */
import { isTerminal, runStatuses, type RunEvent, type RunStatus, type StoredRunEvent } from "@freehold/api";
import type { FreeholdClient, ListRunsOptions } from "@freehold/sdk/client";
import { useEffect, useState, type ReactNode } from "react";
import { describeError, useLoad } from "../use-load.ts";
import { Loaded, Problem, Time, useAction, shortId } from "./common.tsx";

type RunList = Awaited<ReturnType<FreeholdClient["listRuns"]>>;

/** How far back the list goes, in milliseconds (absent: all the way). */
const periods = { any: undefined, hour: 3_600_000, day: 86_400_000, week: 604_800_000 } as const;
type Period = keyof typeof periods;
type RunDetails = Awaited<ReturnType<FreeholdClient["getRun"]>>;

export function RunsScreen({
  client,
  namespace,
}: {
  readonly client: FreeholdClient;
  readonly namespace: string;
}) {
  const [agent, setAgent] = useState("");
  const [status, setStatus] = useState<RunStatus | "">("");
  const [starter, setStarter] = useState("");
  const [period, setPeriod] = useState<Period>("any");
  const [pages, setPages] = useState<RunList["items"][]>([]);
  const [first, reload] = useLoad(
    () =>
      client.listRuns(namespace, {
        limit: 50,
        ...filters(),
      }),
    `${namespace}/${agent.trim()}/${status}/${starter.trim()}/${period}`,
  );
  const [next, setNext] = useState<string>();
  /** The filters as the client takes them; the period counts back from now. */
  function filters(): ListRunsOptions {
    const since = periods[period];
    return {
      ...(agent.trim() === "" ? {} : { agent: agent.trim() }),
      ...(status === "" ? {} : { status }),
      ...(starter.trim() === "" ? {} : { startedBy: starter.trim() }),
      ...(since === undefined ? {} : { since: new Date(Date.now() - since) }),
    };
  }
  const [problem, setProblem] = useState<string>();
  useEffect(() => {
    setPages([]);
    setNext(first.state === "ready" ? first.value.nextCursor : undefined);
  }, [first]);
  const more = async (): Promise<void> => {
    if (next === undefined) return;
    try {
      const page = await client.listRuns(namespace, {
        limit: 50,
        cursor: next,
        ...filters(),
      });
      setPages((earlier) => [...earlier, page.items]);
      setNext(page.nextCursor);
    } catch (error) {
      setProblem(describeError(error).message);
    }
  };
  return (
    <section aria-labelledby="runs-title">
      <h1 id="runs-title">Runs in {namespace}</h1>
      <div className="filters">
        <label>
          Agent
          <input
            value={agent}
            spellCheck={false}
            onChange={(event) => {
              setAgent(event.target.value);
            }}
          />
        </label>
        <label>
          Status
          <select
            value={status}
            onChange={(event) => {
              setStatus(event.target.value as RunStatus | "");
            }}
          >
            <option value="">any</option>
            {runStatuses.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </label>
        <label>
          Started by
          <input
            value={starter}
            spellCheck={false}
            onChange={(event) => {
              setStarter(event.target.value);
            }}
          />
        </label>
        <label>
          Started
          <select
            value={period}
            onChange={(event) => {
              setPeriod(event.target.value as Period);
            }}
          >
            <option value="any">any time</option>
            <option value="hour">in the last hour</option>
            <option value="day">in the last day</option>
            <option value="week">in the last week</option>
          </select>
        </label>
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </div>
      <Loaded
        load={first}
        empty={(page) =>
          page.items.length === 0 && page.nextCursor === undefined ? "No runs match." : undefined
        }
      >
        {(page) => (
          <table aria-label="Runs">
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Agent</th>
                <th scope="col">Status</th>
                <th scope="col">Steps</th>
                <th scope="col">Tokens in / out</th>
                <th scope="col">Started by</th>
                <th scope="col">Started</th>
              </tr>
            </thead>
            <tbody>
              {[page.items, ...pages].flat().map((run) => (
                <tr key={run.id}>
                  <td>
                    <a href={`#/runs/${encodeURIComponent(run.id)}`}>
                      <code>{shortId(run.id)}</code>
                    </a>
                    {run.parent === undefined ? null : <span className="meta"> (child)</span>}
                  </td>
                  <td>{run.agent}</td>
                  <td>
                    <StatusBadge status={run.status} />
                  </td>
                  <td>{run.steps}</td>
                  <td>
                    {run.usage.inputTokens} / {run.usage.outputTokens}
                  </td>
                  <td>{run.startedBy ?? ""}</td>
                  <td>
                    <Time iso={run.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loaded>
      {next === undefined ? null : (
        <button type="button" onClick={() => void more()}>
          More runs
        </button>
      )}
      <Problem text={problem} />
    </section>
  );
}

function StatusBadge({ status }: { readonly status: RunStatus }) {
  return <span className={`status status-${status}`}>{status.replaceAll("_", " ")}</span>;
}

/** The run, then its events as they happen (history first, then followed from the last one). */
function useRun(client: FreeholdClient, namespace: string, runId: string) {
  const [run, reload] = useLoad(() => client.getRun(namespace, runId), `${namespace}/${runId}`);
  const [live, setLive] = useState<StoredRunEvent[]>([]);
  const [streamProblem, setStreamProblem] = useState<string>();
  const ready = run.state === "ready" ? run.value : undefined;
  const after = ready?.history.at(-1)?.id;
  const finished = ready === undefined || isTerminal(ready.status);
  useEffect(() => {
    setLive([]);
    if (finished) return;
    const stop = new AbortController();
    void (async () => {
      try {
        for await (const event of client.follow(namespace, runId, {
          signal: stop.signal,
          ...(after === undefined ? {} : { after }),
        })) {
          setLive((earlier) => [...earlier, event]);
          if (event.event.type === "run-end") reload();
        }
      } catch (error) {
        if (!stop.signal.aborted) setStreamProblem(describeError(error).message);
      }
    })();
    return () => {
      stop.abort();
    };
  }, [client, namespace, runId, after, finished, reload]);
  return { run, live, streamProblem, reload };
}

export function RunScreen({
  client,
  namespace,
  runId,
}: {
  readonly client: FreeholdClient;
  readonly namespace: string;
  readonly runId: string;
}) {
  const { run, live, streamProblem, reload } = useRun(client, namespace, runId);
  const { problem, run: act } = useAction(reload);
  const cancel = async (): Promise<void> => {
    await act(() => client.cancelRun(namespace, runId));
  };
  return (
    <section aria-labelledby="run-title">
      <p>
        <a href="#/runs">← Runs</a>
      </p>
      <Loaded load={run}>
        {(details: RunDetails) => {
          const events = [
            ...details.history,
            ...live.filter((event) => !details.history.some((known) => known.id === event.id)),
          ];
          return (
            <>
              <h1 id="run-title">
                Run <code>{shortId(details.id)}</code> of {details.agent}{" "}
                <StatusBadge status={details.status} />
              </h1>
              <dl className="totals">
                <div>
                  <dt>Steps</dt>
                  <dd>{details.steps}</dd>
                </div>
                <div>
                  <dt>Tokens in / out</dt>
                  <dd>
                    {details.usage.inputTokens} / {details.usage.outputTokens}
                  </dd>
                </div>
                <div>
                  <dt>Working time</dt>
                  <dd>{(details.activeMs / 1000).toFixed(1)} s</dd>
                </div>
                <div>
                  <dt>Started</dt>
                  <dd>
                    <Time iso={details.createdAt} />
                  </dd>
                </div>
                {details.parent === undefined ? null : (
                  <div>
                    <dt>Parent run</dt>
                    <dd>
                      <a href={`#/runs/${encodeURIComponent(details.parent.runId)}`}>
                        <code>{shortId(details.parent.runId)}</code>
                      </a>
                    </dd>
                  </div>
                )}
              </dl>
              {isTerminal(details.status) ? null : (
                <button type="button" className="danger" onClick={() => void cancel()}>
                  Cancel run
                </button>
              )}
              <Problem text={problem} />
              {streamProblem === undefined ? null : (
                <p role="alert" className="error">
                  Live updates stopped: {streamProblem}
                </p>
              )}
              <ol className="timeline" aria-label="Timeline">
                {events.map((stored) => (
                  <TimelineEntry key={stored.id} event={stored.event} />
                ))}
              </ol>
            </>
          );
        }}
      </Loaded>
    </section>
  );
}

function TimelineEntry({ event }: { readonly event: RunEvent }) {
  const body = describeEvent(event);
  if (body === undefined) return null;
  return (
    <li className={`event event-${event.type}`}>
      <Time iso={event.time} clock />
      <span className="kind">{body.kind}</span>
      <span className="what">{body.what}</span>
    </li>
  );
}

function describeEvent(event: RunEvent): { kind: string; what: ReactNode } | undefined {
  switch (event.type) {
    case "run-start":
      return { kind: "start", what: `${event.agent} took: ${event.input}` };
    case "model-call-start":
      return undefined;
    case "model-call-end": {
      const calls = event.message.toolCalls?.map((call) => `${call.name}(${call.arguments})`).join(", ");
      return {
        kind: "model",
        what: (
          <>
            {event.model}, step {event.step}: {event.usage.inputTokens} in / {event.usage.outputTokens} out,{" "}
            {Math.round(event.durationMs)} ms. {event.message.content}
            {calls === undefined ? null : <code> {calls}</code>}
          </>
        ),
      };
    }
    case "tool-call-start":
      return {
        kind: "tool call",
        what: (
          <code>
            {event.server === undefined ? "" : `${event.server}/`}
            {event.toolCall.name}({event.toolCall.arguments})
          </code>
        ),
      };
    case "tool-call-end":
      return {
        kind: event.isError ? "tool error" : "tool result",
        what: `${event.name}, ${Math.round(event.durationMs)} ms: ${event.content}`,
      };
    case "tool-call-interrupted":
      return { kind: "interrupted", what: `${event.name}: ${event.policy}` };
    case "agent-transfer":
      return {
        kind: "transfer",
        what: `${event.from} → ${event.to}${event.note === "" ? "" : `: ${event.note}`}`,
      };
    case "delegation-start":
      return {
        kind: "delegation",
        what: (
          <>
            to {event.agent}: child run{" "}
            <a href={`#/runs/${encodeURIComponent(event.childRunId)}`}>
              <code>{shortId(event.childRunId)}</code>
            </a>
          </>
        ),
      };
    case "delegation-end":
      return { kind: "delegation", what: `child run ${shortId(event.childRunId)} ${event.status}` };
    case "human-handoff":
      return {
        kind: "to people",
        what: `${event.queue} (${event.priority}): ${event.summary} — ${event.reason}`,
      };
    case "human-action":
      return {
        kind: "person",
        what: `${event.actor} ${event.action}${event.toQueue === undefined ? "" : ` to ${event.toQueue}`}${event.message === undefined ? "" : `: ${event.message}`}`,
      };
    case "approval-request":
      return {
        kind: "approval",
        what: `asked for ${event.server}/${event.tool}(${event.toolCall.arguments})`,
      };
    case "approval-decision":
      return {
        kind: "approval",
        what: `${event.actor} ${event.approved ? "approved" : "rejected"}${event.reason === undefined ? "" : `: ${event.reason}`}`,
      };
    case "run-end":
      return {
        kind: "end",
        what: `${event.status}${event.output === undefined ? "" : `: ${event.output}`}${event.error === undefined ? "" : ` (${event.error.message})`}`,
      };
  }
}
