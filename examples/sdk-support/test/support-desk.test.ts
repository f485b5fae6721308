/**
 * The support desk end to end, as the README runs it: `freehold model serve` on model-script.json,
 * `freehold dev src/resources.ts` (a Redis of its own, the agents' workers and the tools in that
 * process) and the gateway command it prints, with ann of the billing team added to its token file
 * and policy. Through the gateway, with the SDK's client:
 * - a refund: triage transfers to billing, whose issue_refund call waits for approval; the person who
 *   started the run may not approve it, ann does; the tool refunds exactly once (counted in the
 *   tool's own ledger) and the run completes;
 * - a dispute: billing hands it to the billing-team queue; the item is in ann's inbox; she claims it
 *   and answers the customer, which completes the run.
 */
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type FreeholdClient } from "@freehold/sdk/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRefunds } from "../src/billing-records.ts";
import { baseEnvironment, startFreehold, type FreeholdServer } from "./freehold-cli.ts";

const namespace = "default";
let folder: string;
let refundsFile: string;
const servers: FreeholdServer[] = [];
/** You: the person running `freehold dev`, admin of the namespace. */
let you: FreeholdClient;
/** Ann, of the billing team: a member of the namespace and of the billing-team queue. */
let ann: FreeholdClient;

type RunDetails = Awaited<ReturnType<FreeholdClient["getRun"]>>;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), "sdk-support-"));
  refundsFile = join(folder, "refunds.jsonl");

  const model = await startFreehold(
    ["model", "serve", "--script", "model-script.json", "--port", "0"],
    /at (http:\/\/\S+)\n/,
  );
  servers.push(model);

  const dev = await startFreehold(["dev", "src/resources.ts"], /^ready\.[\s\S]*Ctrl-C stops/m, {
    ...baseEnvironment(),
    MODEL_BASE_URL: model.match[1],
    REFUNDS_FILE: refundsFile,
    FREEHOLD_DEV_DIR: join(folder, "dev"),
    USER: "dev",
  });
  servers.push(dev);
  const printed = dev.match[0];
  const redisUrl = /FREEHOLD_REDIS_URL=(\S+)/.exec(printed)?.[1];
  const token = /FREEHOLD_TOKEN=(\S+)/.exec(printed)?.[1];
  const gatewayCommand = /^ {2}freehold (gateway .*)$/m.exec(printed)?.[1];
  if (redisUrl === undefined || token === undefined || gatewayCommand === undefined) {
    throw new Error(`freehold dev printed no Redis URL, token or gateway command:\n${printed}`);
  }
  expect(dev.output()).toContain("agents billing, triage; MCP servers billing-tools");

  // Ann works the billing team's queue (README: "Ann of the billing team").
  const annToken = "ann-token-of-the-billing-team-0123456789";
  appendFileSync(join(folder, "dev", "tokens.csv"), `${annToken},ann,billing-team\n`);
  appendFileSync(
    join(folder, "dev", "policy.yaml"),
    "  - namespace: default\n    role: member\n    subjects: [{ group: billing-team }]\n",
  );

  const gateway = await startFreehold(
    [...gatewayCommand.split(" "), "--port", "0"],
    /gateway at (http:\/\/\S+) /,
    { ...baseEnvironment(), FREEHOLD_REDIS_URL: redisUrl },
  );
  servers.push(gateway);
  const url = gateway.match[1] ?? "";
  you = createClient({ url, token });
  ann = createClient({ url, token: annToken });
});

afterAll(async () => {
  for (const server of servers.reverse()) await server.stop();
  rmSync(folder, { recursive: true, force: true });
});

/** Reads the run until its status is `status`. */
async function waitFor(runId: string, status: RunDetails["status"]): Promise<RunDetails> {
  let run: RunDetails | undefined;
  await expect
    .poll(async () => (run = await you.getRun(namespace, runId)).status, { timeout: 30_000, interval: 100 })
    .toBe(status);
  if (run === undefined) throw new Error(`run ${runId} was never read`);
  return run;
}

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a refusal");
}

