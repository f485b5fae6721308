/**
 * The framework adapters' examples (examples/adapters/<framework>), as their READMEs run them:
 * `freehold run --dev <folder>` against the scripted model server of the example's script, the
 * published filesystem MCP server over stdio. Each example's agent reads a note through its MCP tool
 * and hands the conversation to a human queue: the run must reach the queue, through the framework's
 * loop (an agent whose framework has no adapter in the worker fails instead). The example folder is
 * copied and its Model pointed at a server on a free port. Then Ctrl-C (SIGINT): the command says it
 * stopped (`cli.interrupted`, exit 130) and leaves none of its processes (Redis, MCP servers) behind.
 */
import { spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { RunEvent } from "@freehold/api";
import { startScriptedModelServer } from "@freehold/models";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

/** The processes whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after its last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return children;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
/** `codeTool`: a native example's own tool (not an MCP tool), which must run on the way. */
const examples: { framework: string; agent: string; queue: string; codeTool?: string }[] = [
  { framework: "vercel-ai", agent: "support", queue: "billing-desk" },
  { framework: "vercel-ai", agent: "support-code", queue: "billing-desk" },
  { framework: "openai-agents", agent: "support", queue: "billing-desk" },
  { framework: "mastra", agent: "support", queue: "billing-desk", codeTool: "list_charges" },
  { framework: "langgraph", agent: "support", queue: "billing-desk" },
];

describe.each(examples)(
  "examples/adapters/$framework, agent $agent",
  ({ framework, agent, queue, codeTool }) => {
    it("hands the conversation to people through the framework's loop", { timeout: 120_000 }, async () => {
      const source = join(root, "examples", "adapters", framework);
      const script: unknown = JSON.parse(readFileSync(join(source, "model-script.json"), "utf8"));
      const model = await startScriptedModelServer({ script: script as never });
      const folder = mkdtempSync(join(tmpdir(), `freehold-example-${framework}-`));
      try {
        // A native example's code imports its framework: the copy resolves it from the example's own.
        cpSync(source, folder, { recursive: true, filter: (path) => basename(path) !== "node_modules" });
        if (existsSync(join(source, "node_modules"))) {
          symlinkSync(join(source, "node_modules"), join(folder, "node_modules"), "dir");
        }
        const resources = join(folder, "resources.yaml");
        const text = readFileSync(resources, "utf8");
        expect(text).toContain(`framework: ${framework}`);
        writeFileSync(
          resources,
          text.replace(/baseUrl: http:\/\/127\.0\.0\.1:\d+\/v1/, `baseUrl: ${model.baseUrl}`),
        );
        const child = spawn(
          process.execPath,
          [
            join(root, "packages", "cli", "src", "bin.ts"),
            "run",
            "--dev",
            folder,
            "--json",
            agent,
            "I was charged twice for INV-7",
          ],
          { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
        );
        let stdout = "";
        let stderr = "";
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        // "close": after its output is read to the end.
        const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
        const handedOver = new Promise<RunEvent[]>((resolve, reject) => {
          child.stdout.on("data", (chunk: Buffer) => {
            stdout += chunk.toString();
            const events = stdout
              .split("\n")
              .filter((line) => line.startsWith("{"))
              .map((line) => RunEvent.parse(JSON.parse(line)));
            if (events.some((event) => event.type === "human-handoff")) resolve(events);
          });
          child.once("exit", (code) => {
            reject(new Error(`freehold run exited with ${code} before the handoff:\n${stdout}\n${stderr}`));
          });
        });
        const events = await handedOver;
        // Its Redis and MCP servers, to check they stop with it.
        const started = childrenOf(child.pid ?? -1);
        expect(started.length).toBeGreaterThan(0);
        child.kill("SIGINT");
        expect(await exited).toBe(130);
        expect(stderr).toMatch(
          /stopped before run \S+ ended; it ran in this process \(--dev\), and stopped with it \(cli\.interrupted\)/,
        );
        expect(started.filter(alive)).toEqual([]);
        const toolEnd = events.find((event) => event.type === "tool-call-end");
        expect(toolEnd).toMatchObject({ name: "read_text_file", isError: false });
        if (codeTool !== undefined) {
          const ends = events.filter((event) => event.type === "tool-call-end");
          expect(ends).toContainEqual(expect.objectContaining({ name: codeTool, isError: false }));
        }
        expect(events.find((event) => event.type === "human-handoff")).toMatchObject({
          queue,
          priority: "high",
        });
      } finally {
        rmSync(folder, { recursive: true, force: true });
        await model.close();
      }
    });
  },
);
