/**
 * `freehold chat` as a person uses it: the real CLI in a real pseudo-terminal (tmux), a folder's
 * agent run in-process (`--dev`) on the scripted model server and the counter MCP server; a slow
 * scripted turn, so Ctrl-C lands while the model works. Keys go in
 * with `tmux send-keys`; the screen is read with `tmux capture-pane`, polled until the text appears.
 */
import { execFile, execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectRedis, createRunStore, freePort } from "@freehold/handoff";
import { startScriptedModelServer, type ScriptedModelServer } from "@freehold/models";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startCounterServer, type CounterServer } from "../../../test/fixtures/mcp/counter-server.ts";

const bin = join(import.meta.dirname, "..", "src", "bin.ts");
let model: ScriptedModelServer;
let counter: CounterServer;
const sockets: string[] = [];

function folder(): string {
  const directory = mkdtempSync(join(tmpdir(), "freehold-chat-"));
  writeFileSync(
    join(directory, "resources.yaml"),
    `apiVersion: freehold.dev/v1alpha1
kind: Model
metadata: {name: scripted}
spec: {provider: openai-compatible, model: scripted-model, baseUrl: "${model.baseUrl}", maxRetries: 0}
---
apiVersion: freehold.dev/v1alpha1
kind: MCPServer
metadata: {name: counter}
spec: {http: {url: "${counter.url}"}}
---
apiVersion: freehold.dev/v1alpha1
kind: Agent
metadata: {name: calculator}
spec:
  model: {ref: scripted}
  instructions: Add with the add tool.
  tools: [{mcpServer: counter, allow: [add]}]
---
apiVersion: freehold.dev/v1alpha1
kind: Agent
metadata: {name: careful}
spec:
  model: {ref: scripted}
  instructions: Add with the add tool, once someone approves.
  tools: [{mcpServer: counter, allow: [add], requireApproval: [add]}]
`,
  );
  return directory;
}

