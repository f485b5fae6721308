/**
 * Workers under a tenant's Redis user, on real parts: a password-protected redis-server, users made
 * by applyTenantUser, the scripted model server, the counter MCP server. A whole conversation
 * (transfer, a tool call, a child run, people, back to the agent) runs with only the tenant's
 * credential and Redis refuses none of its commands: the ACL is enough. Then the quotas: a child run
 * past runsPerMinute is the delegation's error result, a run past tokensPerDay ends
 * `limit_exceeded`, and another tenant goes on. Quotas use a pinned clock.
 */
import type { RunEvent, RunState } from "@freehold/api";
import {
  createAgentQueues,
  createInbox,
  createQuotas,
  createRunStore,
  readTenantUsage,
  startRun,
  tokensUsageKey,
  type TenantLimits,
} from "@freehold/handoff";
import type { ModelScriptInput } from "@freehold/models";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTenantRedis, type TenantRedis } from "../../handoff/test/tenant-fixture.ts";
import { startCounterServer, type CounterServer } from "../../../test/fixtures/mcp/counter-server.ts";
import { startScriptedWorld } from "./scripted-world.ts";

const at = new Date();
const now = (): Date => at;

let redis: TenantRedis;
let admin: Redis;
let counter: CounterServer;

beforeAll(async () => {
  redis = await startTenantRedis();
  admin = redis.admin;
  counter = await startCounterServer({ transport: "http" });
});

