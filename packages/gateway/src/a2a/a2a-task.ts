/**
 * Runs seen as A2A tasks: the task id (and context id) is the run id, run statuses map to task
 * states, the conversation becomes the task's history and the final answer its artifact.
 *
 * @module
 */
import { FreeholdError, type RunEvent, type RunState, type RunStatus } from "@freehold/api";
import type {
  A2aMessage,
  Artifact,
  Task,
  TaskArtifactUpdateEvent,
  TaskState,
  TaskStatus,
  TaskStatusUpdateEvent,
} from "./a2a-schemas.ts";

const states: Record<RunStatus, TaskState> = {
  queued: "submitted",
  running: "working",
  // The run waits for a child run of another agent: from outside, the work goes on.
  waiting_for_agent: "working",
  waiting_for_human: "input-required",
  waiting_for_approval: "input-required",
  completed: "completed",
  failed: "failed",
  limit_exceeded: "failed",
  cancelled: "canceled",
};

/** The A2A task state of a run status. */
export function taskState(status: RunStatus): TaskState {
  return states[status];
}

function agentMessage(run: RunState, text: string, suffix: string): A2aMessage {
  return {
    kind: "message",
    role: "agent",
    parts: [{ kind: "text", text }],
    messageId: `${run.id}-${suffix}`,
    taskId: run.id,
    contextId: run.id,
  };
}

/** Why the run is where it is, in words, when that is not obvious from the state. */
function statusText(run: RunState): string | undefined {
  if (run.waiting?.kind === "human") {
    return `A person in human queue ${run.waiting.queue} will continue this conversation.`;
  }
  if (run.waiting?.kind === "approval") {
    const count = run.waiting.itemIds.length;
    return `Waiting for a person to approve ${count === 1 ? "a tool call" : `${count} tool calls`}.`;
  }
  if (run.status === "limit_exceeded") return `The run hit its limit ${run.limit ?? ""}.`.replace(" .", ".");
  if (run.status === "failed") return run.error?.message;
  return undefined;
}

/** The task status of a run. */
export function taskStatus(run: RunState): TaskStatus {
  const text = statusText(run);
  return {
    state: taskState(run.status),
    timestamp: run.updatedAt,
    ...(text === undefined ? {} : { message: agentMessage(run, text, `status-${run.revision}`) }),
  };
}

/** The run's answer as an artifact, once it has one. */
export function answerArtifact(output: string): Artifact {
  return { artifactId: "answer", name: "answer", parts: [{ kind: "text", text: output }] };
}

/** The conversation as A2A messages: the user's and the agent's text, without tool traffic. */
function history(run: RunState): A2aMessage[] {
  return run.messages.flatMap((message, index): A2aMessage[] => {
    if (message.role === "user") {
      return [
        {
          kind: "message",
          role: "user",
          parts: [{ kind: "text", text: message.content }],
          messageId: `${run.id}-${index}`,
          taskId: run.id,
          contextId: run.id,
        },
      ];
    }
    if (message.role === "assistant" && message.content !== "") {
      return [agentMessage(run, message.content, String(index))];
    }
    return [];
  });
}

/**
 * The task of a run.
 *
 * @example
 * ```ts
 * const task = runTask(await store.require("acme", runId), { historyLength: 10 });
 * task.status.state; // "working"
 * ```
 */
export function runTask(run: RunState, options: { readonly historyLength?: number } = {}): Task {
  const messages = history(run);
  const length = options.historyLength;
  return {
    kind: "task",
    id: run.id,
    contextId: run.id,
    status: taskStatus(run),
    history: length === undefined ? messages : length === 0 ? [] : messages.slice(-length),
    ...(run.output === undefined ? {} : { artifacts: [answerArtifact(run.output)] }),
    metadata: {
      "freehold.dev/run": {
        namespace: run.namespace,
        agent: run.agent,
        status: run.status,
        steps: run.steps,
        usage: run.usage,
      },
    },
  };
}

/** The events that may move a run to another task state (the others are steps within `working`). */
const statusEvents: ReadonlySet<RunEvent["type"]> = new Set([
  "run-start",
  "model-call-start",
  "model-call-end",
  "tool-call-start",
  "agent-transfer",
  "delegation-start",
  "delegation-end",
  "human-handoff",
  "human-action",
  "approval-request",
  "approval-decision",
]);

/** True when `event` may change the task's state, so the run is worth reading again. */
export function mayChangeState(event: RunEvent): boolean {
  return statusEvents.has(event.type);
}

/** The last updates of a task stream: the answer (if any), then the final status. */
export function endUpdates(
  runId: string,
  end: Extract<RunEvent, { type: "run-end" }>,
): (TaskArtifactUpdateEvent | TaskStatusUpdateEvent)[] {
  const updates: (TaskArtifactUpdateEvent | TaskStatusUpdateEvent)[] = [];
  if (end.output !== undefined) {
    updates.push({
      kind: "artifact-update",
      taskId: runId,
      contextId: runId,
      artifact: answerArtifact(end.output),
      lastChunk: true,
    });
  }
  const text =
    end.error?.message ??
    (end.status === "limit_exceeded" ? `The run hit its limit ${end.limit ?? ""}.` : undefined);
  updates.push({
    kind: "status-update",
    taskId: runId,
    contextId: runId,
    final: true,
    status: {
      state: taskState(end.status),
      timestamp: end.time,
      ...(text === undefined
        ? {}
        : {
            message: {
              kind: "message",
              role: "agent",
              parts: [{ kind: "text", text }],
              messageId: `${runId}-end`,
              taskId: runId,
              contextId: runId,
            },
          }),
    },
  });
  return updates;
}

/**
 * The run input of a message: its text parts, and its data parts as JSON, one per line. Files are
 * refused (`a2a.content-type-not-supported`): agents take text.
 */
export function messageInput(message: A2aMessage): string {
  const lines = message.parts.map((part) => {
    if (part.kind === "text") return part.text;
    if (part.kind === "data") return JSON.stringify(part.data);
    throw new FreeholdError(
      "a2a.content-type-not-supported",
      "file parts are not supported: send the content as text or data parts",
      { details: { field: "message.parts" } },
    );
  });
  const input = lines.join("\n").trim();
  if (input === "") {
    throw new FreeholdError("request.invalid", "invalid params: message.parts: the message has no text", {
      details: { in: "body", issues: [{ field: "message.parts", problem: "no text" }] },
    });
  }
  return input;
}
