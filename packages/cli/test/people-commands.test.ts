/**
 * `freehold inbox`, `freehold approvals` and `freehold gateway` end to end: a real Redis, a gateway
 * served by `gatewayCommand`, a runtime worker with the scripted model and the counter MCP server;
 * the commands talk to the gateway over HTTP as a person would, each with their own token from
 * the token file that `freehold dev` writes (ann and bob added on the billing desk, as members);
 * and `freehold run` straight on Redis, whose starter (local:ann) may not approve the run's calls.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunState } from "@freehold/api";
import {
  cancelRun,
  createAgentQueues,
  createAgentRegistry,
  createQuotas,
  createRunStore,
  runStartedByKey,
  startRedisServer,
  startRun,
  writeTenancy,
  type AgentQueues,
  type RedisServer,
  type RunStore,
} from "@freehold/handoff";
import { startScriptedModelServer, type ScriptedModelServer } from "@freehold/models";
import { createRuntime, createRuntimeWorker, type Runtime, type RuntimeWorker } from "@freehold/runtime";
import { Command } from "commander";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startCounterServer, type CounterServer } from "../../../test/fixtures/mcp/counter-server.ts";
import { scriptedConfig } from "../../../test/fixtures/scripted-config.ts";
import { registerApprovalCommands } from "../src/commands/approvals.ts";
import { gatewayAuth } from "../src/commands/gateway-auth.ts";
import { gatewayCommand, registerGatewayCommand } from "../src/commands/gateway.ts";
import { registerInboxCommands } from "../src/commands/inbox.ts";
import { registerRunsCommand } from "../src/commands/runs.ts";
import { runCommand } from "../src/commands/run.ts";
import { devAuthFiles, writeDevAuth } from "../src/dev/dev-auth.ts";
import { captureOutput } from "../src/output.ts";

let redis: RedisServer;
let connection: Redis;
let store: RunStore;
let queues: AgentQueues;
let counter: CounterServer;
let model: ScriptedModelServer;
let runtime: Runtime;
let worker: RuntimeWorker;
let gatewayUrl: string;
let stopGateway: () => void;
let gatewayDone: Promise<void>;
const namespace = "desk";
let home: string;
const tokens = new Map<string, string>();

beforeAll(async () => {
  redis = await startRedisServer();
  connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  store = createRunStore(connection);
  queues = createAgentQueues(connection);
  counter = await startCounterServer({ transport: "http" });
  model = await startScriptedModelServer({
    script: [
      {
        match: { contains: "refund" },
        toolCalls: [
          {
            name: "transfer_to_human_billing-desk",
            arguments: {
              summary: "Wants a refund of INV-7.",
              reason: "Refunds need a person.",
              priority: "high",
            },
          },
        ],
      },
      {
        match: { contains: "add" },
        text: "Adding.",
        toolCalls: [{ name: "add", arguments: { a: 2, b: 3 } }],
      },
      { match: { toolName: "add" }, text: "The sum is 5." },
    ],
  });
  runtime = await createRuntime(
    scriptedConfig({
      namespace,
      modelBaseUrl: model.baseUrl,
      model: { maxRetries: 0 },
      agents: {
        billing: {
          tools: [{ mcpServer: "counter", allow: ["add"], requireApproval: ["add"] }],
          handoffs: [{ humanQueue: "billing-desk" }],
        },
      },
      mcpServers: { counter: counter.url },
      humanQueues: { "billing-desk": { description: "The billing team." } },
    }),
    { resolveSecret: () => Promise.reject(new Error("no secrets")) },
  );
  worker = createRuntimeWorker({ connection, store, agents: runtime.agents, sweepIntervalMs: 200 });
  await worker.ready();

  // What freehold dev writes for its user, then two people on the billing desk added by hand.
  home = mkdtempSync(join(tmpdir(), "freehold-people-"));
  const auth = writeDevAuth(devAuthFiles({ HOME: home }), "tester", [namespace]);
  expect(statSync(auth.tokenFile).mode & 0o777).toBe(0o600);
  expect(statSync(auth.policyFile).mode & 0o777).toBe(0o600);
  expect(readFileSync(auth.ownTokenFile, "utf8").trim()).toBe(auth.token);
  tokens.set("tester", auth.token);
  for (const user of ["ann", "bob"]) {
    const token = `${user}-${"0123456789abcdef".repeat(2)}`;
    tokens.set(user, token);
    appendFileSync(auth.tokenFile, `${token},${user},billing-desk\n`);
  }
  writeFileSync(
    auth.policyFile,
    `${readFileSync(auth.policyFile, "utf8")}  - namespace: ${namespace}\n    role: member\n    subjects: [{ group: billing-desk }]\n`,
  );
  const output = captureOutput();
  gatewayDone = gatewayCommand(
    {
      redisUrl: redis.url,
      port: 0,
      host: "127.0.0.1",
      auth: gatewayAuth(
        { tokenFile: auth.tokenFile, policyFile: auth.policyFile },
        {},
        process.cwd(),
        () => undefined,
      ),
    },
    output,
    new Promise((resolve) => {
      stopGateway = resolve;
    }),
  );
  gatewayUrl = await vi.waitFor(
    () => {
      const url = /^gateway at (http:\/\/127\.0\.0\.1:\d+)/.exec(output.out.join(""))?.[1];
      if (url === undefined) throw new Error("the gateway has not said where it listens yet");
      return url;
    },
    { timeout: 10_000 },
  );
});

afterAll(async () => {
  stopGateway();
  await gatewayDone;
  await worker.close();
  await runtime.close();
  await model.close();
  await counter.close();
  await queues.close();
  connection.disconnect();
  await redis.stop();
  rmSync(home, { recursive: true, force: true });
});

/** Runs `freehold <args>` with the people commands, as `user`, against the gateway. */
async function freehold(user: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const output = captureOutput();
  const program = new Command("freehold").exitOverride().configureOutput({
    writeOut: (text) => {
      output.stdout(text);
    },
    writeErr: (text) => {
      output.stderr(text);
    },
  });
  const context = {
    output,
    environment: {
      FREEHOLD_GATEWAY_URL: gatewayUrl,
      FREEHOLD_TOKEN: tokens.get(user) ?? "not-a-token-of-anyone",
      HOME: home,
    },
    stopped: () => Promise.resolve(),
  };
  registerInboxCommands(program, context);
  registerApprovalCommands(program, context);
  registerRunsCommand(program, context);
  registerGatewayCommand(program, context);
  await program.parseAsync([...args, "-n", namespace], { from: "user" });
  return { stdout: output.out.join(""), stderr: output.err.join("") };
}

