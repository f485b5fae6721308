/**
 * Approvals: tool calls waiting for a decision, with the tool, its arguments and the agent's
 * reason; approve, or reject with a reason. The gateway decides who may: a call of a run you started
 * says so before you try (separation of duties, in the gateway's words), and any other refusal is
 * shown as it gives it.
 *
 * @module
 */
import type { FreeholdClient } from "@freehold/sdk/client";
import { useState } from "react";
import { useLoad } from "../use-load.ts";
import { Loaded, Problem, Time, useAction, shortId } from "./common.tsx";

type Approval = Awaited<ReturnType<FreeholdClient["listApprovals"]>>[number];

export function ApprovalsScreen({
  client,
  namespace,
}: {
  readonly client: FreeholdClient;
  readonly namespace: string;
}) {
  const [approvals, reload] = useLoad(() => client.listApprovals(namespace), namespace);
  return (
    <section aria-labelledby="approvals-title">
      <h1 id="approvals-title">Approvals in {namespace}</h1>
      <Loaded
        load={approvals}
        empty={(list) => (list.length === 0 ? "No tool call is waiting for a decision." : undefined)}
      >
        {(list) => (
          <ul className="cards">
            {list.map((approval) => (
              <ApprovalCard key={approval.id} client={client} approval={approval} onDecided={reload} />
            ))}
          </ul>
        )}
      </Loaded>
    </section>
  );
}

function ApprovalCard({
  client,
  approval,
  onDecided,
}: {
  readonly client: FreeholdClient;
  readonly approval: Approval;
  readonly onDecided: () => void;
}) {
  const [reason, setReason] = useState("");
  const { busy, problem, run } = useAction();
  const decide = async (approve: boolean): Promise<void> => {
    const decided = await run(() =>
      client.decide(approval.namespace, approval.id, {
        approve,
        ...(reason.trim() === "" ? {} : { reason: reason.trim() }),
      }),
    );
    if (decided) onDecided();
  };
  const reasonId = `reason-${approval.id}`;
  return (
    <li className="card" aria-label={`${approval.agent} wants to call ${approval.tool}`}>
      <h2>
        {approval.agent} → {approval.server}/{approval.tool}
      </h2>
      <p className="meta">
        Run <a href={`#/runs/${encodeURIComponent(approval.runId)}`}>{shortId(approval.runId)}</a> (the run so
        far), asked <Time iso={approval.createdAt} />
      </p>
      {approval.reason === "" ? null : <blockquote>{approval.reason}</blockquote>}
      <dl className="arguments">
        {Object.entries(approval.arguments).map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd>
              <code>{typeof value === "string" ? value : JSON.stringify(value, null, 2)}</code>
            </dd>
          </div>
        ))}
      </dl>
      <label htmlFor={reasonId}>Reason (the model sees it when you reject)</label>
      <input
        id={reasonId}
        value={reason}
        onChange={(event) => {
          setReason(event.target.value);
        }}
      />
      {approval.notYours === undefined ? null : (
        <p className="note">
          <strong>Not yours to decide:</strong> {approval.notYours}
        </p>
      )}
      <div className="actions">
        <button
          type="button"
          disabled={busy || approval.notYours !== undefined}
          onClick={() => void decide(true)}
        >
          Approve
        </button>
        <button
          type="button"
          className="danger"
          disabled={busy || approval.notYours !== undefined}
          onClick={() => void decide(false)}
        >
          Reject
        </button>
      </div>
      <Problem text={problem} />
    </li>
  );
}
