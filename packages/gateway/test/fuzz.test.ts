/**
 * The gateway fuzzed: schemathesis (PyPI, installed by `scripts/setup.sh --test` into
 * `.toolchain/schemathesis`) reads the OpenAPI document the gateway serves at `/openapi.json` and
 * sends it generated requests, valid and invalid, with a valid bearer token, against the real
 * gateway on loopback over a real Redis: first as an admin of the namespace (at least 1,000
 * requests), then, shorter, as a member who may not cancel runs and is not on the queue's members
 * (so that the refusals are held to the document too). A namespace is seeded first (agents with a runtime worker,
 * a run waiting for a person, its inbox item, a run waiting for an approval, a cancelled run) and
 * schemathesis picks those names and ids often, so the requests reach the handlers and not only
 * the 404s. The run is bounded (examples per operation, a timeout per request and on the child);
 * its figures come from schemathesis's own reports: every request and its status from the HAR
 * file, the failed checks from the JSON report. None may fail: no 5xx, no response outside the
 * document (status, content type, headers, schema).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ApprovalItem, InboxItem, RunState } from "@freehold/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCounterServer, type CounterServer } from "../../../test/fixtures/mcp/counter-server.ts";
import { authorization, request, startHarness, waitForStatus, world, type Harness } from "./harness.ts";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const schemathesis = join(root, ".toolchain/schemathesis/bin/schemathesis");

/**
 * Test cases per operation in the fuzzing phase (`FREEHOLD_FUZZ_EXAMPLES` changes it); with the
 * examples, coverage and stateful phases this makes about 1,800 requests in about a minute
 * here. The run ends when the phases are done; `--max-time` is not used, as schemathesis repeats
 * its phases until that budget is spent.
 */
const maxExamples = Number(process.env.FREEHOLD_FUZZ_EXAMPLES ?? 50);
/** The member's pass, which checks the refusals, is shorter. */
const memberExamples = Math.max(1, Math.round(maxExamples / 4));
/** The bound on a pass (`FREEHOLD_FUZZ_TIMEOUT_MS`): the child is killed past it, and the test fails. */
const childTimeoutMs = Number(process.env.FREEHOLD_FUZZ_TIMEOUT_MS ?? 300_000);
/** `FREEHOLD_FUZZ_SEED` replays a run with the seed it printed. */
const seedOption =
  process.env.FREEHOLD_FUZZ_SEED === undefined ? [] : ["--seed", process.env.FREEHOLD_FUZZ_SEED];

let harness: Harness;
let counter: CounterServer;
let workdir: string;
/** Keeps the reports of a failed run. */
let keep = process.env.FREEHOLD_FUZZ_KEEP !== undefined;

interface Seeded {
  readonly namespace: string;
  readonly runIds: readonly string[];
  readonly itemIds: readonly string[];
}

async function startAs(user: string, namespace: string, agent: string, input: string): Promise<string> {
  const started = await request(harness, "POST", `/v1/namespaces/${namespace}/agents/${agent}/runs`, {
    user,
    body: { input },
  });
  expect(started.status).toBe(201);
  return (started.body as RunState).id;
}

/** A missing fuzzer fails the test (counted as failed, never skipped), saying how to get it. */
function requireSchemathesis(): void {
  if (!existsSync(schemathesis)) {
    throw new Error(
      `schemathesis is not installed at ${schemathesis}: run scripts/setup.sh --test (it installs the pinned version from PyPI)`,
    );
  }
}