async function waitFor(runId: string, status: RunState["status"]): Promise<void> {
  await expect
    .poll(async () => (await store.require(namespace, runId)).status, { timeout: 20_000, interval: 50 })
    .toBe(status);
}

describe("freehold inbox", () => {
  it("lists, claims and answers a conversation an agent handed over", async () => {
    const run = await startRun(
      { redis: connection, store, queues },
      { namespace, agent: "billing", input: "I want a refund" },
    );
    await waitFor(run.id, "waiting_for_human");

    const listed = await freehold("ann", "inbox", "list", "billing-desk");
    const [header, row] = listed.stdout.split("\n");
    expect(header).toMatch(/^ITEM\s+PRIORITY\s+STATUS\s+WAITING\s+AGENT\s+CLAIMED BY\s+SUMMARY$/);
    expect(row).toMatch(/\s+high\s+waiting\s+\d+[smhd]\s+billing\s+-\s+Wants a refund of INV-7\.$/);
    const itemId = row?.split(/\s+/)[0] ?? "";
    const json = await freehold("ann", "inbox", "list", "billing-desk", "--json");
    expect(JSON.parse(json.stdout)).toMatchObject({ id: itemId, runId: run.id });

    const claimed = await freehold("ann", "inbox", "claim", itemId);
    expect(claimed.stdout).toContain(`claimed ${itemId} in billing-desk as ann`);
    expect(claimed.stdout).toContain("summary:  Wants a refund of INV-7.");
    expect(claimed.stdout).toContain("  user:  I want a refund");
    expect(claimed.stderr).toContain(`freehold inbox answer ${itemId}`);
    await expect(freehold("bob", "inbox", "claim", itemId)).rejects.toMatchObject({
      code: "inbox.already-claimed",
      message: `item ${itemId} is already claimed by ann`,
    });
    await expect(freehold("ann", "inbox", "claim", itemId, "--lease", "3")).rejects.toMatchObject({
      code: "cli.invalid-option",
    });

    const answered = await freehold("ann", "inbox", "answer", itemId, "Refunded today.");
    expect(answered.stdout).toBe(`answered ${itemId}; run ${run.id} completed\n`);
    expect((await store.require(namespace, run.id)).output).toBe("Refunded today.");

    const empty = await freehold("ann", "inbox", "list", "billing-desk");
    expect(empty.stdout).toBe("");
    expect(empty.stderr).toBe(`no items in billing-desk (namespace ${namespace})\n`);
  });

  it("hands a conversation back and releases claims", async () => {
    const run = await startRun(
      { redis: connection, store, queues },
      { namespace, agent: "billing", input: "refund please" },
    );
    await waitFor(run.id, "waiting_for_human");
    const itemId = JSON.parse((await freehold("ann", "inbox", "list", "billing-desk", "--json")).stdout) as {
      id: string;
    };
    await freehold("ann", "inbox", "claim", itemId.id);
    expect((await freehold("ann", "inbox", "release", itemId.id)).stdout).toBe(
      `released ${itemId.id}; it waits in billing-desk again\n`,
    );
    await freehold("bob", "inbox", "claim", itemId.id);
    await expect(
      freehold("bob", "inbox", "hand-back", itemId.id, "x", "--agent", "nobody"),
    ).rejects.toMatchObject({
      code: "agent.not-found",
    });
    const handed = await freehold(
      "bob",
      "inbox",
      "hand-back",
      itemId.id,
      "Please add 2 and 3 for the customer.",
    );
    expect(handed.stdout).toMatch(
      new RegExp(`^handed ${itemId.id} back to agent billing; run ${run.id} is (queued|running)\\n$`),
    );
  });
});

