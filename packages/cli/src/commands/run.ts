/**
 * `freehold run <agent> <input>`: starts a run and streams its events to the terminal (or as JSON
 * lines with `--json`) until it ends. With `--dev <folder>` it first starts that folder's agents in
 * this process (its own Redis, workers, MCP servers) and stops them afterwards: one command, no
 * cluster. Who started the run is recorded as the gateway records its callers, for separation of
 * duties: `local:<os user>` (`USER`, else the OS account), whom the gateway takes for its user of
 * the same name, so you cannot approve your own run's tool calls there either.
 *
 * Ctrl-C (SIGINT, or SIGTERM) stops following the run and closes what the command opened: with
 * `--dev`, the folder's workers, MCP servers and Redis stop with it (and the run with them); against
 * a running `freehold dev` or cluster the run goes on there. Either way the command ends with
 * `cli.interrupted`, saying which.
 *
 * @module
 */
import { FreeholdError, isTerminal, type RunEvent } from "@freehold/api";
import { interruptedCode } from "../interrupted.ts";
import type { Output } from "../output.ts";
import { colourStyle, plainStyle, renderEvent } from "../render-events.ts";
import { createSpinner } from "../spinner.ts";
import { openLocalRuns } from "./local-runs.ts";

export interface RunOptions {
  readonly agent: string;
  readonly input: string;
  readonly namespace?: string;
  readonly redisUrl?: string;
  /** A folder of manifests to run in-process for this one run. */
  readonly dev?: string;
  readonly json: boolean;
  readonly cwd: string;
  readonly environment: Readonly<Record<string, string | undefined>>;
  readonly modelsDirectory?: string;
  /** Resolves when the command should stop (SIGINT, SIGTERM): the program's. */
  readonly stopped?: () => Promise<void>;
}

/** Runs and prints; resolves to the run's final status. */
export async function runCommand(
  options: RunOptions,
  output: Output,
): Promise<RunEvent & { type: "run-end" }> {
  const style = output.interactive ? colourStyle : plainStyle;
  const progress = (line: string): void => {
    if (!options.json) output.stderr(`${style.dim(line)}\n`);
  };
  const spinner = createSpinner(output);
  const stop = new AbortController();
  void options.stopped?.().then(() => {
    stop.abort();
  });
  /** Read through a call: the abort comes from a signal handler, between awaits. */
  const stopping = (): boolean => stop.signal.aborted;
  const runs = await openLocalRuns(options, progress);
  let runId: string | undefined;
  try {
    const { store } = runs;
    const namespace = runs.namespaceOf(options.agent, options.namespace);
    if (stopping()) throw interrupted(options, undefined);
    const run = await runs.start({ namespace, agent: options.agent, input: options.input });
    runId = run.id;
    let end: (RunEvent & { type: "run-end" }) | undefined;
    spinner.start("thinking");
    for await (const { id, event } of store.followEvents(namespace, run.id, { signal: stop.signal })) {
      spinner.clear();
      if (options.json) {
        output.stdout(`${JSON.stringify({ id, ...event })}\n`);
      } else {
        const text = renderEvent(event, style);
        if (text !== "") output.stdout(`${text}\n`);
      }
      if (event.type === "run-end") end = event;
      else spinner.start(event.type === "tool-call-start" ? `running ${event.toolCall.name}` : "thinking");
    }
    spinner.clear();
    if (end === undefined && stopping()) throw interrupted(options, run.id);
    if (end === undefined || !isTerminal(end.status)) {
      throw new FreeholdError("run.incomplete", `the event stream of run ${run.id} ended without run-end`);
    }
    return end;
  } finally {
    spinner.clear();
    if (stopping()) progress(`stopping${runId === undefined ? "" : ` (run ${runId})`}`);
    await runs.close();
  }
}

function interrupted(options: RunOptions, runId: string | undefined): FreeholdError {
  if (runId === undefined) {
    return new FreeholdError(interruptedCode, "stopped before the run started; nothing was started", {
      details: {},
    });
  }
  if (options.dev === undefined) {
    return new FreeholdError(
      interruptedCode,
      `stopped before run ${runId} ended; it goes on in the workers of its Redis (freehold runs lists it through a gateway)`,
      { details: { runId } },
    );
  }
  return new FreeholdError(
    interruptedCode,
    `stopped before run ${runId} ended; it ran in this process (--dev), and stopped with it`,
    { details: { runId } },
  );
}
