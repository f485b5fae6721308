/**
 * `GET /v1/namespaces/{namespace}/runs` on a real gateway and Redis: a walk over its pages gives
 * every run once, newest first; the agent and status filters; who sees what (every run with `list
 * runs`, only one's own runs, and their child runs, with `create agents/runs` alone, nothing of
 * another tenant's namespace, 401 without a token); bad `limit`, `status` and `cursor` are 400s
 * that say what is wrong; a run that expired is no longer listed.
 */
import { randomUUID } from "node:crypto";
import type { RunList, RunState } from "@freehold/api";
import { createAgentRegistry, newRun } from "@freehold/handoff";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPolicyAuthorizer, type Authorizer, type Policy } from "../src/index.ts";
import { request, startHarness, type Harness } from "./harness.ts";

const suffix = randomUUID().slice(0, 6);
const acme = `acme-${suffix}`;
const globex = `globex-${suffix}`;

const policy: Policy = {
  bindings: [
    { namespace: "*", role: "admin", subjects: [{ group: "testers" }] },
    { namespace: acme, role: "admin", subjects: [{ user: "alice" }] },
    { namespace: acme, role: "member", subjects: [{ user: "bob" }] },
    { namespace: globex, role: "admin", subjects: [{ user: "greta" }] },
  ],
};

/**
 * The policy, and a role it has no name for, as a cluster's RBAC could grant: carol and dan may
 * start runs in acme (and see its agents), not list its runs.
 */
const policyAuthorizer = createPolicyAuthorizer(policy);
const authorizer: Authorizer = {
  async allowed(identity, access) {
    if (await policyAuthorizer.allowed(identity, access)) return true;
    if (!["carol", "dan"].includes(identity.user) || access.namespace !== acme) return false;
    const resource =
      access.subresource === undefined ? access.resource : `${access.resource}/${access.subresource}`;
    return (
      (resource === "agents/runs" && access.verb === "create") ||
      (resource === "agents" && ["get", "list"].includes(access.verb))
    );
  },
};

let harness: Harness;
/** Every run stored in acme, as started. */
const acmeRuns: RunState[] = [];
/** Who started each run of acme. */
const startedBy = new Map<string, string>();

async function start(user: string, namespace: string, agent: string): Promise<RunState> {
  const started = await request(harness, "POST", `/v1/namespaces/${namespace}/agents/${agent}/runs`, {
    user,
    body: { input: `Hello from ${user}` },
  });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  const run = started.body as RunState;
  if (namespace === acme) {
    acmeRuns.push(run);
    startedBy.set(run.id, user);
  }
  return run;
}

