/**
 * The worker's startup snapshot (packages/cli/src/worker-snapshot.ts), as the runtime image uses it:
 * its `freehold` script starts `freehold worker` from the snapshot. On real parts (redis-server, the
 * scripted model server, the counter MCP server over streamable HTTP):
 * - a worker from the snapshot works a run through a tool call, serves /metrics (prom-client, loaded
 *   by deserialized code) and stops gracefully on SIGTERM; so does one whose MCP server is a stdio
 *   process it spawns;
 * - a worker the snapshot cannot serve (an agent on a framework adapter, which is loaded with
 *   `import()`) starts again from the bundle in the same process, says why, and works its run; so
 *   does one started with DEBUG set (read by the debug package under ioredis as it loads);
 * - a snapshot whose modules draw a UUID while it is built is refused. Node keeps a batch of random
 *   bytes for `crypto.randomUUID` in the heap: without the guard, every process started from such a
 *   snapshot draws the same UUIDs (shown here first).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startRun } from "@freehold/handoff";
import { afterAll, describe, expect, it } from "vitest";
import {
  buildSnapshot,
  bundleSnapshotScript,
  cliBundle,
  imageCommand,
  imageCommandEnvironment,
} from "../../packages/cli/scripts/build.ts";
import { writeScriptedConfig } from "../fixtures/scripted-config.ts";
import { useWorkerWorld } from "./worker-world.ts";

const namespace = "snapshot";
const world = useWorkerWorld({
  namespace,
  script: [
    { match: { contains: "Add" }, toolCalls: [{ name: "add", arguments: { a: 1, b: 2 } }] },
    { match: { toolName: "add" }, text: "It is 3." },
    { match: { contains: "Draft" }, text: "Drafted." },
  ],
  agents: { adder: { tools: [{ mcpServer: "counter", allow: ["add"] }] } },
  workers: { concurrency: 1, lockDurationSeconds: 30 },
});
const scratch = mkdtempSync(join(tmpdir(), "freehold-snapshot-"));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** A worker started by the image's `freehold`, with what it wrote and how it ended. */
function startWorker(configFile: string, extra: readonly string[] = [], environment: NodeJS.ProcessEnv = {}) {
  const child = spawn(
    imageCommand,
    ["worker", "--config", configFile, "--redis-url", world.redis.url, "--concurrency", "1", ...extra],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...imageCommandEnvironment(), ...environment } },
  );
  let log = "";
  child.stderr.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { child, log: () => log, exited };
}

/** The command line the process runs now (/proc): it changes when the process starts again. */
function commandLine(child: ChildProcess): string[] {
  return readFileSync(`/proc/${String(child.pid)}/cmdline`, "utf8")
    .split("\0")
    .filter(Boolean);
}

/** Starts a run of `agent` and waits until it has completed; returns its tool calls' results. */
async function runToEnd(
  agent: string,
  input: string,
): Promise<{ name: string; content: string; isError: boolean }[]> {
  const run = await startRun(
    { redis: world.connection, store: world.store, queues: world.queues },
    { namespace, agent, input },
  );
  await expect
    .poll(async () => (await world.store.require(namespace, run.id)).status, { timeout: 30_000 })
    .toMatch(/^(completed|failed)$/);
  const ended = await world.store.require(namespace, run.id);
  expect(ended.status, JSON.stringify(ended.error)).toBe("completed");
  return (await world.store.readEvents(namespace, run.id)).flatMap(({ event }) =>
    event.type === "tool-call-end"
      ? [{ name: event.name, content: event.content, isError: event.isError }]
      : [],
  );
}

