/**
 * Renders run events for a person at a terminal: one line a step, the final answer at the end.
 * `--json` prints the events themselves instead, one JSON object a line.
 *
 * @module
 */
import type { RunEvent } from "@freehold/api";

/** Colours, or none (when the output is not a terminal). */
export interface Style {
  readonly dim: (text: string) => string;
  readonly bold: (text: string) => string;
  readonly green: (text: string) => string;
  readonly red: (text: string) => string;
  readonly cyan: (text: string) => string;
}

const ansi = (code: number) => (text: string) => `\u001b[${code}m${text}\u001b[0m`;
export const colourStyle: Style = {
  dim: ansi(2),
  bold: ansi(1),
  green: ansi(32),
  red: ansi(31),
  cyan: ansi(36),
};
export const plainStyle: Style = {
  dim: (text) => text,
  bold: (text) => text,
  green: (text) => text,
  red: (text) => text,
  cyan: (text) => text,
};

function shorten(text: string, length = 100): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length <= length ? line : `${line.slice(0, length - 1)}…`;
}

/**
 * The lines for one event, without trailing newline; empty when the event says nothing new.
 *
 * @example
 * ```ts
 * renderEvent({ type: "tool-call-end", name: "add", content: "3", isError: false, durationMs: 2, ... }, plainStyle);
 * // "  ← add: 3 (2 ms)"
 * ```
 */
export function renderEvent(event: RunEvent, style: Style): string {
  switch (event.type) {
    case "run-start":
      return `${style.bold("▶")} run ${style.dim(event.runId)} on agent ${style.cyan(event.agent)}: ${shorten(event.input)}`;
    case "model-call-start":
      return "";
    case "model-call-end": {
      const calls = event.message.toolCalls ?? [];
      const what =
        calls.length === 0
          ? "answered"
          : `calls ${calls.map((call) => `${style.cyan(call.name)} ${style.dim(shorten(call.arguments, 60))}`).join(", ")}`;
      const tokens = `${event.usage.inputTokens}+${event.usage.outputTokens} tokens`;
      return `  step ${event.step}: ${event.model} ${what} ${style.dim(`(${Math.round(event.durationMs)} ms, ${tokens})`)}`;
    }
    case "tool-call-start":
      return "";
    case "tool-call-end": {
      const content = shorten(event.content, 90);
      return `  ${event.isError ? style.red("✗") : "←"} ${event.name}: ${event.isError ? style.red(content) : content} ${style.dim(`(${Math.round(event.durationMs)} ms)`)}`;
    }
    case "tool-call-interrupted": {
      const what = { retry: "runs it again", fail: "not run again", ask: "a person decides" }[event.policy];
      return `  ${style.red("↯")} ${event.name} was running when its worker stopped: ${what} ${style.dim(`(onInterrupt: ${event.policy})`)}`;
    }
    case "agent-transfer":
      return `${style.bold("⇢")} transferred from ${event.from} to ${style.cyan(event.to)} (hop ${event.hop}): ${shorten(event.note)}`;
    case "delegation-start":
      return `  ${style.bold("⇢")} asks agent ${style.cyan(event.agent)} (run ${style.dim(event.childRunId)})`;
    case "delegation-end":
      return `  ⇠ agent run ${style.dim(event.childRunId)} ${event.status}`;
    case "human-handoff":
      return `${style.bold("☎")} handed to people in ${style.cyan(event.queue)} (${event.priority}): ${shorten(event.reason)} ${style.dim(`item ${event.itemId}`)}`;
    case "human-action": {
      const detail = event.message ?? event.agent ?? event.toQueue ?? "";
      return `  ☎ ${event.actor} ${event.action.replace("-", " ")}${detail === "" ? "" : `: ${shorten(detail)}`}`;
    }
    case "approval-request":
      return `  ${style.bold("?")} ${event.tool} waits for approval ${style.dim(`item ${event.itemId}`)}`;
    case "approval-decision":
      return `  ${event.approved ? style.green("✔") : style.red("✗")} ${event.actor} ${event.approved ? "approved" : "rejected"}${event.reason === undefined ? "" : `: ${shorten(event.reason)}`}`;
    case "run-end": {
      const summary = `${event.steps} steps, ${event.usage.inputTokens + event.usage.outputTokens} tokens`;
      if (event.status === "completed") {
        return `${style.green("✔ completed")} ${style.dim(`(${summary})`)}\n\n${event.output ?? ""}`;
      }
      const reason = event.error === undefined ? "" : `: ${event.error.message} (${event.error.code})`;
      return `${style.red(`✘ ${event.status}`)}${reason} ${style.dim(`(${summary})`)}`;
    }
  }
}