/** A terminal running one command, on its own tmux server. */
function terminal(command: readonly string[], cwd: string) {
  const socket = `freehold-chat-${randomUUID()}`;
  sockets.push(socket);
  const tmux = (...args: string[]): string =>
    execFileSync("tmux", ["-L", socket, "-f", "/dev/null", ...args], { encoding: "utf8" });
  const quoted = command.map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(" ");
  // The shell reports the exit code and keeps the pane, so the test can read it.
  tmux(
    "new-session",
    "-d",
    "-x",
    "200",
    "-y",
    "60",
    "-c",
    cwd,
    `env PATH='${process.env.PATH ?? ""}' ${quoted}; echo "[exited $?]"; sleep 600`,
  );
  const screen = (): string => tmux("capture-pane", "-p", "-J", "-S", "-500");
  return {
    screen,
    keys: (...keys: string[]) => tmux("send-keys", "-t", "0", ...keys),
    type: (text: string) => tmux("send-keys", "-t", "0", "-l", text),
    /** Polls the screen until `pattern` is on it; returns its match. */
    async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = screen();
        const match = pattern.exec(text);
        if (match !== null) return match;
        if (Date.now() > deadline) {
          throw new Error(`the screen did not show ${String(pattern)}; it shows:\n${text}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}

async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms: ${condition.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  model = await startScriptedModelServer({
    script: [
      { toolCalls: [{ name: "add", arguments: { a: 2, b: 3 } }], match: { contains: "What is 2 + 3" } },
      { text: "2 + 3 = 5", match: { role: "tool" } },
      // Matches only when the second run carries the first turn.
      {
        text: "You asked me what 2 + 3 is.",
        match: { contains: "What did I ask", anyMessageContains: "What is 2 + 3" },
      },
      // Slow enough that Ctrl-C lands while the model works on it. The worker lets a model call in
      // flight finish before it stops, so leaving the chat waits for this answer.
      { text: "One, two, three.", delayMs: 15_000, match: { contains: "slowly" } },
      { text: "Still here.", match: { contains: "still there", anyMessageContains: "What did I ask" } },
      { toolCalls: [{ name: "add", arguments: { a: 1, b: 1 } }], match: { contains: "with approval" } },
    ],
  });
  counter = await startCounterServer({ transport: "http" });
});

afterAll(async () => {
  await model.close();
  await counter.close();
});

afterEach(() => {
  for (const socket of sockets.splice(0)) {
    try {
      execFileSync("tmux", ["-L", socket, "kill-server"], { stdio: "ignore" });
    } catch {
      // A server whose last pane ended is gone already.
    }
  }
});

describe("freehold chat", () => {
  it(
    "holds a conversation, shows tool calls, cancels a run on Ctrl-C and leaves on /exit",
    { timeout: 120_000 },
    async () => {
      const screen = terminal([process.execPath, bin, "chat", "calculator", "--dev", "."], folder());
      await screen.waitFor(/chat with agent calculator in namespace default/);
      const redisUrl = (await screen.waitFor(/redis-server started at (redis:\/\/\S+)/))[1] ?? "";

      await screen.waitFor(/you › $/m);
      screen.type("What is 2 + 3?");
      screen.keys("Enter");
      await screen.waitFor(/step 1: scripted-model calls add \{"a":2,"b":3\}/);
      await screen.waitFor(/← add: 5/);
      await screen.waitFor(/calculator › 2 \+ 3 = 5\nyou › $/m);

      screen.type("What did I ask?");
      screen.keys("Enter");
      await screen.waitFor(/calculator › You asked me what 2 \+ 3 is\.\nyou › $/m);

      screen.type("Count slowly");
      screen.keys("Enter");
      await until(() =>
        model.requests.some((request) => JSON.stringify(request.messages).includes("Count slowly")),
      );
      screen.keys("C-c");
      const runId = (await screen.waitFor(/\^C cancelling run (\S+)…/))[1] ?? "";
      await screen.waitFor(
        /✘ run \S+ cancelled\. The conversation goes on from before that message\.\nyou › $/m,
      );
      const redis = connectRedis(redisUrl);
      try {
        expect((await createRunStore(redis).require("default", runId)).status).toBe("cancelled");
      } finally {
        redis.disconnect();
      }

      // The cancelled turn is not part of the conversation; the earlier ones are.
      screen.type("Are you still there?");
      screen.keys("Enter");
      await screen.waitFor(/calculator › Still here\.\nyou › $/m);

      screen.type("/exit");
      screen.keys("Enter");
      await screen.waitFor(/\[exited 0\]/, 60_000);
      expect(screen.screen()).not.toMatch(/\n\s+at /);
    },
  );

  it("says what to do when a run waits for approval, and Ctrl-C cancels the waiting run", async () => {
    const screen = terminal([process.execPath, bin, "chat", "careful", "--dev", "."], folder());
    const redisUrl = (await screen.waitFor(/redis-server started at (redis:\/\/\S+)/))[1] ?? "";
    await screen.waitFor(/you › $/m);
    screen.type("Add 1 and 1 with approval");
    screen.keys("Enter");
    const itemId = (await screen.waitFor(/\? add waits for approval item (\S+)/))[1] ?? "";
    await screen.waitFor(
      new RegExp(
        `The run waits for someone to approve add\\. In another terminal: freehold approvals list, then freehold approvals approve ${itemId} \\(or reject\\)`,
      ),
    );
    await screen.waitFor(/Waiting for the decision; Ctrl-C cancels the run\./);
    screen.keys("C-c");
    const runId = (await screen.waitFor(/\^C cancelling run (\S+)…/))[1] ?? "";
    await screen.waitFor(
      /✘ run \S+ cancelled\. The conversation goes on from before that message\.\nyou › $/m,
    );
    const redis = connectRedis(redisUrl);
    try {
      const run = await createRunStore(redis).require("default", runId);
      expect(run.status).toBe("cancelled");
      expect(run.waiting).toBeUndefined();
    } finally {
      redis.disconnect();
    }
    screen.keys("C-d");
    await screen.waitFor(/\[exited 0\]/);
  });

  it("leaves on Ctrl-C at an empty prompt, and clears a typed line on Ctrl-C", async () => {
    const screen = terminal([process.execPath, bin, "chat", "calculator", "--dev", "."], folder());
    await screen.waitFor(/you › $/m);
    screen.type("never sent");
    screen.keys("C-c");
    await screen.waitFor(/you › $/m);
    expect(screen.screen()).not.toContain("[exited");
    screen.keys("C-c");
    await screen.waitFor(/\[exited 0\]/);
  });

  it("refuses an unknown agent with a clear error", async () => {
    const screen = terminal([process.execPath, bin, "chat", "billing", "--dev", "."], folder());
    await screen.waitFor(/\[exited 1\]/);
    expect(screen.screen()).toContain(
      "error: agent billing not found in namespace default; agents: calculator, careful (agent.not-found)",
    );
  });

  it("takes one turn a line from a pipe", async () => {
    const screen = terminal(
      [
        "sh",
        "-c",
        `printf 'What is 2 + 3?\\nWhat did I ask?\\n' | '${process.execPath}' '${bin}' chat calculator --dev .`,
      ],
      folder(),
    );
    await screen.waitFor(/\[exited 0\]/);
    const text = screen.screen();
    expect(text).toContain("calculator › 2 + 3 = 5");
    expect(text).toContain("calculator › You asked me what 2 + 3 is.");
    expect(text).not.toContain("you ›");
  });

  it("refuses a Redis that does not answer, and a line past the bound, with clear errors", async () => {
    const chat = (args: readonly string[], input: string): Promise<{ code: number; stderr: string }> =>
      new Promise((resolve) => {
        const child = execFile(
          process.execPath,
          [bin, "chat", ...args],
          { cwd: folder(), timeout: 60_000, maxBuffer: 1_048_576 },
          (error, _stdout, stderr) => {
            resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stderr });
          },
        );
        child.stdin?.end(input);
      });
    const port = await freePort();
    const down = await chat(["calculator", "--redis-url", `redis://:secret@127.0.0.1:${port}`], "hi\n");
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(
      `error: Redis at redis://***@127.0.0.1:${port} does not answer (connect ECONNREFUSED 127.0.0.1:${port})`,
    );
    expect(down.stderr).toContain("(cli.redis-unreachable)");

    const long = await chat(["calculator", "--dev", "."], `${"a".repeat(20_000)}\n`);
    expect(long.code).toBe(1);
    expect(long.stderr).toContain(
      "error: a line of input is longer than 16384 bytes; send less at once (chat.line-too-long)",
    );
  });
});
