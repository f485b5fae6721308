/**
 * `freehold inbox`: work a human queue through the gateway: `list <queue>`, `claim <item>`,
 * `answer <item> "<message>" [--continue]`, `hand-back <item> "<note>" [--agent x]`,
 * `release <item>`. Every action is made as the person whose token the CLI sends (FREEHOLD_TOKEN).
 *
 * @module
 */
import { FreeholdError, type ChatMessage, type InboxItem } from "@freehold/api";
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

/** What every inbox command gets. */
export interface InboxCommandOptions {
  readonly client: FreeholdClient;
  readonly namespace: string;
}

/** Prints a queue's items as a table (or JSON lines). */
export async function inboxListCommand(
  options: InboxCommandOptions & { readonly queue: string; readonly json?: boolean },
  output: Output,
): Promise<InboxItem[]> {
  const items = await options.client.listInbox(options.namespace, options.queue);
  if (options.json === true) {
    for (const item of items) output.stdout(`${JSON.stringify(item)}\n`);
    return items;
  }
  if (items.length === 0) {
    output.stderr(`no items in ${options.queue} (namespace ${options.namespace})\n`);
    return items;
  }
  output.stdout(
    table(
      ["ITEM", "PRIORITY", "STATUS", "WAITING", "AGENT", "CLAIMED BY", "SUMMARY"],
      items.map((item) => [
        item.id,
        item.priority,
        item.status,
        age(item.queuedAt),
        item.agent,
        item.claimedBy ?? "-",
        clip(item.summary, 60),
      ]),
    ),
  );
  return items;
}

function transcript(messages: readonly ChatMessage[]): string {
  return messages
    .flatMap((message) => {
      if (message.role === "user") return [`  user:  ${message.content}`];
      if (message.role === "assistant" && message.content !== "") return [`  agent: ${message.content}`];
      return [];
    })
    .join("\n");
}

/** Claims an item and prints what the person needs to work it. */
export async function inboxClaimCommand(
  options: InboxCommandOptions & { readonly itemId: string; readonly leaseSeconds?: number },
  output: Output,
): Promise<InboxItem> {
  const item = await options.client.claim(
    options.namespace,
    options.itemId,
    options.leaseSeconds === undefined ? {} : { leaseSeconds: options.leaseSeconds },
  );
  output.stdout(
    `claimed ${item.id} in ${item.queue} as ${item.claimedBy ?? "?"}, until ${item.leaseExpiresAt ?? "?"}\n` +
      `agent:    ${item.agent} (run ${item.runId})\n` +
      `priority: ${item.priority}\n` +
      `summary:  ${item.summary}\n` +
      `reason:   ${item.reason}\n` +
      `conversation:\n${transcript(item.conversation)}\n`,
  );
  output.stderr(
    `next: freehold inbox answer ${item.id} "<message>"  or  freehold inbox hand-back ${item.id} "<note>"\n`,
  );
  return item;
}

/** Answers the user; with `continue`, the agent goes on after the answer. */
export async function inboxAnswerCommand(
  options: InboxCommandOptions & {
    readonly itemId: string;
    readonly message: string;
    readonly continue: boolean;
  },
  output: Output,
): Promise<void> {
  const run = await options.client.answer(options.namespace, options.itemId, {
    message: options.message,
    end: !options.continue,
  });
  output.stdout(
    run.status === "completed"
      ? `answered ${options.itemId}; run ${run.id} completed\n`
      : `answered ${options.itemId}; agent ${run.agent} continues (run ${run.id} is ${run.status})\n`,
  );
}

/** Hands the conversation back to an agent with a note. */
export async function inboxHandBackCommand(
  options: InboxCommandOptions & { readonly itemId: string; readonly note: string; readonly agent?: string },
  output: Output,
): Promise<void> {
  const run = await options.client.handBack(options.namespace, options.itemId, {
    note: options.note,
    ...(options.agent === undefined ? {} : { agent: options.agent }),
  });
  output.stdout(`handed ${options.itemId} back to agent ${run.agent}; run ${run.id} is ${run.status}\n`);
}

/** Releases a claim: the item waits in its queue again. */
export async function inboxReleaseCommand(
  options: InboxCommandOptions & { readonly itemId: string },
  output: Output,
): Promise<void> {
  const item = await options.client.release(options.namespace, options.itemId);
  output.stdout(`released ${item.id}; it waits in ${item.queue} again\n`);
}

function leaseSeconds(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 10) {
    throw new FreeholdError(
      "cli.invalid-option",
      `--lease must be a whole number of seconds, at least 10, not ${JSON.stringify(text)}`,
    );
  }
  return value;
}

/**
 * Adds `freehold inbox` and its subcommands to the program.
 *
 * @example
 * ```ts
 * registerInboxCommands(program, context); // in createProgram
 * ```
 */
export function registerInboxCommands(program: Command, context: GatewayCommandContext): void {
  const { output, environment } = context;
  const inbox = program.command("inbox").description("work human queues through the gateway");
  const options = async (flags: GatewayClientFlags): Promise<InboxCommandOptions> => ({
    client: await gatewayClient(flags, environment),
    namespace: flags.namespace,
  });

  withGatewayOptions(inbox.command("list"), environment)
    .description("list a human queue's items: waiting ones by priority, then claimed ones")
    .argument("<queue>", "the HumanQueue")
    .option("--json", "print items as JSON lines", false)
    .action(async (queue: string, flags: GatewayClientFlags & { json: boolean }) => {
      await inboxListCommand({ ...(await options(flags)), queue, json: flags.json }, output);
    });

  withGatewayOptions(inbox.command("claim"), environment)
    .description("claim an item: only you can act on it until the lease ends")
    .argument("<item>", "the item's id")
    .option("--lease <seconds>", "how long the claim lasts (default: the queue's)")
    .action(async (itemId: string, flags: GatewayClientFlags & { lease?: string }) => {
      await inboxClaimCommand(
        {
          ...(await options(flags)),
          itemId,
          ...(flags.lease === undefined ? {} : { leaseSeconds: leaseSeconds(flags.lease) }),
        },
        output,
      );
    });

  withGatewayOptions(inbox.command("answer"), environment)
    .description("answer the user; the run ends with your answer unless --continue")
    .argument("<item>", "the item's id")
    .argument("<message>", "what you tell the user")
    .option("--continue", "let the agent continue the conversation after your answer", false)
    .action(async (itemId: string, message: string, flags: GatewayClientFlags & { continue: boolean }) => {
      await inboxAnswerCommand(
        { ...(await options(flags)), itemId, message, continue: flags.continue },
        output,
      );
    });

  withGatewayOptions(inbox.command("hand-back"), environment)
    .description("hand the conversation back to an agent with a note")
    .argument("<item>", "the item's id")
    .argument("<note>", "what the agent should know or do next")
    .option("--agent <agent>", "the agent to hand to (default: the one that handed over)")
    .action(async (itemId: string, note: string, flags: GatewayClientFlags & { agent?: string }) => {
      await inboxHandBackCommand(
        {
          ...(await options(flags)),
          itemId,
          note,
          ...(flags.agent === undefined ? {} : { agent: flags.agent }),
        },
        output,
      );
    });

  withGatewayOptions(inbox.command("release"), environment)
    .description("release your claim on an item")
    .argument("<item>", "the item's id")
    .action(async (itemId: string, flags: GatewayClientFlags) => {
      await inboxReleaseCommand({ ...(await options(flags)), itemId }, output);
    });
}
