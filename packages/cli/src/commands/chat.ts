/**
 * `freehold chat <agent>`: a conversation at the terminal. Each line is one run of the agent; the
 * run's events stream as `freehold run` shows them (tool calls with arguments and results,
 * handoffs), and the next line starts a run that continues the conversation: it carries the
 * previous run's messages (`history` of {@link startRun}). Ctrl-C during a run cancels the run (as
 * the gateway's cancel does) and returns to the prompt; Ctrl-C or Ctrl-D at an empty prompt, or
 * `/exit`, leaves. From a pipe, each line is one turn.
 *
 * @module
 */
import { createInterface, type Interface } from "node:readline";
import { Transform, type Readable } from "node:stream";
import {
  FreeholdError,
  isFreeholdError,
  redactUrls,
  type ChatMessage,
  type RunEvent,
  type RunState,
} from "@freehold/api";
import { cancelRun } from "@freehold/handoff";
import type { Output } from "../output.ts";
import { colourStyle, plainStyle, renderEvent, type Style } from "../render-events.ts";
import { createSpinner } from "../spinner.ts";
import { openLocalRuns, type LocalRuns, type LocalRunsOptions } from "./local-runs.ts";

/** The longest line taken, in bytes. */
export const maxChatLineBytes = 16_384;

/** The most turns one chat holds; past it, start a new chat. */
export const maxChatTurns = 200;

export interface ChatOptions extends LocalRunsOptions {
  readonly agent: string;
  readonly namespace?: string;
  /** What the person types: a terminal, or a pipe. */
  readonly input: Readable & { readonly isTTY?: boolean };
  /** Where the prompt and the typed line echo go (the terminal). */
  readonly terminal: NodeJS.WritableStream;
}

/** How a chat went: turns answered and turns that did not complete. */
export interface ChatSummary {
  readonly completed: number;
  readonly failed: number;
}

/** Lines typed, in order, with Ctrl-C reported apart. */
interface LineSource {
  /** The next line, or undefined at the end of input (Ctrl-D, end of the pipe, Ctrl-C at an empty prompt). */
  next(): Promise<string | undefined>;
  /** Called on Ctrl-C while no line is awaited (during a run). */
  onInterrupt(listener: (() => void) | undefined): void;
  prompt(): void;
  close(): void;
}

/** Refuses a line longer than the bound before it is buffered whole (input from a pipe). */
function boundedLines(maxBytes: number): Transform {
  let sinceNewline = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      for (let start = 0; ;) {
        const newline = chunk.indexOf(0x0a, start);
        sinceNewline += (newline < 0 ? chunk.length : newline) - start;
        if (sinceNewline > maxBytes) {
          callback(
            new FreeholdError(
              "chat.line-too-long",
              `a line of input is longer than ${maxBytes} bytes; send less at once`,
            ),
          );
          return;
        }
        if (newline < 0) break;
        sinceNewline = 0;
        start = newline + 1;
      }
      callback(null, chunk);
    },
  });
}

function lineSource(options: ChatOptions, prompt: string): LineSource {
  const interactive = options.input.isTTY === true;
  const input = interactive ? options.input : options.input.pipe(boundedLines(maxChatLineBytes));
  const reader: Interface = createInterface({
    input,
    output: options.terminal,
    terminal: interactive,
    prompt,
    historySize: interactive ? 100 : 0,
  });
  const lines: string[] = [];
  let ended = false;
  let failure: Error | undefined;
  let waiting: (() => void) | undefined;
  let interrupt: (() => void) | undefined;
  const wake = (): void => {
    const resolve = waiting;
    waiting = undefined;
    resolve?.();
  };
  reader.on("line", (line) => {
    lines.push(line);
    wake();
  });
  reader.on("close", () => {
    ended = true;
    wake();
  });
  // readline passes its input's errors on (a line past the bound).
  reader.on("error", (error: Error) => {
    failure = error;
    ended = true;
    wake();
  });
  const onSigint = (): void => {
    if (interrupt !== undefined) {
      interrupt();
    } else if (reader.line === "") {
      ended = true;
      reader.close();
    } else {
      // Ctrl-C with text typed clears the line, as shells do.
      reader.write(null, { ctrl: true, name: "u" });
    }
  };
  // A terminal's Ctrl-C reaches readline as a key; a pipe's reader gets the signal.
  if (interactive) reader.on("SIGINT", onSigint);
  else process.on("SIGINT", onSigint);
  return {
    async next() {
      for (;;) {
        const line = lines.shift();
        if (line !== undefined) return line;
        if (failure !== undefined) throw failure;
        if (ended) return undefined;
        await new Promise<void>((resolve) => {
          waiting = resolve;
        });
      }
    },
    onInterrupt(listener) {
      interrupt = listener;
    },
    prompt() {
      if (interactive) reader.prompt();
    },
    close() {
      process.off("SIGINT", onSigint);
      reader.close();
    },
  };
}

