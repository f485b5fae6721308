/**
 * Agents: the agents of the namespace, as their workers registered them: ready or why not (the
 * operator's conditions, in a cluster), model, tools, where they hand to, runs queued and being worked;
 * and the human queues the person works with how many items wait and since when.
 *
 * @module
 */
import type { FreeholdClient } from "@freehold/sdk/client";
import { useLoad } from "../use-load.ts";
import { age, Loaded, Time } from "./common.tsx";

export function AgentsScreen({
  client,
  namespace,
}: {
  readonly client: FreeholdClient;
  readonly namespace: string;
}) {
  const [agents] = useLoad(() => client.listAgents(namespace), namespace);
  const [queues] = useLoad(() => client.listHumanQueues(namespace), namespace);
  return (
    <section aria-labelledby="agents-title">
      <h1 id="agents-title">Agents in {namespace}</h1>
      <Loaded
        load={agents}
        empty={(list) => (list.length === 0 ? `No agent has a worker in ${namespace} yet.` : undefined)}
      >
        {(list) => (
          <table aria-label="Agents">
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">Ready</th>
                <th scope="col">Model</th>
                <th scope="col">Tools</th>
                <th scope="col">Hands to</th>
                <th scope="col">Queued</th>
                <th scope="col">Working</th>
                <th scope="col">Registered</th>
              </tr>
            </thead>
            <tbody>
              {list.map((agent) => (
                <tr key={agent.name}>
                  <td>
                    {agent.name}
                    {agent.description === undefined ? null : <div className="meta">{agent.description}</div>}
                  </td>
                  <td>
                    <Readiness conditions={agent.conditions} />
                  </td>
                  <td>{agent.model ?? ""}</td>
                  <td>{agent.tools?.join(", ") ?? ""}</td>
                  <td>{agent.handoffs?.join(", ") ?? ""}</td>
                  <td>{agent.queued ?? ""}</td>
                  <td>{agent.working ?? ""}</td>
                  <td>
                    <Time iso={agent.registeredAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loaded>
      <h2>Human queues</h2>
      <Loaded
        load={queues}
        empty={(list) => (list.length === 0 ? "You work no human queue here." : undefined)}
      >
        {(list) => (
          <table aria-label="Human queues">
            <thead>
              <tr>
                <th scope="col">Queue</th>
                <th scope="col">Description</th>
                <th scope="col">Waiting</th>
                <th scope="col">Claimed</th>
                <th scope="col">Oldest wait</th>
              </tr>
            </thead>
            <tbody>
              {list.map((queue) => (
                <tr key={queue.name}>
                  <td>{queue.name}</td>
                  <td>{queue.description ?? ""}</td>
                  <td>{queue.waiting}</td>
                  <td>{queue.claimed}</td>
                  <td>{queue.oldestWaitingSince === undefined ? "" : age(queue.oldestWaitingSince)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loaded>
    </section>
  );
}

type Conditions = Awaited<ReturnType<FreeholdClient["listAgents"]>>[number]["conditions"];

/** Whether the operator says the agent is ready, and why not when it is not; nothing outside a cluster. */
function Readiness({ conditions }: { readonly conditions: Conditions }) {
  const ready = conditions?.find((condition) => condition.type === "Ready");
  if (ready === undefined) return <span className="meta">not reported</span>;
  if (ready.status === "True") return <span>ready</span>;
  return (
    <span className="error">
      not ready: {ready.reason}
      {ready.message === "" ? "" : ` (${ready.message})`}
    </span>
  );
}
