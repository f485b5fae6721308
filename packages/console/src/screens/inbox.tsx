/**
 * Inbox: the waiting and claimed items of a human queue, by priority then age; open one to read the
 * whole conversation, the agent's summary and reason; claim it, answer the user (ending the run or
 * letting the agent go on), hand it back to an agent with a note, or release it. Who holds a claim,
 * and until when, is shown; a claim someone else took first is said plainly.
 *
 * @module
 */
import type { FreeholdClient } from "@freehold/sdk/client";
import { useState } from "react";
import { savedQueue, saveQueue } from "../session.ts";
import { describeError, useLoad } from "../use-load.ts";
import { age, Loaded, Time } from "./common.tsx";

type Item = Awaited<ReturnType<FreeholdClient["listInbox"]>>[number];

export function InboxScreen({
  client,
  namespace,
}: {
  readonly client: FreeholdClient;
  readonly namespace: string;
}) {
  const [queue, setQueue] = useState(savedQueue);
  const [openId, setOpenId] = useState<string>();
  const [items, reload] = useLoad(
    () => (queue === "" ? Promise.resolve([]) : client.listInbox(namespace, queue)),
    `${namespace}/${queue}`,
  );
  const open = items.state === "ready" ? items.value.find((item) => item.id === openId) : undefined;
  return (
    <section aria-labelledby="inbox-title" className="inbox">
      <h1 id="inbox-title">Inbox</h1>
      <label className="queue">
        Human queue
        <input
          value={queue}
          spellCheck={false}
          onChange={(event) => {
            setQueue(event.target.value);
          }}
          onBlur={() => {
            saveQueue(queue);
          }}
        />
      </label>
      <button type="button" onClick={reload}>
        Refresh
      </button>
      <div className="split">
        <Loaded
          load={items}
          empty={(list) =>
            queue === ""
              ? "Name a human queue."
              : list.length === 0
                ? `Nothing waits in ${queue}.`
                : undefined
          }
        >
          {(list) => (
            <table aria-label={`Items of ${queue}`}>
              <thead>
                <tr>
                  <th scope="col">Priority</th>
                  <th scope="col">From</th>
                  <th scope="col">Summary</th>
                  <th scope="col">Waiting</th>
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
                      {item.status === "claimed" ? `claimed by ${item.claimedBy ?? "someone"}` : "waiting"}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Loaded>
        {open === undefined ? null : <ItemPanel client={client} item={open} onChanged={reload} />}
      </div>
    </section>
  );
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
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);
  const act = async (action: () => Promise<unknown>): Promise<void> => {
    setBusy(true);
    setProblem(undefined);
    try {
      await action();
      setText("");
      onChanged();
    } catch (error) {
      setProblem(describeError(error).message);
      onChanged();
    } finally {
      setBusy(false);
    }
  };
  const note = text.trim();
  return (
    <article className="item" aria-labelledby={`item-${item.id}`}>
      <h2 id={`item-${item.id}`}>{item.summary}</h2>
      <p className="meta">
        From {item.agent}, run <code>{item.runId}</code>, in the queue since <Time iso={item.queuedAt} />
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
      {problem === undefined ? null : (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
    </article>
  );
}