afterAll(async () => {
  await counter.close();
  await redis.stop();
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A tenant with one namespace, served by a worker that has only the tenant's Redis credential. */
async function tenantWorld(
  tenant: string,
  limits: TenantLimits,
  script: ModelScriptInput,
  agents: Record<string, Record<string, unknown>>,
  humanQueues: Record<string, Record<string, unknown>> = {},
) {
  const namespace = tenant;
  const { url } = await redis.addTenant({ tenant, namespaces: [namespace, `${namespace}-dev`], limits });
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const store = createRunStore(connection);
  const queues = createAgentQueues(connection);
  const quotas = createQuotas(connection, { now });
  const world = await startScriptedWorld({
    connection,
    store,
    namespace,
    counterUrl: counter.url,
    script,
    agents,
    humanQueues,
    quotas,
  });
  cleanups.push(async () => {
    await world.close();
    await queues.close();
    connection.disconnect();
  });
  const waitFor = async (runId: string, status: RunState["status"]): Promise<RunState> => {
    await expect
      .poll(async () => (await store.require(namespace, runId)).status, { timeout: 20_000, interval: 50 })
      .toBe(status);
    return store.require(namespace, runId);
  };
  const events = async (runId: string): Promise<RunEvent[]> =>
    (await store.readEvents(namespace, runId)).map(({ event }) => event);
  const start = (agent: string, input: string) =>
    startRun({ redis: connection, store, queues, quotas }, { namespace, agent, input });
  return { namespace, connection, store, queues, model: world.model, start, waitFor, events };
}

describe("a tenant's worker on its own Redis credential", () => {
  it("runs a conversation through a transfer, a tool, a child run and people, with no command refused", async () => {
    await admin.call("ACL", "LOG", "RESET");
    const acme = await tenantWorld(
      "acme",
      { runsPerMinute: 100, tokensPerDay: 1_000_000 },
      [
        {
          match: { contains: "INV-7" },
          toolCalls: [{ name: "transfer_to_billing", arguments: { note: "Asks about invoice INV-7." } }],
        },
        {
          match: { contains: "Transferred to billing" },
          toolCalls: [{ name: "add", arguments: { a: 40, b: 2 } }],
        },
        {
          match: { toolName: "add" },
          toolCalls: [{ name: "ask_researcher", arguments: { input: "What is the history of customer 7?" } }],
        },
        {
          match: { toolName: "ask_researcher" },
          toolCalls: [
            {
              name: "transfer_to_human_billing-desk",
              arguments: { summary: "Customer 7 wants a refund of 42.", reason: "Refunds need a person." },
            },
          ],
        },
        { match: { contains: "handed the conversation back" }, text: "Your refund of 42 is on its way." },
        { match: { contains: "history" }, text: "Customer since 2019; pays on time." },
      ],
      {
        triage: { description: "Routes customers.", handoffs: [{ agent: "billing" }] },
        billing: {
          description: "Invoices and payments.",
          tools: [{ mcpServer: "counter", allow: ["add"] }, { agent: "researcher" }],
          handoffs: [{ humanQueue: "billing-desk" }],
        },
        researcher: { description: "Finds a customer's history." },
      },
      { "billing-desk": { description: "The billing team.", leaseSeconds: 60 } },
    );
    const inbox = createInbox({ redis: acme.connection, store: acme.store, queues: acme.queues });
    const run = await acme.start("triage", "Where is my refund for INV-7?");
    await acme.waitFor(run.id, "waiting_for_human");
    const [item] = await inbox.list(acme.namespace, "billing-desk");
    if (item === undefined) throw new Error("no inbox item");
    await inbox.claim(acme.namespace, item.id, "ann");
    await inbox.handBack(acme.namespace, item.id, "ann", { note: "Refund approved; tell the customer." });

    const done = await acme.waitFor(run.id, "completed");
    expect(done).toMatchObject({ agent: "billing", hops: 1, output: "Your refund of 42 is on its way." });
    expect(done.messages.find((message) => message.role === "tool" && message.name === "add")).toMatchObject({
      content: "42",
    });
    const history = (await acme.events(run.id)).map((event) => event.type);
    expect(history.filter((type) => !type.startsWith("tool-call") && type !== "model-call-end")).toEqual([
      "run-start",
      "agent-transfer",
      "delegation-start",
      "delegation-end",
      "human-handoff",
      "human-action",
      "human-action",
      "run-end",
    ]);
    // The parent and its child counted as two runs; every model call's tokens counted for the day.
    const usage = await readTenantUsage(admin, "acme", at);
    expect(usage.runsThisMinute).toBe(2);
    expect(usage.tokensToday).toBeGreaterThan(0);
    // What a worker writes when it lets go of a run alive (it stops mid-run, or retries an attempt).
    await acme.store.letGo(acme.namespace, run.id, {
      progress: "1/2/0",
      job: `${run.id}.r0`,
      jobStalls: 1,
      ttlSeconds: 60,
    });
    expect(await redis.refusedTo("freehold-tenant-acme")).toEqual([]);
  });
});

describe("quotas in the runtime", () => {
  it("answers a delegation past runsPerMinute with the quota's error, and the run goes on", async () => {
    const initech = await tenantWorld(
      "initech",
      { runsPerMinute: 1 },
      [
        {
          match: { contains: "customer 7" },
          toolCalls: [{ name: "ask_researcher", arguments: { input: "History?" } }],
        },
        { match: { toolName: "ask_researcher" }, text: "The researcher is busy; I will answer without it." },
      ],
      { billing: { tools: [{ agent: "researcher" }] }, researcher: { description: "Finds history." } },
    );
    const run = await initech.start("billing", "Tell me about customer 7.");
    const done = await initech.waitFor(run.id, "completed");
    expect(done.output).toBe("The researcher is busy; I will answer without it.");
    const result = done.messages.find(
      (message) => message.role === "tool" && message.name === "ask_researcher",
    );
    expect(result).toMatchObject({ isError: true });
    expect(result?.content).toMatch(
      /^agent researcher was not asked: tenant initech may start 1 runs per minute \(spec\.quotas\.runsPerMinute\) and started 1 this minute; retry in \d+ s/,
    );
    const history = await initech.events(run.id);
    expect(history.some((event) => event.type === "delegation-start")).toBe(false);
    expect(await readTenantUsage(admin, "initech", at)).toMatchObject({ runsThisMinute: 1 });
  });

  it("ends the run whose model call crosses tokensPerDay, ends the next one before the model, and leaves another tenant alone", async () => {
    const script: ModelScriptInput = [
      { match: { role: "user" }, toolCalls: [{ name: "add", arguments: { a: 1, b: 2 } }] },
      { match: { role: "tool" }, text: "3" },
    ];
    const agents = { adder: { tools: [{ mcpServer: "counter", allow: ["add"] }] } };
    const hooli = await tenantWorld("hooli", { tokensPerDay: 5 }, script, agents);
    const globex = await tenantWorld("globex", { tokensPerDay: 1_000_000 }, script, agents);

    const first = await hooli.start("adder", "What is 1 + 2?");
    const ended = await hooli.waitFor(first.id, "limit_exceeded");
    expect(ended).toMatchObject({
      limit: "tokensPerDay",
      steps: 1,
      error: {
        code: "limit.tokensPerDay",
        message: expect.stringContaining("spec.quotas.tokensPerDay") as unknown,
      },
    });
    const end = (await hooli.events(first.id)).at(-1);
    expect(end).toMatchObject({ type: "run-end", status: "limit_exceeded", limit: "tokensPerDay" });
    // The crossing call's tool calls were not made: none reached the server (the answer was
    // written while its tokens were counted, its call marked as started; the write that ended the
    // run took the mark back).
    expect((await hooli.events(first.id)).some((event) => event.type === "tool-call-end")).toBe(false);
    expect(counter.calls().filter((call) => call.idempotencyKey?.startsWith(first.id) === true)).toEqual([]);
    expect(ended.pendingToolCalls).toHaveLength(1);
    expect(ended.pendingToolCalls[0]?.startedAt).toBeUndefined();
    expect(hooli.model.requests).toHaveLength(1);
    const used = ended.usage.inputTokens + ended.usage.outputTokens;
    expect(await readTenantUsage(admin, "hooli", at)).toMatchObject({ tokensToday: used });

    const second = await hooli.start("adder", "What is 1 + 2?");
    expect(await hooli.waitFor(second.id, "limit_exceeded")).toMatchObject({
      limit: "tokensPerDay",
      steps: 0,
    });
    expect(hooli.model.requests).toHaveLength(1);

    const other = await globex.start("adder", "What is 1 + 2?");
    expect(await globex.waitFor(other.id, "completed")).toMatchObject({ output: "3", steps: 2 });
  });

  it("keeps an answer whose token count failed, takes its call's started mark back, and makes the call once on the retry", async () => {
    const script: ModelScriptInput = [
      { match: { role: "user" }, toolCalls: [{ name: "add", arguments: { a: 1, b: 2 } }] },
      { match: { role: "tool" }, text: "3" },
    ];
    const agents = { adder: { tools: [{ mcpServer: "counter", allow: ["add"] }] } };
    // No tokensPerDay: the check before a model call does not read the day's counter.
    const umbrella = await tenantWorld("umbrella", { runsPerMinute: 100 }, script, agents);
    // Redis refuses the count, and nothing else: the day's counter is a hash, not a number.
    const day = tokensUsageKey("umbrella", at);
    await admin.hset(day, "not", "a number");
    const run = await umbrella.start("adder", "What is 1 + 2?");
    // The first attempt wrote the answer (its call marked started), then took the mark back and
    // failed; the job waits a second before its retry. The counter is then mended.
    await expect
      .poll(async () => (await umbrella.store.require(umbrella.namespace, run.id)).revision, {
        timeout: 10_000,
        interval: 20,
      })
      .toBeGreaterThanOrEqual(2);
    await admin.del(day);
    const ended = await umbrella.waitFor(run.id, "completed");
    expect(ended.output).toBe("3");
    // The answer was kept: the retry did not ask the model that question again.
    expect(umbrella.model.requests).toHaveLength(2);
    // The call reached the server once, and no worker took it for one cut short by a crash.
    expect(counter.calls().filter((call) => call.idempotencyKey?.startsWith(run.id) === true)).toHaveLength(
      1,
    );
    const history = await umbrella.events(run.id);
    expect(history.some((event) => event.type === "tool-call-interrupted")).toBe(false);
    // The failed count is not made up: the day holds less than the run used.
    const used = ended.usage.inputTokens + ended.usage.outputTokens;
    expect((await readTenantUsage(admin, "umbrella", at)).tokensToday).toBeLessThan(used);
  });
});