/** Every page of a listing as `user`, followed to its end. */
async function walk(
  user: string,
  namespace: string,
  query: Record<string, string> = {},
): Promise<{ items: RunList["items"]; pages: RunList[] }> {
  const pages: RunList[] = [];
  let cursor: string | undefined;
  do {
    const search = new URLSearchParams({ ...query, ...(cursor === undefined ? {} : { cursor }) });
    const response = await request(harness, "GET", `/v1/namespaces/${namespace}/runs?${search.toString()}`, {
      user,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const page = response.body as RunList;
    pages.push(page);
    cursor = page.nextCursor;
    expect(pages.length).toBeLessThan(500);
  } while (cursor !== undefined);
  return { items: pages.flatMap((page) => page.items), pages };
}

/** Newest first, runs of one millisecond by id descending. */
function newestFirst(runs: readonly RunState[]): string[] {
  return [...runs]
    .sort(
      (left, right) =>
        Date.parse(right.createdAt) - Date.parse(left.createdAt) ||
        Buffer.compare(Buffer.from(right.id), Buffer.from(left.id)),
    )
    .map((run) => run.id);
}

beforeAll(async () => {
  harness = await startHarness({
    people: { alice: [], bob: [], carol: [], dan: [], greta: [], nora: [] },
    policy,
    authorizer,
  });
  // Agents that are registered but have no worker: their runs stay queued.
  const registry = createAgentRegistry(harness.connection);
  for (const namespace of [acme, globex]) {
    for (const name of ["billing", "support"])
      await registry.register(namespace, { name, description: "", a2a: false });
  }
  for (let index = 0; index < 9; index += 1) {
    await start(
      ["alice", "carol", "dan"][index % 3] ?? "alice",
      acme,
      index % 3 === 2 ? "support" : "billing",
    );
  }
  // Five more created in one millisecond (straight in the store, with no recorded starter).
  const now = new Date();
  for (let index = 0; index < 5; index += 1) {
    const run = newRun({ id: `same-ms-${index}`, namespace: acme, agent: "billing", input: "Hi", now });
    await harness.store.create(run, []);
    acmeRuns.push(run);
  }
  // A child run of one of carol's (an agent used as a tool): hers to see too.
  const carols = acmeRuns.find((run) => startedBy.get(run.id) === "carol");
  const child = newRun({
    id: `${carols?.id ?? ""}-1-0`,
    namespace: acme,
    agent: "support",
    input: "Look it up",
    parent: { runId: carols?.id ?? "", toolCallId: "call-1", agent: "billing" },
  });
  await harness.store.create(child, []);
  acmeRuns.push(child);
  await start("greta", globex, "billing");
  await start("greta", globex, "support");
});

afterAll(async () => {
  await harness.close();
});

describe("listing runs", () => {
  it("walks every run exactly once, newest first, as summaries", async () => {
    const expected = newestFirst(acmeRuns);
    expect(expected).toHaveLength(15);
    for (const limit of ["1", "4", "15", "500"]) {
      const { items, pages } = await walk("alice", acme, { limit });
      expect(
        items.map((run) => run.id),
        `limit ${limit}`,
      ).toEqual(expected);
      expect(pages.length, `limit ${limit}`).toBe(Math.ceil(15 / Number(limit)));
      for (const page of pages) expect(page.items.length).toBeLessThanOrEqual(Number(limit));
    }
    const { items } = await walk("alice", acme);
    const child = items.find((run) => run.parent !== undefined);
    expect(child).toMatchObject({
      agent: "support",
      status: "queued",
      steps: 0,
      parent: { toolCallId: "call-1" },
    });
    for (const run of items) {
      expect(run).not.toHaveProperty("messages");
      expect(run).not.toHaveProperty("input");
      expect(run).toMatchObject({ namespace: acme, usage: { inputTokens: 0, outputTokens: 0 } });
    }
  });

  it("filters by agent and status", async () => {
    const [first, second] = acmeRuns.filter((run) => startedBy.get(run.id) === "alice");
    for (const run of [first, second]) {
      const cancelled = await request(
        harness,
        "POST",
        `/v1/namespaces/${acme}/runs/${run?.id ?? ""}/cancel`,
        {
          user: "alice",
        },
      );
      expect(cancelled.status).toBe(200);
    }
    const cancelledIds = [first?.id, second?.id];
    const ids = async (query: Record<string, string>): Promise<string[]> =>
      (await walk("alice", acme, { ...query, limit: "2" })).items.map((run) => run.id);
    expect(await ids({ agent: "support" })).toEqual(
      newestFirst(acmeRuns.filter((run) => run.agent === "support")),
    );
    expect(await ids({ status: "cancelled" })).toEqual(
      newestFirst(acmeRuns.filter((run) => cancelledIds.includes(run.id))),
    );
    expect(await ids({ status: "queued" })).toEqual(
      newestFirst(acmeRuns.filter((run) => !cancelledIds.includes(run.id))),
    );
    expect(await ids({ status: "cancelled,queued,cancelled" })).toEqual(newestFirst(acmeRuns));
    expect(await ids({ status: "cancelled", agent: "support" })).toEqual([]);
    expect(await ids({ agent: "nobody" })).toEqual([]);
    const listed = await walk("alice", acme, { status: "cancelled" });
    expect(listed.items[0]).toMatchObject({ status: "cancelled", finishedAt: expect.any(String) as unknown });
  });

  it("filters by who started a run and since when, and says who started each", async () => {
    const all = await walk("alice", acme);
    for (const run of all.items) {
      const starter = startedBy.get(run.id) ?? startedBy.get(run.parent?.runId ?? "");
      expect(run.startedBy, run.id).toBe(starter);
    }
    const ids = async (query: Record<string, string>): Promise<string[]> =>
      (await walk("alice", acme, { ...query, limit: "2" })).items.map((run) => run.id);
    const dans = acmeRuns.filter((run) => startedBy.get(run.id) === "dan");
    expect(dans.length).toBeGreaterThan(0);
    expect(await ids({ startedBy: "dan" })).toEqual(newestFirst(dans));
    expect(await ids({ startedBy: "nobody" })).toEqual([]);
    // Since the middle run's creation: that run and every newer one, and the walk ends there.
    const ordered = newestFirst(acmeRuns);
    const middle = acmeRuns.find((run) => run.id === ordered[Math.floor(ordered.length / 2)]);
    const since = middle?.createdAt ?? "";
    const newer = acmeRuns.filter((run) => Date.parse(run.createdAt) >= Date.parse(since));
    expect(await ids({ since })).toEqual(newestFirst(newer));
    expect(await ids({ since: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
    expect(
      await request(harness, "GET", `/v1/namespaces/${acme}/runs?since=yesterday`, { user: "alice" }),
    ).toMatchObject({ status: 400, body: { code: "request.invalid" } });
  });

  it("shows every run to who may list runs, and only their own (and their child runs) to who may only start them", async () => {
    const all = newestFirst(acmeRuns);
    expect((await walk("bob", acme)).items.map((run) => run.id)).toEqual(all);
    expect((await walk("tester", acme)).items.map((run) => run.id)).toEqual(all);
    const carols = acmeRuns.filter(
      (run) => startedBy.get(run.id) === "carol" || startedBy.get(run.parent?.runId ?? "") === "carol",
    );
    expect(carols.length).toBe(4);
    expect((await walk("carol", acme, { limit: "1" })).items.map((run) => run.id)).toEqual(
      newestFirst(carols),
    );
    const dans = acmeRuns.filter((run) => startedBy.get(run.id) === "dan");
    expect((await walk("dan", acme)).items.map((run) => run.id)).toEqual(newestFirst(dans));
    expect((await walk("dan", acme, { agent: "support" })).items.map((run) => run.id)).toEqual(
      newestFirst(dans.filter((run) => run.agent === "support")),
    );
    // Carol may start runs in acme, but not read one of dan's.
    const dansRun = dans[0]?.id ?? "";
    expect(
      (await request(harness, "GET", `/v1/namespaces/${acme}/runs/${dansRun}`, { user: "carol" })).status,
    ).toBe(403);
  });

  it("keeps tenants apart: another namespace is a 404, no token a 401", async () => {
    const globexRuns = (await walk("greta", globex)).items;
    expect(globexRuns.map((run) => run.namespace)).toEqual([globex, globex]);
    expect((await walk("alice", acme)).items.some((run) => run.namespace !== acme)).toBe(false);
    for (const user of ["alice", "bob", "carol", "nora"]) {
      const response = await request(harness, "GET", `/v1/namespaces/${globex}/runs`, { user });
      expect(response.status, user).toBe(404);
      expect(response.body).toMatchObject({
        code: "run.not-found",
        message: `no runs to list in namespace ${globex}: check its name, or ask its admins for a role there`,
      });
    }
    const greta = await request(harness, "GET", `/v1/namespaces/${acme}/runs`, { user: "greta" });
    expect(greta.status).toBe(404);
    const anonymous = await request(harness, "GET", `/v1/namespaces/${acme}/runs`, { user: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ code: "auth.unauthenticated" });
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer realm="freehold"/);
  });

  it("answers a bad limit, status or cursor with a 400 that says what is wrong", async () => {
    const bad = async (query: string): Promise<{ code: string; message: string }> => {
      const response = await request(harness, "GET", `/v1/namespaces/${acme}/runs?${query}`, {
        user: "alice",
      });
      expect(response.status, query).toBe(400);
      return response.body as { code: string; message: string };
    };
    expect(await bad("limit=0")).toEqual({
      code: "request.invalid",
      message: "invalid query parameter: limit: must be at least 1",
      details: expect.anything() as unknown,
    });
    expect((await bad("limit=501")).message).toBe("invalid query parameter: limit: must be at most 500");
    expect((await bad("limit=ten")).message).toBe("invalid query parameter: limit: must be a whole number");
    expect((await bad("status=done")).message).toBe(
      'invalid query parameter: status: unknown status "done": give one of queued, running, waiting_for_human, ' +
        "waiting_for_approval, waiting_for_agent, completed, failed, cancelled, limit_exceeded, or several joined by commas",
    );
    expect((await bad("status=queued,Running,")).message).toMatch(
      /^invalid query parameter: status: unknown status "Running", "": /,
    );
    expect((await bad("agent=Not_A_Name")).message).toMatch(/^invalid query parameter: agent: /);
    const cursorMessage =
      "invalid query parameter: cursor: not a cursor this gateway gave; pass nextCursor as it was, or leave cursor out to start over";
    expect((await bad("cursor=not-a-cursor")).message).toBe(cursorMessage);
    // A cursor of another list (the inbox's shape) is not one of this list.
    const inboxCursor = Buffer.from(JSON.stringify({ v: 1, after: "x", position: 3 })).toString("base64url");
    expect((await bad(`cursor=${inboxCursor}`)).message).toBe(cursorMessage);
  });
});

describe("runs that expired", () => {
  it("are no longer listed, and leave the index", async () => {
    const short = await startHarness({ gateway: { runRetentionSeconds: 1 } });
    try {
      const namespace = `expiry-${suffix}`;
      await createAgentRegistry(short.connection).register(namespace, {
        name: "billing",
        description: "",
        a2a: false,
      });
      const started = async (): Promise<string> => {
        const response = await request(short, "POST", `/v1/namespaces/${namespace}/agents/billing/runs`, {
          body: { input: "Hi" },
        });
        return (response.body as RunState).id;
      };
      const kept = await started();
      const ending = await started();
      expect((await request(short, "POST", `/v1/namespaces/${namespace}/runs/${ending}/cancel`)).status).toBe(
        200,
      );
      const listed = async (): Promise<string[]> =>
        ((await request(short, "GET", `/v1/namespaces/${namespace}/runs`)).body as RunList).items.map(
          (run) => run.id,
        );
      expect((await listed()).sort()).toEqual([kept, ending].sort());
      const indexed = async (): Promise<number> => {
        let count = 0;
        for (const key of await short.connection.keys(`freehold:${namespace}:*:runs`))
          count += await short.connection.zcard(key);
        return count;
      };
      expect(await indexed()).toBe(2);
      // Redis expires keys lazily and in an active cycle: poll, bounded.
      await expect.poll(listed, { timeout: 10_000, interval: 200 }).toEqual([kept]);
      expect(await indexed()).toBe(1);
    } finally {
      await short.close();
    }
  });
});
