/**
 * `freehold approvals`: tool calls waiting for a person, through the gateway: `list [--agent]`,
 * `approve <item> [--reason]`, `reject <item> [--reason]`. Decisions are made as the person whose
 * token the CLI sends (FREEHOLD_TOKEN, or the token `freehold dev` wrote).
 *
 * @module
 */
import type { ApprovalItem, RunState } from "@freehold/api";
import type { FreeholdClient } from "@freehold/sdk/client";
import type { Command } from "commander";
import type { Output } from "../output.ts";
import {
  age,
  clip,
  gatewayClient,
  table,
  withGatewayOptions,
  type GatewayClientFlags,
  type GatewayCommandContext,
} from "./gateway.ts";

/** What every approvals command gets. */
export interface ApprovalCommandOptions {
  readonly client: FreeholdClient;
  readonly namespace: string;
}

/** Prints the approval items as a table (or JSON lines). */
export async function approvalsListCommand(
  options: ApprovalCommandOptions & { readonly agent?: string; readonly json?: boolean },
  output: Output,
): Promise<ApprovalItem[]> {
  const items = await options.client.listApprovals(
    options.namespace,
    options.agent === undefined ? {} : { agent: options.agent },
  );
  if (options.json === true) {
    for (const item of items) output.stdout(`${JSON.stringify(item)}\n`);
    return items;
  }
  if (items.length === 0) {
    const whose = options.agent === undefined ? "" : ` of agent ${options.agent}`;
    output.stderr(`no tool calls${whose} wait for approval (namespace ${options.namespace})\n`);
    return items;
  }
  output.stdout(
    table(
      ["ITEM", "AGENT", "TOOL", "ARGUMENTS", "WAITING", "REASON"],
      items.map((item) => [
        item.id,
        item.agent,
        `${item.server}/${item.tool}`,
        clip(JSON.stringify(item.arguments), 40),
        age(item.createdAt),
        clip(item.reason === "" ? "-" : item.reason, 50),
      ]),
    ),
  );
  return items;
}

/** Approves or rejects one tool call. */
export async function approvalsDecideCommand(
  options: ApprovalCommandOptions & {
    readonly itemId: string;
    readonly approve: boolean;
    readonly reason?: string;
  },
  output: Output,
): Promise<RunState> {
  const run = await options.client.decide(options.namespace, options.itemId, {
    approve: options.approve,
    ...(options.reason === undefined ? {} : { reason: options.reason }),
  });
  const next = run.status === "queued" ? "resumes" : `is ${run.status}`;
  output.stdout(`${options.approve ? "approved" : "rejected"} ${options.itemId}; run ${run.id} ${next}\n`);
  return run;
}

/**
 * Adds `freehold approvals` and its subcommands to the program.
 *
 * @example
 * ```ts
 * registerApprovalCommands(program, context); // in createProgram
 * ```
 */
export function registerApprovalCommands(program: Command, context: GatewayCommandContext): void {
  const { output, environment } = context;
  const approvals = program.command("approvals").description("decide tool calls that wait for approval");
  const options = async (flags: GatewayClientFlags): Promise<ApprovalCommandOptions> => ({
    client: await gatewayClient(flags, environment),
    namespace: flags.namespace,
  });

  withGatewayOptions(approvals.command("list"), environment)
    .description("list tool calls waiting for approval, oldest first")
    .option("--agent <agent>", "only this agent's")
    .option("--json", "print items as JSON lines", false)
    .action(async (flags: GatewayClientFlags & { agent?: string; json: boolean }) => {
      await approvalsListCommand(
        {
          ...(await options(flags)),
          json: flags.json,
          ...(flags.agent === undefined ? {} : { agent: flags.agent }),
        },
        output,
      );
    });

  for (const [name, approve] of [
    ["approve", true],
    ["reject", false],
  ] as const) {
    withGatewayOptions(approvals.command(name), environment)
      .description(approve ? "approve a tool call: it runs" : "reject a tool call: the model gets an error")
      .argument("<item>", "the approval item's id")
      .option("--reason <text>", approve ? "why (kept in the run's events)" : "why (the model sees it)")
      .action(async (itemId: string, flags: GatewayClientFlags & { reason?: string }) => {
        await approvalsDecideCommand(
          {
            ...(await options(flags)),
            itemId,
            approve,
            ...(flags.reason === undefined ? {} : { reason: flags.reason }),
          },
          output,
        );
      });
  }
}
