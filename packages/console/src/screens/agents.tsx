/**
 * Agents: the agents of the namespace, as their workers registered them, and the human queues the
 * person works with how many items wait and since when.
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
          <table>
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">Description</th>
                <th scope="col">Registered</th>
              </tr>
            </thead>
            <tbody>
              {list.map((agent) => (
                <tr key={agent.name}>
                  <td>{agent.name}</td>
                  <td>{agent.description ?? ""}</td>
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