describe("freehold approvals", () => {
  it("lists tool calls waiting for approval and approves one", async () => {
    const run = await startRun(
      { redis: connection, store, queues },
      { namespace, agent: "billing", input: "add 2 and 3" },
    );
    await waitFor(run.id, "waiting_for_approval");
    const listed = await freehold("ann", "approvals", "list", "--agent", "billing");
    const [header, ...rows] = listed.stdout.trim().split("\n");
    expect(header).toMatch(/^ITEM\s+AGENT\s+TOOL\s+ARGUMENTS\s+WAITING\s+REASON$/);
    const items = (await freehold("ann", "approvals", "list", "--json")).stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { id: string; runId: string });
    const itemId = items.find((item) => item.runId === run.id)?.id ?? "";
    const row = rows.find((line) => line.startsWith(itemId));
    expect(row).toMatch(/billing\s+counter\/add\s+\{"a":2,"b":3\}\s+\d+[smhd]\s+Adding\.$/);

    const approved = await freehold(
      "ann",
      "approvals",
      "approve",
      itemId,
      "--reason",
      "Small sums are fine.",
    );
    expect(approved.stdout).toBe(`approved ${itemId}; run ${run.id} resumes\n`);
    await waitFor(run.id, "completed");
    const events = (await store.readEvents(namespace, run.id)).map(({ event }) => event);
    expect(events).toContainEqual(
      expect.objectContaining({
        type: "approval-decision",
        approved: true,
        actor: "ann",
        reason: "Small sums are fine.",
      }),
    );
    await expect(freehold("ann", "approvals", "reject", itemId)).rejects.toMatchObject({
      code: "approval.not-found",
    });
    expect((await freehold("ann", "approvals", "list", "--agent", "nobody")).stderr).toBe(
      `no tool calls of agent nobody wait for approval (namespace ${namespace})\n`,
    );
  });

  it("refuses ann the approval of a run she started with freehold run on Redis (local:ann); bob decides it", async () => {
    const output = captureOutput();
    const running = runCommand(
      {
        agent: "billing",
        input: "add 2 and 3",
        namespace,
        redisUrl: redis.url,
        json: true,
        cwd: process.cwd(),
        environment: { USER: "ann" },
      },
      output,
    );
    const runId = await vi.waitFor(
      () => {
        const start = output.out
          .join("")
          .split("\n")
          .map((line) => (line === "" ? undefined : (JSON.parse(line) as { type: string; runId?: string })))
          .find((event) => event?.type === "run-start");
        if (start?.runId === undefined) throw new Error("the run has not started yet");
        return start.runId;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(await connection.get(runStartedByKey(namespace, runId))).toBe("local:ann");
    await waitFor(runId, "waiting_for_approval");
    const items = (await freehold("bob", "approvals", "list", "--json")).stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { id: string; runId: string });
    const itemId = items.find((item) => item.runId === runId)?.id ?? "";
    await expect(freehold("ann", "approvals", "approve", itemId)).rejects.toMatchObject({
      code: "auth.forbidden",
      message: expect.stringMatching(
        new RegExp(`^ann started run ${runId} \\(as local:ann\\) and may not approve its own call of add`),
      ) as unknown,
    });
    expect((await freehold("bob", "approvals", "approve", itemId)).stdout).toBe(
      `approved ${itemId}; run ${runId} resumes\n`,
    );
    expect(await running).toMatchObject({ type: "run-end", status: "completed" });
  });

  it("refuses a freehold run on Redis past its tenant's runsPerMinute, and writes nothing of it", async () => {
    const limited = "desk-limited";
    await writeTenancy(connection, {
      tenant: "limited",
      namespaces: [limited],
      limits: { runsPerMinute: 1 },
    });
    // An agent a worker serves there; this minute's one run is taken.
    await createAgentRegistry(connection).register(limited, { name: "billing", description: "", a2a: false });
    await createQuotas(connection).startRuns(limited);
    const before = await connection.keys(`freehold:${limited}*`);
    await expect(
      runCommand(
        {
          agent: "billing",
          input: "add 2 and 3",
          namespace: limited,
          redisUrl: redis.url,
          json: true,
          cwd: process.cwd(),
          environment: { USER: "ann" },
        },
        captureOutput(),
      ),
    ).rejects.toMatchObject({
      code: "quota.runs_exceeded",
      message: expect.stringContaining("tenant limited may start 1 runs per minute") as unknown,
    });
    expect(await connection.keys(`freehold:${limited}*`)).toEqual(before);
  });

  it("says what to do without a gateway, or when it cannot be reached", async () => {
    const output = captureOutput();
    const program = new Command("freehold").exitOverride();
    registerApprovalCommands(program, { output, environment: {}, stopped: () => Promise.resolve() });
    await expect(program.parseAsync(["approvals", "list"], { from: "user" })).rejects.toMatchObject({
      code: "cli.no-gateway",
    });
    await expect(
      freehold("ann", "approvals", "list", "--gateway-url", "http://127.0.0.1:1"),
    ).rejects.toMatchObject({ code: "gateway.unreachable" });
    // A gateway nobody could authenticate to does not start.
    const gatewayOutput = captureOutput();
    const gatewayProgram = new Command("freehold").exitOverride();
    registerGatewayCommand(gatewayProgram, {
      output: gatewayOutput,
      environment: { FREEHOLD_REDIS_URL: redis.url },
      stopped: () => Promise.resolve(),
    });
    await expect(
      gatewayProgram.parseAsync(["gateway", "--port", "0"], { from: "user" }),
    ).rejects.toMatchObject({
      code: "cli.no-authentication",
    });
    // A token nobody was given is refused.
    await expect(freehold("mallory", "inbox", "list", "billing-desk")).rejects.toMatchObject({
      code: "auth.unauthenticated",
    });
  });
});

