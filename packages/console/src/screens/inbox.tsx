/**
 * Inbox: the waiting and claimed items of a human queue, by priority then age, kept current as they
 * change (the gateway's feed of the queue); open one to read the
 * whole conversation, the agent's summary and reason; claim it, answer the user (ending the run or
 * letting the agent go on), hand it back to an agent with a note, or release it. Who holds a claim,
 * and until when, is shown; a claim someone else took first is said plainly.
 *
 * @module
 */
import type { FreeholdClient } from "@freehold/sdk/client";
import { useEffect, useState } from "react";
import { savedQueue, saveQueue } from "../session.ts";
import { describeError, useLoad } from "../use-load.ts";
import { useShortcuts } from "../use-shortcuts.ts";
import { useLiveQueue } from "./use-live-queue.ts";
import { age, duration, Loaded, Problem, Time, useAction, shortId } from "./common.tsx";

type Item = Awaited<ReturnType<FreeholdClient["listInbox"]>>[number];

type ItemPage = Awaited<ReturnType<FreeholdClient["listInboxPage"]>>;

/** Items read at a time. */
const pageSize = 100;

export function InboxScreen({
  client,
  namespace,
}: {
  readonly client: FreeholdClient;
  readonly namespace: string;
}) {
  const [queues, reloadQueues] = useLoad(() => client.listHumanQueues(namespace), namespace);
  const [chosen, setChosen] = useState(savedQueue);
  const worked = queues.state === "ready" ? queues.value : [];
  // The queue last worked, if it is still one of this person's; else their first.
  const queue = worked.some((entry) => entry.name === chosen) ? chosen : (worked[0]?.name ?? "");
  const [openId, setOpenId] = useState<string>();
  // The first page of the queue; more on demand (a queue can hold thousands).
  const [items, reloadItems] = useLoad(
    () =>
      queue === ""
        ? Promise.resolve<ItemPage>({ items: [] })
        : client.listInboxPage(namespace, queue, { limit: pageSize }),
    `${namespace}/${queue}`,
  );
  const [further, setFurther] = useState<{ items: Item[]; next?: string | undefined }>({ items: [] });
  const [problem, setProblem] = useState<string>();
  useEffect(() => {
    setFurther({ items: [], next: items.state === "ready" ? items.value.nextCursor : undefined });
  }, [items]);
  const more = async (): Promise<void> => {
    if (further.next === undefined) return;
    try {
      const page = await client.listInboxPage(namespace, queue, { limit: pageSize, cursor: further.next });
      setFurther((earlier) => ({ items: [...earlier.items, ...page.items], next: page.nextCursor }));
    } catch (error) {
      setProblem(describeError(error).message);
    }
  };
  const reload = (): void => {
    reloadQueues();
    reloadItems();
  };
  const list = items.state === "ready" ? [...items.value.items, ...further.items] : [];
  const { arrivals, live } = useLiveQueue(client, namespace, queue, reload);
  const open = list.find((item) => item.id === openId) ?? arrivals.find((item) => item.id === openId);
  useShortcuts({
    j: () => {
      setOpenId(neighbour(list, openId, 1));
    },
    k: () => {
      setOpenId(neighbour(list, openId, -1));
    },
    Escape: () => {
      setOpenId(undefined);
    },
  });
  return (
    <section aria-labelledby="inbox-title" className="inbox">
      <h1 id="inbox-title">Inbox</h1>
      <Loaded
        load={queues}
        empty={(value) =>
          value.length === 0
            ? `You work no human queue in ${namespace}: ask its owners to add you to one.`
            : undefined
        }
      >
        {(value) => (
          <nav aria-label="Your human queues" className="queues">
            {value.map((entry) => (
              <button
                key={entry.name}
                type="button"
                aria-pressed={entry.name === queue}
                onClick={() => {
                  setChosen(entry.name);
                  saveQueue(entry.name);
                  setOpenId(undefined);
                }}
              >
                {entry.name} <span className="count">{entry.waiting} waiting</span>
                {entry.oldestWaitingSince === undefined ? null : (
                  <span className="meta"> oldest {age(entry.oldestWaitingSince)}</span>
                )}
              </button>
            ))}
            <button type="button" className="secondary" onClick={reload}>
              Refresh
            </button>
          </nav>
        )}
      </Loaded>
      <p className="hint" aria-live="polite">
        {live === "live"
          ? "Live: changes show as they happen."
          : live === "lost"
            ? "Live updates stopped: use Refresh."
            : queue === ""
              ? ""
              : "Connecting for live updates…"}{" "}
        Keys: j and k move between items, c claims the open one, r releases it, Esc closes it.
      </p>
      {arrivals.length === 0 ? null : (
        <section aria-labelledby="arrivals-title" className="arrivals">
          <h2 id="arrivals-title">Just arrived</h2>
          <ul>
            {arrivals.map((item) => (
              <li key={item.id}>
                <button
                  type="button"
                  className="link"
                  onClick={() => {
                    setOpenId(item.id);
                  }}
                >
                  {item.summary}
                </button>{" "}
                <span className="meta">
                  {item.priority}, from {item.agent}
                  {item.status === "claimed" ? `, claimed by ${item.claimedBy ?? "someone"}` : ""}
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}
      <div className="split">
        {queue === "" ? null : (
          <Loaded
            load={items}
            empty={(value) => (value.items.length === 0 ? `Nothing waits in ${queue}.` : undefined)}
          >
            {() => (
              <div>
                <table aria-label={`Items of ${queue}`}>
                  <thead>
                    <tr>
                      <th scope="col">Priority</th>
                      <th scope="col">From</th>
                      <th scope="col">Summary</th>
                      <th scope="col">Waiting</th>
                      <th scope="col">SLA</th>
                      <th scope="col">Status</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((item) => (
                      <tr key={item.id} aria-selected={item.id === openId}>
                        <td>{item.priority}</td>
                        <td>{item.agent}</td>
                        <td>
                          <button
                            type="button"
                            className="link"
                            onClick={() => {
                              setOpenId(item.id);
                            }}
                          >
                            {item.summary}
                          </button>
                        </td>
                        <td>{age(item.queuedAt)}</td>
                        <td>
                          {timeLeft(
                            item,
                            worked.find((entry) => entry.name === queue),
                          )}
                        </td>
                        <td>
                          {item.status === "claimed"
                            ? `claimed by ${item.claimedBy ?? "someone"}`
                            : "waiting"}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                {further.next === undefined ? null : (
                  <button type="button" className="secondary" onClick={() => void more()}>
                    More items
                  </button>
                )}
                <Problem text={problem} />
              </div>
            )}
          </Loaded>
        )}
        {open === undefined ? null : (
          <ItemPanel key={open.id} client={client} item={open} onChanged={reload} />
        )}
      </div>
    </section>
  );
}

/**
 * What is left of the queue's SLA for an item: to be claimed (waiting) or resolved (claimed), from
 * when it entered the queue or was claimed; empty when the queue sets none.
 */
function timeLeft(
  item: Item,
  queue: { readonly claimWithinSeconds?: number; readonly resolveWithinSeconds?: number } | undefined,
  now: number = Date.now(),
): string {
  const claimed = item.status === "claimed";
  const within = claimed ? queue?.resolveWithinSeconds : queue?.claimWithinSeconds;
  const from = claimed ? item.claimedAt : item.queuedAt;
  if (within === undefined || from === undefined) return "";
  const left = Date.parse(from) + within * 1000 - now;
  const verb = claimed ? "to resolve" : "to claim";
  // Whole seconds, rounded toward the deadline: what is left is never overstated (59:59.6 left is
  // "59 min", not "1 h").
  return left >= 0
    ? `${duration(Math.floor(left / 1000) * 1000)} left ${verb}`
    : `${duration(Math.ceil(-left / 1000) * 1000)} over, ${verb}`;
}

/** The id of the item `step` places after (or before) `current`, the first when none is open. */
function neighbour(list: readonly Item[], current: string | undefined, step: 1 | -1): string | undefined {
  if (list.length === 0) return undefined;
  const index = list.findIndex((item) => item.id === current);
  if (index === -1) return list[0]?.id;
  return list[Math.min(list.length - 1, Math.max(0, index + step))]?.id;
}

function ItemPanel({
  client,
  item,
  onChanged,
}: {
  readonly client: FreeholdClient;
  readonly item: Item;
  readonly onChanged: () => void;
}) {
  const [text, setText] = useState("");
  const { busy, problem, run } = useAction(onChanged);
  const act = async (action: () => Promise<unknown>): Promise<void> => {
    if (await run(action)) setText("");
  };
  const note = text.trim();
  useShortcuts({
    c: () => {
      if (!busy) void act(() => client.claim(item.namespace, item.id));
    },
    r: () => {
      if (!busy) void act(() => client.release(item.namespace, item.id));
    },
  });
  return (
    <article className="item" aria-labelledby={`item-${item.id}`}>
      <h2 id={`item-${item.id}`}>{item.summary}</h2>
      <p className="meta">
        From {item.agent}, run{" "}
        <a href={`#/runs/${encodeURIComponent(item.runId)}`}>
          <code>{shortId(item.runId)}</code>
        </a>
        , in the queue since <Time iso={item.queuedAt} />
      </p>
      <p>
        <strong>Why:</strong> {item.reason}
      </p>
      {item.status === "claimed" ? (
        <p className="claim">
          Claimed by {item.claimedBy}
          {item.leaseExpiresAt === undefined ? null : (
            <>
              {" "}
              until <Time iso={item.leaseExpiresAt} />
            </>
          )}
        </p>
      ) : null}
      <EarlierActions client={client} item={item} />
      <ol className="conversation" aria-label="Conversation">
        {item.conversation.map((message, index) => (
          <li key={index} className={`message ${message.role}`}>
            <span className="role">{message.role === "tool" ? `tool ${message.name}` : message.role}</span>
            <span className="content">
              {message.content}
              {message.role === "assistant" && message.toolCalls !== undefined
                ? message.toolCalls.map((call) => (
                    <code key={call.id} className="tool-call">
                      {call.name}({call.arguments})
                    </code>
                  ))
                : null}
            </span>
          </li>
        ))}
      </ol>
      <label htmlFor={`text-${item.id}`}>Answer or note</label>
      <textarea
        id={`text-${item.id}`}
        rows={3}
        value={text}
        onChange={(event) => {
          setText(event.target.value);
        }}
      />
      <div className="actions">
        <button
          type="button"
          disabled={busy}
          onClick={() => void act(() => client.claim(item.namespace, item.id))}
        >
          Claim
        </button>
        <button
          type="button"
          disabled={busy || note === ""}
          onClick={() => void act(() => client.answer(item.namespace, item.id, { message: note, end: true }))}
        >
          Answer and end
        </button>
        <button
          type="button"
          disabled={busy || note === ""}
          onClick={() =>
            void act(() => client.answer(item.namespace, item.id, { message: note, end: false }))
          }
        >
          Answer, agent continues
        </button>
        <button
          type="button"
          disabled={busy || note === ""}
          onClick={() => void act(() => client.handBack(item.namespace, item.id, { note }))}
        >
          Hand back to {item.agent}
        </button>
        <button
          type="button"
          disabled={busy}
          onClick={() => void act(() => client.release(item.namespace, item.id))}
        >
          Release
        </button>
      </div>
      <Problem text={problem} />
    </article>
  );
}

/** What people did with the run's items before (claims, releases, answers, hand-backs, escalations). */
function EarlierActions({ client, item }: { readonly client: FreeholdClient; readonly item: Item }) {
  const [events] = useLoad(
    () => client.runEvents(item.namespace, item.runId),
    `${item.namespace}/${item.runId}/${item.status}/${item.claimedBy ?? ""}`,
  );
  if (events.state !== "ready") return null;
  const actions = events.value.flatMap(({ id, event }) =>
    event.type === "human-action" ? [{ id, event }] : [],
  );
  if (actions.length === 0) return null;
  return (
    <section aria-label="Earlier actions" className="earlier">
      <h3>Earlier actions</h3>
      <ul>
        {actions.map(({ id, event }) => (
          <li key={id}>
            <Time iso={event.time} /> {event.actor} {event.action.replaceAll("-", " ")} in {event.queue}
            {event.toQueue === undefined ? "" : ` to ${event.toQueue}`}
            {event.message === undefined ? "" : `: ${event.message}`}
          </li>
        ))}
      </ul>
    </section>
  );
}
