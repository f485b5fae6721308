/**
 * The crash suites' multi-agent world, on real parts: the scripted model server and the counter MCP
 * server over HTTP, and a worker config (written to a file) where triage transfers to billing;
 * billing asks the researcher (a child run), charges with the counter's slow `charge` tool (policy
 * `ask`: a charge its worker was running when it died waits for a person's approval before it is
 * sent again), then hands the conversation to the `desk` human queue; when a person hands it back,
 * billing answers. Also the people: {@link actAsPeople} hands back whatever waits at the desk and
 * approves the charges to send again.
 */
import { join } from "node:path";
import { FreeholdError } from "@freehold/api";
import type { Approvals, Inbox } from "@freehold/handoff";
import { startScriptedModelServer, type ScriptedModelServer } from "@freehold/models";
import { startCounterServer, type CounterServer } from "../fixtures/mcp/counter-server.ts";
import { writeScriptedConfig } from "../fixtures/scripted-config.ts";

export interface HandoffWorld {
  /** The worker config, for `freehold worker --config`. */
  readonly configFile: string;
  readonly model: ScriptedModelServer;
  readonly counter: CounterServer;
  /** Stops the model and counter servers. */
  close(): Promise<void>;
}

/**
 * Starts the servers and writes `config.json` into `directory`.
 *
 * @example
 * const world = await startHandoffWorld({ directory, namespace: "acme", delayMs: 150 });
 * const fleet = createWorkerFleet({ configFile: world.configFile, redisUrl, concurrency: 10, lockDurationSeconds: 2 });
 */
export async function startHandoffWorld(options: {
  readonly directory: string;
  readonly namespace: string;
  /** How long the model takes over each answer. */
  readonly delayMs: number;
}): Promise<HandoffWorld> {
  const { namespace, delayMs } = options;
  const counter = await startCounterServer({ transport: "http" });
  const model = await startScriptedModelServer({
    script: [
      {
        match: { contains: "order" },
        toolCalls: [{ name: "transfer_to_billing", arguments: { note: "A billing question." } }],
        delayMs,
      },
      {
        match: { contains: "Transferred to billing" },
        toolCalls: [{ name: "ask_researcher", arguments: { input: "history please" } }],
        delayMs,
      },
      {
        match: { toolName: "ask_researcher" },
        toolCalls: [{ name: "charge", arguments: { value: 30, delayMs: 1000 } }],
        delayMs,
      },
      {
        match: { toolName: "charge" },
        toolCalls: [
          { name: "transfer_to_human_desk", arguments: { summary: "Needs a person.", reason: "Policy." } },
        ],
        delayMs,
      },
      { match: { contains: "handed the conversation back" }, text: "All done.", delayMs },
      { match: { contains: "history please" }, text: "A long-time customer.", delayMs },
    ],
  });
  const configFile = writeScriptedConfig(join(options.directory, "config.json"), {
    namespace,
    modelBaseUrl: model.baseUrl,
    agents: {
      triage: { instructions: "Route.", handoffs: [{ agent: "billing" }] },
      billing: {
        instructions: "Bill.",
        tools: [
          { agent: "researcher" },
          { mcpServer: "counter", allow: ["charge"], onInterrupt: { tools: { charge: "ask" } } },
        ],
        handoffs: [{ humanQueue: "desk" }],
      },
      researcher: { instructions: "Research." },
    },
    mcpServers: { counter: counter.url },
    humanQueues: { desk: { description: "People.", leaseSeconds: 30 } },
  });
  return {
    configFile,
    model,
    counter,
    async close() {
      await model.close();
      await counter.close();
    },
  };
}

/**
 * The people: ann claims and hands back every item waiting at the desk, and approves every call
 * waiting for approval (here: charges interrupted by a crash, to send again); an item another claim,
 * decision or the sweeper got to first is skipped. Each Redis call goes through `attempt` (default:
 * called once), e.g. to retry through a Redis restart. Returns how many items each got.
 */
export async function actAsPeople(
  parts: { readonly inbox: Inbox; readonly approvals: Approvals },
  namespace: string,
  attempt: <T>(action: () => Promise<T>) => Promise<T> = (action) => action(),
): Promise<{ handedBack: number; approved: number }> {
  const { inbox, approvals } = parts;
  let handedBack = 0;
  let approved = 0;
  const skipTaken = (error: unknown): void => {
    if (!(error instanceof FreeholdError)) throw error;
  };
  for (const item of await attempt(() => inbox.list(namespace, "desk"))) {
    if (item.status !== "waiting") continue;
    try {
      await attempt(() => inbox.claim(namespace, item.id, "ann"));
      await attempt(() => inbox.handBack(namespace, item.id, "ann", { note: "Checked by a person." }));
      handedBack += 1;
    } catch (error) {
      skipTaken(error);
    }
  }
  for (const item of await attempt(() => approvals.list(namespace))) {
    try {
      await attempt(() => approvals.decide(namespace, item.id, "ann", { approve: true }));
      approved += 1;
    } catch (error) {
      skipTaken(error);
    }
  }
  return { handedBack, approved };
}