/** A namespace with something behind every kind of id the document has. */
async function seed(): Promise<Seeded> {
  const namespace = await world(
    harness,
    [
      { match: { anyMessageContains: "handed the conversation back" }, text: "Done." },
      { match: { toolName: "add" }, text: "Added." },
      {
        match: { role: "user", contains: "Add" },
        toolCalls: [{ name: "add", arguments: { a: 2, b: 3 } }],
      },
      {
        match: { role: "user" },
        toolCalls: [
          {
            name: "transfer_to_human_billing-desk",
            arguments: { summary: "Wants a refund.", reason: "Refunds need a person.", priority: "high" },
          },
        ],
      },
    ],
    {
      billing: {
        description: "Invoices.",
        handoffs: [{ humanQueue: "billing-desk" }],
        a2a: { enabled: true },
      },
      calculator: {
        tools: [{ mcpServer: "counter", allow: ["add"], requireApproval: ["add"] }],
        a2a: { enabled: true },
      },
    },
    {
      // Its members are the testers: mia, a member of the namespace but not of the desk, gets 403s.
      humanQueues: {
        "billing-desk": {
          description: "The billing team.",
          leaseSeconds: 120,
          members: [{ group: "testers" }],
        },
      },
      mcpServers: { counter: counter.url },
    },
  );
  // Started by ann, so tester (the fuzzer) may decide the approval: no self-approval in the way.
  const handedOver = await startAs("ann", namespace, "billing", "Where is my refund?");
  const waitingForApproval = await startAs("ann", namespace, "calculator", "Add 2 and 3.");
  const cancelled = await startAs("ann", namespace, "billing", "Never mind.");
  await waitForStatus(harness, namespace, handedOver, "waiting_for_human");
  await waitForStatus(harness, namespace, waitingForApproval, "waiting_for_approval");
  await waitForStatus(harness, namespace, cancelled, "waiting_for_human");
  expect(
    (await request(harness, "POST", `/v1/namespaces/${namespace}/runs/${cancelled}/cancel`)).status,
  ).toBe(200);
  const inbox = await request(harness, "GET", `/v1/namespaces/${namespace}/humanqueues/billing-desk/items`);
  const approvals = await request(harness, "GET", `/v1/namespaces/${namespace}/approvals`);
  const itemIds = [
    ...(inbox.body as { items: InboxItem[] }).items.map((item) => item.id),
    ...(approvals.body as { items: ApprovalItem[] }).items.map((item) => item.id),
  ];
  expect(itemIds.length).toBeGreaterThanOrEqual(2);
  return { namespace, runIds: [handedOver, waitingForApproval, cancelled], itemIds };
}

/**
 * schemathesis's configuration. Every check it has runs (its default), on every operation, but
 * for the two exceptions below, each for a reason that makes the check inapplicable there. The
 * seeded names and ids are dictionaries it draws from more than half of the time.
 */
function configuration(seeded: Seeded): string {
  const list = (values: readonly string[]): string =>
    `[${values.map((value) => JSON.stringify(value)).join(", ")}]`;
  return [
    "[dictionaries]",
    `namespaces = { values = ${list([seeded.namespace])} }`,
    `agents = { values = ${list(["billing", "calculator"])} }`,
    `queues = { values = ${list(["billing-desk"])} }`,
    `runs = { values = ${list(seeded.runIds)} }`,
    `items = { values = ${list(seeded.itemIds)} }`,
    "",
    "[parameters]",
    '"path.namespace" = { dictionary = "namespaces", probability = 0.6 }',
    '"path.agent" = { dictionary = "agents", probability = 0.6 }',
    '"path.queue" = { dictionary = "queues", probability = 0.6 }',
    '"path.runId" = { dictionary = "runs", probability = 0.6 }',
    '"path.itemId" = { dictionary = "items", probability = 0.6 }',
    "",
    // JSON-RPC 2.0 over HTTP (as A2A specifies it) answers a request it cannot take with a
    // JSON-RPC error object in a 200, never with a 4xx: the check that a body outside the schema
    // gets a 4xx does not apply to the JSON-RPC endpoint (its answers are still checked against
    // the document, JsonRpcResponse, like every other).
    // A body can be schema-valid or not and still be larger than the gateway takes (4 MiB; a byte
    // limit is no part of a JSON schema): 413 is a right answer to either.
    "[checks.positive_data_acceptance]",
    'expected-statuses = ["2xx", "3xx", 401, 403, 404, 409, 413, 429]',
    "[checks.negative_data_rejection]",
    "expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]",
    "",
    // The event stream of a run that waits for a person never ends, nor does a queue's feed, and
    // hypothesis, steering towards 2xx answers, asks for such streams again and again: the first
    // two messages and at most 3 s of each stream are what gets read and checked.
    "[[operations]]",
    'include-operation-id = ["runEvents", "inboxEvents", "agentJsonRpc"]',
    "max-stream-events = 2",
    "request-timeout = 3",
    "",
    "[[operations]]",
    'include-operation-id = "agentJsonRpc"',
    "checks.negative_data_rejection.enabled = false",
    "",
    // A cursor (or a feed position) is opaque: any string is schema-valid, and only the gateway can
    // tell one it gave from a made-up one of the same shape, which it refuses with a 400 (right).
    // So a schema-valid request may get a 400 here; every other status is still held to the rule.
    "[[operations]]",
    'include-operation-id = ["listInboxItems", "listApprovals", "listRuns", "inboxEvents"]',
    'checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", 400, 401, 403, 404, 409, 413, 429]',
    "",
  ].join("\n");
}