describe("freehold runs", () => {
  it("lists the namespace's runs newest first, a page or all of them, as a table or JSON lines", async () => {
    const refund = await startRun(
      { redis: connection, store, queues },
      { namespace, agent: "billing", input: "I want a refund" },
    );
    const adding = await startRun(
      { redis: connection, store, queues },
      { namespace, agent: "billing", input: "add 2 and 3" },
    );
    await waitFor(refund.id, "waiting_for_human");
    await waitFor(adding.id, "waiting_for_approval");

    const listed = await freehold("ann", "runs", "--status", "waiting_for_human,waiting_for_approval");
    const [header, ...rows] = listed.stdout.trim().split("\n");
    expect(header).toMatch(/^RUN\s+AGENT\s+STATUS\s+STEPS\s+TOKENS\s+CREATED\s+UPDATED\s+DETAIL$/);
    expect(rows.findIndex((row) => row.startsWith(adding.id))).toBeLessThan(
      rows.findIndex((row) => row.startsWith(refund.id)),
    );
    expect(rows.find((row) => row.startsWith(refund.id))).toMatch(
      /\s+billing\s+waiting_for_human\s+1\s+\d+\s+\d+[smhd]\s+\d+[smhd]\s+waits for queue billing-desk$/,
    );
    expect(rows.find((row) => row.startsWith(adding.id))).toMatch(
      /waiting_for_approval .*waits for 1 approval\(s\)$/,
    );

    // Every run, a page of one at a time, is what the store holds.
    const all = (await freehold("bob", "runs", "--all", "--limit", "1", "--json")).stdout
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { id: string }).id);
    const stored: string[] = [];
    let page = await store.list(namespace);
    stored.push(...page.runs.map((run) => run.id));
    while (page.next !== undefined) {
      page = await store.list(namespace, { after: page.next });
      stored.push(...page.runs.map((run) => run.id));
    }
    expect(all).toEqual(stored);
    expect(all.slice(0, 2)).toEqual([adding.id, refund.id]);

    const first = await freehold("ann", "runs", "--limit", "1", "--json");
    expect(JSON.parse(first.stdout)).toMatchObject({ id: adding.id, status: "waiting_for_approval" });
    const cursor = /^more: add --cursor (\S+) \(or --all for every page\)$/m.exec(first.stderr)?.[1] ?? "";
    const second = await freehold("ann", "runs", "--limit", "1", "--json", "--cursor", cursor);
    expect(JSON.parse(second.stdout)).toMatchObject({ id: refund.id, status: "waiting_for_human" });

    expect((await freehold("ann", "runs", "--agent", "nobody")).stderr).toBe(
      `no runs (namespace ${namespace})\n`,
    );
    await expect(freehold("ann", "runs", "--status", "done")).rejects.toMatchObject({
      code: "cli.invalid-option",
      message: expect.stringContaining(
        '--status: unknown status "done"; give one of queued, running,',
      ) as unknown,
    });
    await expect(freehold("ann", "runs", "--limit", "0")).rejects.toMatchObject({
      code: "cli.invalid-option",
      message: '--limit must be a whole number from 1 to 500, not "0"',
    });
    await expect(freehold("ann", "runs", "--cursor", "made-up")).rejects.toMatchObject({
      code: "request.invalid",
    });
    await expect(freehold("mallory", "runs")).rejects.toMatchObject({ code: "auth.unauthenticated" });
    // Leave the desk and the approvals as they were.
    await cancelRun(store, namespace, refund.id);
    await cancelRun(store, namespace, adding.id);
  });
});

describe("freehold gateway", () => {
  it("serves the API on the Redis it is given", async () => {
    const health = await fetch(`${gatewayUrl}/readyz`);
    expect(await health.json()).toEqual({ status: "ready" });
    const anonymous = await fetch(`${gatewayUrl}/v1/namespaces/${namespace}/agents`);
    expect(anonymous.status).toBe(401);
    const agents = await fetch(`${gatewayUrl}/v1/namespaces/${namespace}/agents`, {
      headers: { authorization: `Bearer ${tokens.get("ann") ?? ""}` },
    });
    expect(await agents.json()).toMatchObject({ agents: [{ name: "billing" }] });
  });
});