describe("the support desk under freehold dev", () => {
  it("refunds a double charge once, after a person of the billing team approves it", async () => {
    const started = await you.startRun(namespace, "triage", {
      input: "I was charged twice for order A-1001. Can I get the second charge back?",
    });
    const waiting = await waitFor(started.id, "waiting_for_approval");
    expect(waiting.agent).toBe("billing");
    const events = waiting.history.map(({ event }) => event);
    expect(events).toContainEqual(
      expect.objectContaining({ type: "agent-transfer", from: "triage", to: "billing" }),
    );
    expect(
      events.flatMap((event) => (event.type === "tool-call-end" ? [[event.name, event.isError]] : [])),
    ).toEqual([
      ["transfer_to_billing", false],
      ["lookup_order", false],
      ["get_invoice", false],
    ]);
    // Nothing is refunded before the approval.
    expect(readRefunds(refundsFile)).toEqual([]);

    await expect.poll(() => ann.listApprovals(namespace, { agent: "billing" })).toHaveLength(1);
    const [approval] = await ann.listApprovals(namespace, { agent: "billing" });
    expect(approval).toMatchObject({
      runId: started.id,
      server: "billing-tools",
      tool: "issue_refund",
      arguments: { invoice: "INV-1001", amount: 49 },
    });
    const itemId = approval?.id ?? "";
    // Separation of duties: who started the run does not approve its refund.
    const own = await refusal(you.decide(namespace, itemId, { approve: true }));
    expect(own).toMatchObject({ code: "auth.forbidden" });
    await ann.decide(namespace, itemId, { approve: true, reason: "Duplicate charge confirmed." });

    const done = await waitFor(started.id, "completed");
    expect(done.output).toContain("The second charge of 49 EUR for order A-1001 is refunded");
    // The tool ran exactly once: one line in its ledger, under the call's idempotency key (the approval's id).
    expect(readRefunds(refundsFile)).toMatchObject([
      { refund: "RF-1", idempotencyKey: itemId, invoice: "INV-1001", amount: 49 },
    ]);
    const history = done.history.map(({ event }) => event);
    expect(history).toContainEqual(
      expect.objectContaining({ type: "approval-decision", approved: true, actor: "ann" }),
    );
    expect(
      history.filter((event) => event.type === "tool-call-end" && event.name === "issue_refund"),
    ).toMatchObject([{ isError: false }]);
  });

  it("hands a dispute to the billing team, whose member answers it from the inbox", async () => {
    const started = await you.startRun(namespace, "triage", {
      input: "My order A-1002 never arrived, but I was charged for it.",
    });
    const waiting = await waitFor(started.id, "waiting_for_human");
    expect(waiting.history.map(({ event }) => event)).toContainEqual(
      expect.objectContaining({ type: "human-handoff", queue: "billing-team", priority: "high" }),
    );

    const inbox = async () =>
      (await ann.listInbox(namespace, "billing-team")).filter((entry) => entry.runId === started.id);
    await expect.poll(inbox).toHaveLength(1);
    const [item] = await inbox();
    expect(item).toMatchObject({
      queue: "billing-team",
      agent: "billing",
      status: "waiting",
      priority: "high",
    });
    expect(item?.summary).toContain("A-1002");
    const claimed = await ann.claim(namespace, item?.id ?? "");
    expect(claimed).toMatchObject({ status: "claimed", claimedBy: "ann" });
    const message = "We have asked the carrier about A-1002 and refunded you in the meantime.";
    await ann.answer(namespace, item?.id ?? "", { message });

    const done = await waitFor(started.id, "completed");
    expect(done.output).toBe(message);
    // Nothing was refunded through the tool for the dispute: the ledger still holds the one refund.
    expect(readRefunds(refundsFile).map((refund) => refund.invoice)).not.toContain("INV-1002");
  });
});
