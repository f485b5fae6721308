/**
 * Agents: the agents of the namespace, as their workers registered them.
 *
 * @module
 */
import type { FreeholdClient } from "@freehold/sdk/client";
import { useLoad } from "../use-load.ts";
import { Loaded, Time } from "./common.tsx";

export function AgentsScreen({
  client,
  namespace,
}: {
  readonly client: FreeholdClient;
  readonly namespace: string;
}) {
  const [agents] = useLoad(() => client.listAgents(namespace), namespace);
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
    </section>
  );
}