/** What a person can do about a run that waits, said when it starts waiting. */
function waitingAdvice(event: RunEvent, runs: LocalRuns, style: Style): string | undefined {
  const gateway = style.dim(
    `(against a gateway on this Redis: freehold gateway --redis-url ${redactUrls(runs.redisUrl)})`,
  );
  if (event.type === "human-handoff") {
    return (
      `  People in human queue ${event.queue} have this conversation now. In another terminal: ` +
      `freehold inbox list ${event.queue}, then freehold inbox claim ${event.itemId} and freehold inbox answer ${event.itemId} "<message>" ${gateway}.\n` +
      `  Waiting for them; Ctrl-C cancels the run.`
    );
  }
  if (event.type === "approval-request") {
    return (
      `  The run waits for someone to approve ${event.tool}. In another terminal: freehold approvals list, ` +
      `then freehold approvals approve ${event.itemId} (or reject) ${gateway}.\n` +
      `  Waiting for the decision; Ctrl-C cancels the run.`
    );
  }
  return undefined;
}

/**
 * Chats until the person leaves.
 *
 * @example
 * ```ts
 * await chatCommand({ agent: "assistant", dev: "examples/quickstart", input: process.stdin, terminal: process.stdout, cwd, environment: process.env }, processOutput());
 * ```
 */
export async function chatCommand(options: ChatOptions, output: Output): Promise<ChatSummary> {
  const style = output.interactive ? colourStyle : plainStyle;
  const spinner = createSpinner(output);
  // The folder's start is told; after it the runs' own events say what happens, not the workers' log.
  let started = false;
  const runs = await openLocalRuns(options, (line) => {
    if (!started) output.stderr(`${style.dim(line)}\n`);
  });
  started = true;
  let lines: LineSource | undefined;
  let completed = 0;
  let failed = 0;
  try {
    let agent = options.agent;
    const namespace = runs.namespaceOf(agent, options.namespace);
    await runs.registry.require(namespace, agent);
    const interactive = options.input.isTTY === true;
    if (interactive) {
      output.stderr(
        `${style.bold(`chat with agent ${style.cyan(agent)}`)} in namespace ${namespace}. ` +
          `${style.dim("Ctrl-C cancels a run; /exit, Ctrl-D or Ctrl-C at an empty prompt leaves.")}\n`,
      );
    }
    lines = lineSource(options, `${style.bold("you ›")} `);
    let history: readonly ChatMessage[] = [];
    for (;;) {
      lines.prompt();
      const line = await lines.next();
      if (line === undefined || line.trim() === "/exit") break;
      const text = line.trim();
      if (text === "") continue;
      if (Buffer.byteLength(text) > maxChatLineBytes) {
        output.stderr(
          `${style.red("✗")} that line is longer than ${maxChatLineBytes} bytes; send less at once\n`,
        );
        continue;
      }
      if (completed + failed >= maxChatTurns) {
        throw new FreeholdError(
          "chat.too-long",
          `this chat has had ${maxChatTurns} turns, the most one chat holds; start a new freehold chat`,
        );
      }
      let run: RunState;
      try {
        run = await runs.start({ namespace, agent, input: text, history });
      } catch (error) {
        // A refused start (the tenant's runs this minute, a full Redis, the agent gone) is said, and the chat goes on.
        if (!isFreeholdError(error)) throw error;
        failed += 1;
        output.stderr(`${style.red("✘")} the run did not start: ${error.message} (${error.code})\n`);
        continue;
      }
      let cancelling = false;
      lines.onInterrupt(() => {
        if (cancelling) return;
        cancelling = true;
        spinner.clear();
        output.stdout(`${style.red("^C")} cancelling run ${run.id}…\n`);
        cancelRun(runs.store, namespace, run.id).catch((error: unknown) => {
          // It ended on its own in between: its run-end says how.
          if (!(isFreeholdError(error) && error.code === "run.finished")) {
            output.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n`);
          }
        });
      });
      let end: (RunEvent & { type: "run-end" }) | undefined;
      spinner.start("thinking");
      try {
        for await (const { event } of runs.store.followEvents(namespace, run.id)) {
          spinner.clear();
          if (event.type === "run-end") {
            end = event;
            break;
          }
          if (event.type !== "run-start") {
            const rendered = renderEvent(event, style);
            if (rendered !== "") output.stdout(`${rendered}\n`);
            const advice = waitingAdvice(event, runs, style);
            if (advice !== undefined) output.stdout(`${advice}\n`);
            if (event.type === "agent-transfer") agent = event.to;
          }
          const waits = event.type === "human-handoff" || event.type === "approval-request";
          spinner.start(
            event.type === "tool-call-start"
              ? `running ${event.toolCall.name}`
              : waits
                ? "waiting"
                : "thinking",
          );
        }
      } finally {
        spinner.clear();
        lines.onInterrupt(undefined);
      }
      if (end?.status === "completed") {
        completed += 1;
        history = (await runs.store.require(namespace, run.id)).messages;
        output.stdout(`${style.bold(`${agent} ›`)} ${end.output ?? ""}\n`);
        continue;
      }
      failed += 1;
      const status = end?.status ?? "incomplete";
      const reason = end?.error === undefined ? "" : `: ${end.error.message} (${end.error.code})`;
      output.stdout(
        `${style.red(`✘ run ${run.id} ${status}`)}${reason}. ` +
          `${style.dim("The conversation goes on from before that message.")}\n`,
      );
    }
    return { completed, failed };
  } finally {
    lines?.close();
    spinner.clear();
    if (runs.dev !== undefined && options.input.isTTY === true) {
      output.stderr(`${style.dim("stopping the folder's agents (a model call in flight finishes first)")}\n`);
    }
    await runs.close();
  }
}
