/**
 * `freehold runs`: a namespace's runs through the gateway, newest first, as a table or JSON lines:
 * `--agent`, `--status` (several joined by commas), `--limit` and `--cursor` for one page,
 * `--all` for every page. Every run of the namespace if your token may list runs there, else the
 * runs you started.
 *
 * @module
 */
import { FreeholdError, RunStatus, runStatuses, type RunSummary } from "@freehold/api";
import type { FreeholdClient, ListRunsOptions } from "@freehold/sdk/client";
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

/** What {@link runsListCommand} takes. */
export interface RunsListOptions {
  readonly client: FreeholdClient;
  readonly namespace: string;
  readonly agent?: string;
  /** Only runs with one of these statuses. */
  readonly statuses?: readonly RunStatus[];
  readonly limit?: number;
  readonly cursor?: string;
  /** Every page, not one. */
  readonly all?: boolean;
  /** JSON lines instead of a table. */
  readonly json?: boolean;
}

/** What a run waits for, or why it ended, in a few words. */
function detail(run: RunSummary): string {
  const waiting = run.waiting;
  if (waiting?.kind === "human") return `waits for queue ${waiting.queue}`;
  if (waiting?.kind === "approval") return `waits for ${waiting.itemIds.length} approval(s)`;
  if (waiting?.kind === "agent") return `waits for ${waiting.childRunIds.length} child run(s)`;
  if (run.error !== undefined) return `${run.error.code}: ${run.error.message}`;
  if (run.limit !== undefined) return `limit ${run.limit}`;
  if (run.parent !== undefined) return `child of ${run.parent.runId}`;
  return "-";
}

/**
 * Prints the runs as a table (or JSON lines), one page or, with `all`, every page; says on stderr
 * how to get the next page when there is one. Returns the runs printed.
 *
 * @example
 * ```ts
 * await runsListCommand({ client, namespace: "acme", statuses: ["waiting_for_human"], limit: 20 }, processOutput());
 * ```
 */
export async function runsListCommand(options: RunsListOptions, output: Output): Promise<RunSummary[]> {
  const query: ListRunsOptions = {
    ...(options.agent === undefined ? {} : { agent: options.agent }),
    ...(options.statuses === undefined ? {} : { status: options.statuses }),
    ...(options.limit === undefined ? {} : { limit: options.limit }),
  };
  const runs: RunSummary[] = [];
  let cursor = options.cursor;
  do {
    const page = await options.client.listRuns(options.namespace, {
      ...query,
      ...(cursor === undefined ? {} : { cursor }),
    });
    runs.push(...page.items);
    cursor = page.nextCursor;
  } while (options.all === true && cursor !== undefined);

  if (options.json === true) {
    for (const run of runs) output.stdout(`${JSON.stringify(run)}\n`);
  } else if (runs.length === 0) {
    output.stderr(`no runs${cursor === undefined ? "" : " on this page"} (namespace ${options.namespace})\n`);
  } else {
    output.stdout(
      table(
        ["RUN", "AGENT", "STATUS", "STEPS", "TOKENS", "CREATED", "UPDATED", "DETAIL"],
        runs.map((run) => [
          run.id,
          run.agent,
          run.status,
          String(run.steps),
          String(run.usage.inputTokens + run.usage.outputTokens),
          age(run.createdAt),
          age(run.updatedAt),
          clip(detail(run), 60),
        ]),
      ),
    );
  }
  if (cursor !== undefined) output.stderr(`more: add --cursor ${cursor} (or --all for every page)\n`);
  return runs;
}

function statusList(text: string): RunStatus[] {
  return text.split(",").map((status) => {
    const parsed = RunStatus.safeParse(status);
    if (!parsed.success) {
      throw new FreeholdError(
        "cli.invalid-option",
        `--status: unknown status ${JSON.stringify(status)}; give one of ${runStatuses.join(", ")}, or several joined by commas`,
      );
    }
    return parsed.data;
  });
}

function pageSize(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 500) {
    throw new FreeholdError(
      "cli.invalid-option",
      `--limit must be a whole number from 1 to 500, not ${JSON.stringify(text)}`,
    );
  }
  return value;
}

/**
 * Adds `freehold runs` to the program.
 *
 * @example
 * ```ts
 * registerRunsCommand(program, context); // in createProgram
 * ```
 */
export function registerRunsCommand(program: Command, context: GatewayCommandContext): void {
  const { output, environment } = context;
  withGatewayOptions(program.command("runs"), environment)
    .description(
      "list a namespace's runs through the gateway, newest first (yours only, if you may not list them all)",
    )
    .option("--agent <agent>", "only the runs this agent owns now")
    .option("--status <status>", "only runs with this status, or one of several joined by commas")
    .option("--limit <count>", "runs per page, 1 to 500 (default: the gateway's, 100)")
    .option("--cursor <cursor>", "go on from where the previous page ended")
    .option("--all", "every page, not one", false)
    .option("--json", "print runs as JSON lines", false)
    .action(
      async (
        flags: GatewayClientFlags & {
          agent?: string;
          status?: string;
          limit?: string;
          cursor?: string;
          all: boolean;
          json: boolean;
        },
      ) => {
        await runsListCommand(
          {
            client: await gatewayClient(flags, environment),
            namespace: flags.namespace,
            ...(flags.agent === undefined ? {} : { agent: flags.agent }),
            ...(flags.status === undefined ? {} : { statuses: statusList(flags.status) }),
            ...(flags.limit === undefined ? {} : { limit: pageSize(flags.limit) }),
            ...(flags.cursor === undefined ? {} : { cursor: flags.cursor }),
            all: flags.all,
            json: flags.json,
          },
          output,
        );
      },
    );
}
