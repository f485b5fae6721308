/**
 * `freehold run <agent> <input>`: starts a run and streams its events to the terminal (or as JSON
 * lines with `--json`) until it ends. With `--dev <folder>` it first starts that folder's agents in
 * this process (its own Redis, workers, MCP servers) and stops them afterwards: one command, no
 * cluster. Who started the run is recorded as the gateway records its callers, for separation of
 * duties: `local:<os user>` (`USER`, else the OS account), whom the gateway takes for its user of
 * the same name, so you cannot approve your own run's tool calls there either.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { userInfo } from "node:os";
import { FreeholdError, isTerminal, type RunEvent, type RunState } from "@freehold/api";
import { createRunStarters, localIdentity } from "@freehold/gateway";
import {
  connectRedis,
  createAgentQueues,
  createAgentRegistry,
  createRunStore,
  startRun,
} from "@freehold/handoff";
import { startDevEnvironment } from "../dev/dev-environment.ts";
import type { Output } from "../output.ts";
import { colourStyle, plainStyle, renderEvent } from "../render-events.ts";
import { createSpinner } from "../spinner.ts";

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
  const environment =
    options.dev === undefined
      ? undefined
      : await startDevEnvironment({
          directory: options.dev,
          cwd: options.cwd,
          environment: options.environment,
          log: progress,
          ...(options.modelsDirectory === undefined ? {} : { modelsDirectory: options.modelsDirectory }),
        });
  const redisUrl = environment?.redisUrl ?? options.redisUrl;
  if (redisUrl === undefined) {
    throw new FreeholdError(
      "cli.no-redis",
      "no Redis to run on: pass --dev <folder> to run a folder's agents here, or --redis-url (or FREEHOLD_REDIS_URL) of a running `freehold dev`",
    );
  }
  const connection = environment?.connection ?? connectRedis(redisUrl, { maxRetriesPerRequest: null });
  const queues = environment?.queues ?? createAgentQueues(connection);
  try {
    const store = createRunStore(connection);
    const namespace =
      options.namespace ??
      environment?.runtimes.find((runtime) => runtime.agents.some((agent) => agent.name === options.agent))
        ?.namespace ??
      "default";
    await createAgentRegistry(connection).require(namespace, options.agent);
    // Who starts it is recorded first, so no approval of the run can come before the record.
    const runId = randomUUID();
    const starters = createRunStarters(connection, store);
    await starters.record(namespace, runId, localIdentity(options.environment.USER ?? userInfo().username));
    let run: RunState;
    try {
      run = await startRun(
        { redis: connection, store, queues },
        { namespace, agent: options.agent, input: options.input, runId },
      );
    } catch (error) {
      await starters.forget(namespace, runId);
      throw error;
    }
    let end: (RunEvent & { type: "run-end" }) | undefined;
    spinner.start("thinking");
    for await (const { id, event } of store.followEvents(namespace, run.id)) {
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
    if (end === undefined || !isTerminal(end.status)) {
      throw new FreeholdError("run.incomplete", `the event stream of run ${run.id} ended without run-end`);
    }
    return end;
  } finally {
    spinner.clear();
    if (environment === undefined) {
      await queues.close();
      connection.disconnect();
    } else {
      await environment.close();
    }
  }
}
