/**
 * What a `freehold worker` process loads, started from the bundle (the modules its startup snapshot
 * holds), through its first run (a model call and a tool call over MCP): none of what a worker does not use.
 * Not the gateway, not the stdio bridge (the MCP SDK's server side and the HTTP adapter under it), not
 * the in-process model runtime, not the operator's Kubernetes client, not the frameworks of agents it
 * does not serve. Each of them costs start time and resident memory in every agent's pods. And it
 * never calls the global fetch (its model and MCP requests go through `httpFetch`, over `node:http`),
 * nor loads undici, Node's fetch, at all: a worker idles in 3.5 MiB less without the global fetch's
 * connection machinery, and in about 3 MiB less again without undici.
 */
import { readFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startRun } from "@freehold/handoff";
import { describe, expect, it } from "vitest";
import { cliBundleDirectory } from "../../packages/cli/scripts/build.ts";
import { useWorkerWorld } from "./worker-world.ts";

const namespace = "modules";
const hook = join(import.meta.dirname, "..", "fixtures", "module-loads.ts");
const world = useWorkerWorld({
  namespace,
  script: [
    { match: { contains: "Add" }, toolCalls: [{ name: "add", arguments: { a: 1, b: 2 } }] },
    { match: { toolName: "add" }, text: "It is 3." },
  ],
  agents: { adder: { tools: [{ mcpServer: "counter", allow: ["add"] }] } },
  // From the bundle's modules: what it loads is what this test reads. (The runtime image starts a
  // worker from its startup snapshot, which holds the same modules, already loaded.)
  workers: { concurrency: 1, lockDurationSeconds: 30, from: "bundle" },
});

/** What a worker has no use for, by the path of a module's source (or of the file loaded). */
const unused: readonly RegExp[] = [
  /\/packages\/gateway\//,
  /\/operators\//,
  /\/packages\/mcp\/src\/stdio-bridge\.ts$/,
  /\/@modelcontextprotocol\/sdk\/dist\/esm\/server\/(index|streamableHttp|mcp)\.js$/,
  /\/@hono\//,
  /\/node_modules\/hono\//,
  /\/@kubernetes\/client-node\//,
  /\/node_modules\/node-llama-cpp\//,
  /\/node_modules\/(ai|@ai-sdk\/[^/]+|@mastra\/core|@langchain\/[^/]+|@openai\/agents(-core)?)\//,
];

describe("a worker's modules", () => {
  it("loads none of what a worker does not use, through its first run", async () => {
    const worker = world.fleet.start({ NODE_OPTIONS: `--import ${hook}` });
    const exited = new Promise((done) => worker.once("close", done));
    await expect.poll(() => world.fleet.log(), { timeout: 30_000 }).toContain("worker ready");
    const run = await startRun(
      { redis: world.connection, store: world.store, queues: world.queues },
      { namespace, agent: "adder", input: "Add 1 and 2." },
    );
    await expect
      .poll(async () => (await world.store.require(namespace, run.id)).status, { timeout: 30_000 })
      .toMatch(/^(completed|failed)$/);
    const ended = await world.store.require(namespace, run.id);
    expect(ended.status, JSON.stringify(ended.error)).toBe("completed");
    worker.kill("SIGTERM");
    await exited;

    const loaded = [
      ...new Set(
        [...world.fleet.log().matchAll(/^module-load (file:\S+)$/gm)].map(([, url = ""]) =>
          fileURLToPath(url),
        ),
      ),
    ];
    const chunks = loaded.filter((file) => file.startsWith(cliBundleDirectory));
    expect(chunks.length, "the worker loads the bundle's chunks").toBeGreaterThan(3);
    // Each chunk's sources, from its source map (a chunk without one only re-exports another's names).
    const sources = chunks.flatMap((chunk) => {
      if (!existsSync(`${chunk}.map`)) {
        expect(readFileSync(chunk, "utf8").length, `${chunk} has no source map`).toBeLessThan(1024);
        return [];
      }
      const map = JSON.parse(readFileSync(`${chunk}.map`, "utf8")) as { sources: string[] };
      return map.sources.map((source) => resolve(dirname(chunk), source));
    });
    expect(sources.some((source) => source.endsWith("/packages/runtime/src/worker.ts"))).toBe(true);
    for (const pattern of unused) {
      expect(
        [...loaded, ...sources].filter((path) => pattern.test(path)),
        `${pattern}`,
      ).toEqual([]);
    }
    expect(world.fleet.log(), "the worker called the global fetch").not.toMatch(/^global-fetch /m);
    // Nor anything else of undici, Node's fetch: not the global Headers or Response (the MCP SDK's
    // transport and httpFetch build their own), not node:http imported as a module (which loads it).
    expect(world.fleet.log(), "undici was loaded").toMatch(/^undici-loaded no$/m);
    const bytes = chunks.reduce((sum, chunk) => sum + readFileSync(chunk).length, 0);
    process.stderr.write(
      `worker modules: ${chunks.length} chunks of the bundle, ${Math.round(bytes / 1024)} KiB; ${loaded.length - chunks.length} other files\n`,
    );
  }, 120_000);
});