interface Outcome {
  readonly code: number | null;
  readonly output: string;
  readonly seconds: number;
}

function runSchemathesis(cwd: string, args: readonly string[]): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(schemathesis, args, {
      cwd,
      // PYTHONFAULTHANDLER and SIGABRT on timeout: a hung run dumps where each thread was.
      env: {
        ...process.env,
        NO_COLOR: "1",
        SCHEMATHESIS_TELEMETRY: "false",
        PYTHONUNBUFFERED: "1",
        PYTHONFAULTHANDLER: "1",
      },
      killSignal: "SIGABRT",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: childTimeoutMs,
    });
    let output = "";
    const append = (chunk: Buffer): void => {
      output = (output + chunk.toString("utf8")).slice(-200_000);
    };
    child.stdout.on("data", append);
    child.stderr.on("data", append);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      if (signal !== null) {
        reject(new Error(`schemathesis was stopped by ${signal} after ${childTimeoutMs} ms:\n${output}`));
        return;
      }
      resolve({ code, output, seconds: (performance.now() - started) / 1000 });
    });
  });
}

interface HarEntry {
  readonly request: { readonly method: string; readonly url: string };
  readonly response: { readonly status: number };
}

interface JsonReport {
  readonly operations: { readonly total: number; readonly tested: number; readonly errored: number } | null;
  readonly test_cases: {
    readonly generated: number;
    readonly with_failures: number;
    readonly errored: number;
  };
  readonly failures: readonly {
    readonly type: string;
    readonly title: string;
    readonly count: number;
    readonly operations: readonly string[];
  }[];
  readonly errors: readonly { readonly title: string; readonly count: number }[];
}

beforeAll(async () => {
  workdir = mkdtempSync(join(tmpdir(), "freehold-fuzz-"));
  counter = await startCounterServer({ transport: "http" });
  harness = await startHarness({
    // tester (the first pass) is an admin of every namespace, mia (the second) a member.
    people: { mia: ["members"] },
    policy: {
      bindings: [
        { namespace: "*", role: "admin", subjects: [{ group: "testers" }] },
        { namespace: "*", role: "member", subjects: [{ group: "members" }] },
      ],
    },
    gateway: {
      // The fuzzer is one caller sending as fast as it can: the rate limit is raised so that its
      // requests reach the handlers (429s are still documented and still checked).
      edge: { requestsPerSecond: 10_000, burst: 10_000 },
      // A blocking message/send answers within a second instead of a minute.
      a2aSendTimeoutMs: 1000,
    },
  });
});

afterAll(async () => {
  await harness.close();
  await counter.close();
  if (!keep) rmSync(workdir, { recursive: true, force: true });
});

/** What one pass of schemathesis did. */
interface Figures {
  readonly requests: number;
  readonly statuses: Record<number, number>;
  readonly operations: number;
  readonly "5xx": number;
  readonly violations: number;
  readonly seconds: number;
}

/**
 * One pass: a freshly seeded namespace, schemathesis run as `user` with `examples` test cases per
 * operation, its reports read and checked (no failed check, no error, no 5xx, every operation
 * tested); returns its figures.
 */
