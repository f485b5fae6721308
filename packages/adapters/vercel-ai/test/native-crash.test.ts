/**
 * Native mode with workers killed mid-run (SIGKILL, real worker processes): a tool of the agent's own
 * code that completed is never run again, and one a worker was running when it died follows its
 * policy (`fail`: not run again either). The code's tool writes a line to a ledger file when a call
 * starts and when it ends; the runs' model calls and the code tool's calls are slow, so kills land in
 * both.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startScriptedModelServer } from "@freehold/models";
import { afterAll, beforeAll, expect, it } from "vitest";
import { writeScriptedConfig } from "../../../../test/fixtures/scripted-config.ts";
import { startRunServices, type RunServices } from "../../../../test/fixtures/run-services.ts";
import { crashRuns, type CrashedRuns } from "../../../../test/integration/worker-fleet.ts";

let services: RunServices;
beforeAll(async () => {
  services = await startRunServices();
});
afterAll(() => services.stop());

it(
  "never runs a code tool call again after a worker dies, completed or in flight",
  { timeout: 180_000 },
  async () => {
    const folder = mkdtempSync(join(tmpdir(), "freehold-native-crash-"));
    const ledger = join(folder, "ledger.txt");
    writeFileSync(ledger, "");
    process.env["FREEHOLD_TEST_LEDGER"] = ledger; // the workers' environment
    const namespace = `k${Math.random().toString(36).slice(2, 10)}`;
    const model = await startScriptedModelServer({
      script: [
        { toolCalls: [{ name: "record", arguments: { value: 1 } }], delayMs: 200 },
        { toolCalls: [{ name: "record", arguments: { value: 2 } }], delayMs: 200 },
        { text: "Recorded.", delayMs: 200 },
      ],
    });
    const configFile = writeScriptedConfig(join(folder, "config.json"), {
      namespace,
      modelBaseUrl: model.baseUrl,
      agents: {
        recorder: {
          framework: "vercel-ai",
          code: { module: "ledger.ts", export: "ledgerAgent" },
        },
      },
    });
    let crashed: CrashedRuns | undefined;
    try {
      crashed = await crashRuns({
        redisUrl: services.redis.url,
        parts: { redis: services.connection, store: services.store, queues: services.queues },
        configFile,
        codeRoot: fileURLToPath(new URL("native-agents", import.meta.url)),
        namespace,
        agent: "recorder",
        count: 6,
        maxKills: 10,
      });
      const { fleet, kills, states } = crashed;
      expect(states.filter((state) => state.status !== "completed").map((state) => state.id)).toEqual([]);
      const lines = readFileSync(ledger, "utf8").split("\n").filter(Boolean);
      const starts = new Map<string, number>();
      for (const line of lines.filter((entry) => entry.startsWith("start "))) {
        const key = line.slice("start ".length);
        starts.set(key, (starts.get(key) ?? 0) + 1);
      }
      const ended = new Set(lines.filter((entry) => entry.startsWith("end ")).map((entry) => entry.slice(4)));
      // Every call ran at most once.
      expect([...starts].filter(([, count]) => count > 1)).toEqual([]);
      // The runs made two calls each. A call whose worker died mid-call is the run's error result
      // ("interrupted", policy fail), not a second run; so is one recorded as started whose worker died
      // before it reached the tool (no ledger line).
      const results = states.flatMap((state) =>
        state.messages.flatMap((message) => (message.role === "tool" ? [message] : [])),
      );
      expect(results).toHaveLength(6 * 2);
      expect(starts.size).toBeLessThanOrEqual(6 * 2);
      const interrupted = [...starts.keys()].filter((key) => !ended.has(key));
      const neverReached = 6 * 2 - starts.size;
      expect(results.filter((message) => message.isError === true).length).toBeGreaterThanOrEqual(
        interrupted.length + neverReached,
      );
      console.log(
        `native crash: 6 runs, ${kills} workers killed, ${fleet.resumed()} resumed; ` +
          `12 code tool calls, ${starts.size} reached the tool, ${ended.size} ran to their end, ` +
          `${interrupted.length} interrupted in flight, ${neverReached} before they reached it`,
      );
      expect(kills).toBeGreaterThan(0);
    } finally {
      crashed?.fleet.killAll();
      await model.close();
    }
  },
);
