/**
 * Native mode with workers killed mid-run (worker processes started from the bundle, as the image
 * starts them, loading test/native-code/agents.ts): the code's own function tool is a durable tool
 * call, so a call that ran to its recorded end is never run again by the worker that resumes the
 * run, and every run ends.
 */
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startScriptedModelServer } from "@freehold/models";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startCounterServer } from "../../../../test/fixtures/mcp/counter-server.ts";
import { startRunServices, type RunServices } from "../../../../test/fixtures/run-services.ts";
import { writeScriptedConfig } from "../../../../test/fixtures/scripted-config.ts";
import { crashRuns, type CrashedRuns } from "../../../../test/integration/worker-fleet.ts";

const codeRoot = fileURLToPath(new URL("./native-code", import.meta.url));

let services: RunServices;
beforeAll(async () => {
  services = await startRunServices();
});
afterAll(() => services.stop());

it(
  "never runs a call of the code's own tool again once it ran, through workers killed mid-run",
  { timeout: 180_000 },
  async () => {
    const namespace = `k${Math.random().toString(36).slice(2, 10)}`;
    const folder = mkdtempSync(join(tmpdir(), "freehold-native-crash-"));
    const file = join(folder, "notes.txt");
    const runs = 6;
    const server = await startCounterServer({ transport: "http" });
    const model = await startScriptedModelServer({
      script: [
        { toolCalls: [{ name: "note", arguments: { file } }], delayMs: 200 },
        { toolCalls: [{ name: "charge", arguments: { value: 1, delayMs: 300 } }], delayMs: 200 },
        { text: "Noted and charged.", delayMs: 200 },
      ],
    });
    const configFile = writeScriptedConfig(join(folder, "config.json"), {
      namespace,
      modelBaseUrl: model.baseUrl,
      agents: {
        recorder: {
          framework: "openai-agents",
          code: { module: "agents.ts", export: "recorder" },
          instructions: "Note, then charge.",
          tools: [{ mcpServer: "counter", allow: ["charge"] }],
        },
      },
      mcpServers: { counter: server.url },
    });
    const { connection: redis, store, queues } = services;
    let crashed: CrashedRuns | undefined;
    try {
      crashed = await crashRuns({
        redisUrl: services.redis.url,
        parts: { redis, store, queues },
        configFile,
        codeRoot,
        namespace,
        agent: "recorder",
        count: runs,
        maxKills: 12,
      });
      const { fleet, kills, states } = crashed;
      expect(states.map((state) => state.status)).toEqual(states.map(() => "completed"));
      const lines = existsSync(file)
        ? readFileSync(file, "utf8")
            .split("\n")
            .filter((line) => line !== "")
        : [];
      // No call ran twice; every call with a result ran (once); an interrupted one at most once.
      expect(lines).not.toContain("?");
      expect(new Set(lines).size).toBe(lines.length);
      const noted = states.filter((state) =>
        state.messages.some(
          (message) => message.role === "tool" && message.name === "note" && message.content === "noted",
        ),
      ).length;
      expect(lines.length).toBeGreaterThanOrEqual(noted);
      expect(lines.length).toBeLessThanOrEqual(runs);
      expect(kills).toBeGreaterThan(0);
      expect(fleet.resumed()).toBeGreaterThan(0);
      console.log(
        `native crash: ${runs} runs, ${kills} workers killed, ${fleet.resumed()} resumed; note ran ${lines.length} times, ${noted} results`,
      );
    } finally {
      crashed?.fleet.killAll();
      await model.close();
      await server.close();
    }
  },
);