async function fuzzAs(user: string, examples: number): Promise<Figures> {
  const seeded = await seed();
  const folder = join(workdir, user);
  mkdirSync(folder);
  const configFile = join(folder, "schemathesis.toml");
  writeFileSync(configFile, configuration(seeded));
  const har = join(folder, "report.har");
  const report = join(folder, "report.json");
  const token = authorization(harness, user).authorization;
  const outcome = await runSchemathesis(folder, [
    "--config-file",
    configFile,
    "run",
    `${harness.url}/openapi.json`,
    "--header",
    `Authorization: ${token}`,
    "--phases",
    "examples,coverage,fuzzing,stateful",
    "--max-examples",
    String(examples),
    "--request-timeout",
    "10",
    // Generation speed is no property of the gateway, and CI runs other suites beside this one
    // on two cores: hypothesis's "too slow" health check would fail the run for the machine's sake.
    "--suppress-health-check",
    "too_slow",
    // One worker: hypothesis, in threads, trips over CPython 3.11's ast module now and then
    // ("AST constructor recursion depth mismatch"), a crash of the tool, not of the gateway.
    "--workers",
    "1",
    "--generation-database",
    "none",
    "--no-color",
    ...seedOption,
    "--report",
    "har,json",
    "--report-har-path",
    har,
    "--report-json-path",
    report,
  ]);
  if (!existsSync(report) || !existsSync(har)) {
    throw new Error(`schemathesis wrote no report (exit ${String(outcome.code)}):\n${outcome.output}`);
  }
  const summary = JSON.parse(readFileSync(report, "utf8")) as JsonReport;
  const entries = (JSON.parse(readFileSync(har, "utf8")) as { log: { entries: HarEntry[] } }).log.entries;
  const serverErrors = entries.filter((entry) => entry.response.status >= 500);
  const violations = summary.failures.filter((failure) => failure.type !== "ServerError");
  const statuses: Record<number, number> = {};
  for (const entry of entries) statuses[entry.response.status] = (statuses[entry.response.status] ?? 0) + 1;
  const figures = {
    requests: entries.length,
    statuses,
    operations: summary.operations?.tested ?? 0,
    testCases: summary.test_cases.generated,
    "5xx": serverErrors.length,
    violations: violations.reduce((sum, failure) => sum + failure.count, 0),
    errors: summary.errors.reduce((sum, error) => sum + error.count, 0),
    seconds: Math.round(outcome.seconds),
    seed: /^Seed: (\d+)$/m.exec(outcome.output)?.[1],
  };
  console.log(`schemathesis as ${user}: ${JSON.stringify(figures)}`);
  writeFileSync(join(folder, "output.txt"), outcome.output);
  if (outcome.code !== 0) {
    keep = true;
    console.log(
      `${outcome.output.slice(-20_000)}\nschemathesis's output, reports and configuration: ${folder}`,
    );
  }
  expect(summary.failures, `see ${join(folder, "output.txt")}`).toEqual([]);
  expect(summary.errors).toEqual([]);
  expect(
    serverErrors.map((entry) => `${entry.request.method} ${entry.request.url} ${entry.response.status}`),
  ).toEqual([]);
  expect(figures.operations).toBe(summary.operations?.total);
  expect(outcome.code).toBe(0);
  return figures;
}

describe("the gateway under schemathesis", () => {
  it(
    "answers 1,000+ generated requests as an admin with no 5xx and nothing outside its OpenAPI document",
    async () => {
      requireSchemathesis();
      const figures = await fuzzAs("tester", maxExamples);
      expect(figures.requests).toBeGreaterThanOrEqual(1000);
    },
    childTimeoutMs + 60_000,
  );

  it(
    "answers a member who may not cancel runs nor work the queue the same way: only what the document says",
    async () => {
      requireSchemathesis();
      const figures = await fuzzAs("mia", memberExamples);
      expect(figures.statuses[403]).toBeGreaterThan(0);
    },
    childTimeoutMs + 60_000,
  );
});