describe("the worker's startup snapshot", () => {
  it("starts a worker that works a run with a tool call, serves /metrics and stops on SIGTERM", async () => {
    const port = await freePort();
    const worker = startWorker(world.configFile, ["--health-port", String(port)]);
    try {
      await expect.poll(worker.log, { timeout: 30_000 }).toContain("worker ready");
      expect(commandLine(worker.child)).toContain("--snapshot-blob");
      expect(worker.log()).not.toContain("starting from the bundle");
      const received = world.counter.calls().filter(({ tool }) => tool === "add").length;
      expect(await runToEnd("adder", "Add 1 and 2.")).toEqual([
        { name: "add", content: expect.stringContaining("3") as string, isError: false },
      ]);
      expect(world.counter.calls().filter(({ tool }) => tool === "add")).toHaveLength(received + 1);
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^freehold_runs_finished_total\{.*agent="adder".*\} 1$/m);
      worker.child.kill("SIGTERM");
      expect(await worker.exited).toBe(0);
      expect(worker.log()).toContain("worker stopped");
    } finally {
      worker.child.kill("SIGKILL");
    }
  }, 90_000);

  it("starts a worker whose MCP server is a stdio process it spawns", async () => {
    // child_process is one of the built-in modules Node has not verified in snapshots.
    const counter = join(import.meta.dirname, "..", "fixtures", "mcp", "counter-server.ts");
    const configFile = join(scratch, "stdio.json");
    const config = JSON.parse(readFileSync(world.configFile, "utf8")) as {
      mcpServers: { spec: Record<string, unknown> }[];
    };
    for (const server of config.mcpServers) {
      server.spec = { stdio: { command: process.execPath, args: [counter, "--stdio"] } };
    }
    writeFileSync(configFile, JSON.stringify(config));
    const worker = startWorker(configFile);
    try {
      await expect.poll(worker.log, { timeout: 30_000 }).toContain("worker ready");
      expect(commandLine(worker.child)).toContain("--snapshot-blob");
      const received = world.counter.calls().length;
      // The stdio server answered the tool call (not an error result the model answered anyway)...
      expect(await runToEnd("adder", "Add 1 and 2.")).toEqual([
        { name: "add", content: expect.stringContaining("3") as string, isError: false },
      ]);
      // ...and the HTTP one did not.
      expect(world.counter.calls()).toHaveLength(received);
      worker.child.kill("SIGTERM");
      expect(await worker.exited).toBe(0);
    } finally {
      worker.child.kill("SIGKILL");
    }
  }, 90_000);

  it("starts a worker it cannot serve again from the bundle, in the same process", async () => {
    const configFile = writeScriptedConfig(join(scratch, "framework.json"), {
      namespace,
      modelBaseUrl: world.model.baseUrl,
      agents: { drafter: { framework: "vercel-ai" } },
    });
    const worker = startWorker(configFile);
    try {
      await expect.poll(worker.log, { timeout: 30_000 }).toContain("worker ready");
      expect(worker.log()).toContain(
        "worker: starting from the bundle, not the startup snapshot: agent drafter runs on the vercel-ai framework",
      );
      // The same process (its id), now running the bundle.
      expect(commandLine(worker.child)).not.toContain("--snapshot-blob");
      expect(commandLine(worker.child)).toContain(cliBundle);
      await runToEnd("drafter", "Draft a note.");
      worker.child.kill("SIGTERM");
      expect(await worker.exited).toBe(0);
    } finally {
      worker.child.kill("SIGKILL");
    }
  }, 90_000);

  it("starts a worker with DEBUG set from the bundle, whose debug logs then work", async () => {
    const worker = startWorker(world.configFile, [], { DEBUG: "ioredis:redis" });
    try {
      await expect.poll(worker.log, { timeout: 30_000 }).toContain("worker ready");
      expect(worker.log()).toContain(
        "worker: starting from the bundle, not the startup snapshot: DEBUG is set (read as modules load)",
      );
      expect(commandLine(worker.child)).toContain(cliBundle);
      expect(worker.log()).toMatch(/ioredis:redis status\[/);
    } finally {
      worker.child.kill("SIGKILL");
    }
  }, 60_000);

  it("refuses to be built when a module draws a UUID as it loads", async () => {
    /** Builds a snapshot of `source` and prints what two processes started from it print. */
    const build = async (name: string, source: string) => {
      const entry = join(scratch, `${name}.ts`);
      writeFileSync(entry, source);
      await bundleSnapshotScript(entry, join(scratch, `${name}.cjs`));
      try {
        buildSnapshot(join(scratch, `${name}.cjs`), join(scratch, `${name}.blob`));
      } catch (error) {
        return { error: (error as Error).message, printed: [] };
      }
      const printed = [1, 2].map(
        () =>
          spawnSync(process.execPath, ["--snapshot-blob", join(scratch, `${name}.blob`)], {
            encoding: "utf8",
          }).stdout,
      );
      return { error: undefined, printed };
    };
    const drawsAtLoad = `
      import { randomUUID } from "node:crypto";
      import { startupSnapshot } from "node:v8";
      Object.assign(globalThis, { drawnAtLoad: randomUUID() });
      startupSnapshot.setDeserializeMainFunction(() => console.log(randomUUID()));
    `;
    const unguarded = await build("unguarded", drawsAtLoad);
    expect(unguarded.error).toBeUndefined();
    expect(unguarded.printed[0]).toMatch(/^[0-9a-f-]{36}\n$/);
    expect(unguarded.printed[1], "two processes draw the same UUID").toBe(unguarded.printed[0]);

    const guard = join(import.meta.dirname, "..", "..", "packages", "cli", "src", "snapshot-guard.ts");
    const guarded = await build("guarded", `import ${JSON.stringify(guard)};\n${drawsAtLoad}`);
    expect(guarded.error).toContain(
      "crypto.randomUUID was called while the worker's startup snapshot was being built",
    );
  }, 60_000);
});
