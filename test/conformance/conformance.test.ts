/**
 * The conformance suite: every loop driver (drivers.ts) through the same scenarios (scenarios.ts),
 * on real parts: Redis, the scripted model server over HTTP, the counter MCP server, a runtime worker
 * in this process; and one row on worker processes started from the bundle, as the image starts
 * them, killed mid-run. A driver passes only if it passes every row; the table of results prints at
 * the end (also when a row fails).
 */
import type { RunEvent } from "@freehold/api";
import { cancelRun, createApprovals, createInbox, startRun } from "@freehold/handoff";
import { startScriptedModelServer, type ModelScriptInput } from "@freehold/models";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startScriptedWorld, type ScriptedWorld } from "../../packages/runtime/test/scripted-world.ts";
import { startCounterServer } from "../fixtures/mcp/counter-server.ts";
import { startRunServices, waitForStatus, type RunServices } from "../fixtures/run-services.ts";
import { writeScriptedConfig } from "../fixtures/scripted-config.ts";
import { countToolCalls, describeToolCalls } from "../integration/tool-call-accounting.ts";
import { crashRuns, type CrashedRuns } from "../integration/worker-fleet.ts";
import { drivers, type DriverUnderTest } from "./drivers.ts";
import { scenarios, type ConformanceContext } from "./scenarios.ts";

const crashRow = "worker killed mid-run, resumed";
const rows = [...scenarios.map((scenario) => scenario.name), crashRow];
/** Each driver's result per row: passed, or the first line of why not. */
const results = new Map<string, Map<string, string>>();

function record(driver: DriverUnderTest, row: string, outcome: string): void {
  const byRow = results.get(driver.name) ?? new Map<string, string>();
  byRow.set(row, outcome);
  results.set(driver.name, byRow);
}

/** Runs a row, recording its outcome for the table. */
async function row(driver: DriverUnderTest, name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
    record(driver, name, "pass");
  } catch (error) {
    record(
      driver,
      name,
      `FAIL: ${(error instanceof Error ? error.message : String(error)).split("\n")[0] ?? ""}`,
    );
    throw error;
  }
}

/** The table: one row per scenario, one column per driver. */
function table(): string {
  const width = Math.max(...rows.map((name) => name.length));
  const header = ["scenario".padEnd(width), ...drivers.map((driver) => driver.name)].join(" | ");
  const lines = rows.map((name) =>
    [name.padEnd(width), ...drivers.map((driver) => results.get(driver.name)?.get(name) ?? "not run")].join(
      " | ",
    ),
  );
  return [header, "-".repeat(header.length), ...lines].join("\n");
}

let services: RunServices;
const exporter = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer(
  "conformance",
);

beforeAll(async () => {
  services = await startRunServices();
});

afterAll(async () => {
  console.log(`conformance table:\n${table()}`);
  await services.stop();
});

describe.each(drivers)("driver $name", (driver) => {
  const worlds: ScriptedWorld[] = [];
  let callsBefore = 0;
  const parts = () => ({ redis: services.connection, store: services.store, queues: services.queues });

  beforeEach(() => {
    callsBefore = services.counter.calls().length;
    exporter.reset();
  });
  afterEach(async () => {
    for (const world of worlds.splice(0)) await world.close();
  });

  const context: ConformanceContext = {
    async world(script: ModelScriptInput, agents, humanQueues = {}) {
      const world = await startScriptedWorld({
        connection: services.connection,
        store: services.store,
        namespace: `c${Math.random().toString(36).slice(2, 10)}`,
        counterUrl: services.counter.url,
        script,
        agents: Object.fromEntries(
          Object.entries(agents).map(([name, spec]) => [
            name,
            { ...spec, framework: driver.framework, ...driver.spec },
          ]),
        ),
        humanQueues,
        tracer,
        ...(driver.drivers === undefined ? {} : { drivers: driver.drivers }),
        ...(driver.codeRoot === undefined ? {} : { codeRoot: driver.codeRoot }),
      });
      worlds.push(world);
      return world;
    },
    start: (namespace, agent, input) => startRun(parts(), { namespace, agent, input }),
    waitFor: (namespace, runId, status) => waitForStatus(services.store, namespace, runId, status),
    async events(namespace, runId): Promise<RunEvent[]> {
      return (await services.store.readEvents(namespace, runId)).map(({ event }) => event);
    },
    serverCalls: () => services.counter.calls().slice(callsBefore),
    async cancel(namespace, runId) {
      await cancelRun(services.store, namespace, runId);
    },
    get inbox() {
      return createInbox(parts());
    },
    get approvals() {
      return createApprovals(parts());
    },
    spans: () => exporter.getFinishedSpans(),
  };

  for (const scenario of scenarios) {
    it(scenario.name, { timeout: 60_000 }, () => row(driver, scenario.name, () => scenario.run(context)));
  }

  it(crashRow, { timeout: 180_000 }, () =>
    row(driver, crashRow, async () => {
      const namespace = `k${Math.random().toString(36).slice(2, 10)}`;
      const runs = 6;
      // A server of its own: its counts are this row's alone.
      const server = await startCounterServer({ transport: "http" });
      // Slow tool calls (400 ms at the server) and slow model answers, so that kills land in both.
      const model = await startScriptedModelServer({
        script: [
          { toolCalls: [{ name: "charge", arguments: { value: 1, delayMs: 400 } }], delayMs: 200 },
          { toolCalls: [{ name: "slow", arguments: { steps: 2, delayMs: 200 } }], delayMs: 200 },
          { text: "Charged and checked.", delayMs: 200 },
        ],
      });
      const configFile = writeScriptedConfig(
        join(mkdtempSync(join(tmpdir(), "freehold-conformance-")), "config.json"),
        {
          namespace,
          modelBaseUrl: model.baseUrl,
          agents: {
            recorder: {
              instructions: "Charge, then check.",
              tools: [{ mcpServer: "counter", allow: ["charge", "slow"] }],
              framework: driver.framework,
              ...driver.spec,
            },
          },
          mcpServers: { counter: server.url },
        },
      );
      let crashed: CrashedRuns | undefined;
      try {
        crashed = await crashRuns({
          redisUrl: services.redis.url,
          parts: parts(),
          configFile,
          ...(driver.codeRoot === undefined ? {} : { codeRoot: driver.codeRoot }),
          namespace,
          agent: "recorder",
          count: runs,
          maxKills: 12,
        });
        const { fleet, ids, kills, states } = crashed;
        expect(
          states.filter((state) => state.status !== "completed").map((state) => [state.id, state.status]),
        ).toEqual([]);
        const count = await countToolCalls({
          store: services.store,
          namespace,
          runIds: ids,
          counter: server,
          tools: ["charge", "slow"],
          readOnly: ["slow"],
        });
        console.log(
          `conformance crash row (${driver.name}): ${runs} runs, ${kills} workers killed, ` +
            `${fleet.resumed()} resumed; ${describeToolCalls(count)}`,
        );
        expect(count.problems).toEqual([]);
        expect(count.calls).toBe(runs * 2);
        expect(kills).toBeGreaterThan(0);
        expect(fleet.resumed()).toBeGreaterThan(0);
      } finally {
        crashed?.fleet.killAll();
        await model.close();
        await server.close();
      }
    }),
  );
});
