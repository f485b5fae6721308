/**
 * Runs in flight through a Redis killed and restarted without an ACL file, on a tenant's credential
 * only: a real kube-apiserver (with its controller manager), a real redis-server (the default user
 * with a password, append-only), the operator in this process with that Redis as admin, and a
 * `freehold worker` process started with exactly what the operator rendered for an Agent of the
 * tenant `acme` (its ConfigMap, command and environment, the Secret `freehold-redis` read as the
 * kubelet would). Each run calls the counter MCP server's `slow` tool twice: a short call, then a
 * long one. While the long calls run, redis-server is SIGKILLed and started again on the same port
 * and data folder: the tenants' ACL users are gone until the operator re-applies them (Event
 * `RedisUserRecreated`). The worker reconnects with the password it was started with, every run
 * completes once, no call that had completed before the kill runs again (counted at the MCP server,
 * which de-duplicates nothing), and acme's credential is still refused on globex's keys.
 *
 * The boundary (packages/runtime/README.md): a tool call in flight when its result could not be
 * checkpointed is sent again with the same idempotency key; `slow` does not de-duplicate, so such a
 * call runs twice at the server. The suite prints how many did.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { isTerminal, type RunState } from "@freehold/api";
import {
  createAgentQueues,
  createRunStore,
  startRedisServer,
  startRun,
  tenantUserName,
  type RedisServer,
} from "@freehold/handoff";
import { KubeConfig } from "@kubernetes/client-node";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCounterServer, type CounterServer } from "../../../test/fixtures/mcp/counter-server.ts";
import { createOperator, type Operator } from "../src/operator.ts";
import { condition, probeClient, refusal, type Stored } from "./tenancy-fixture.ts";
import { eventually, getJson, startOperatorTestCluster, type OperatorTestCluster } from "./test-cluster.ts";
import { renderedWorker, secretValue as readSecretValue, startFreehold } from "./worker-from-deployment.ts";

const operatorNamespace = "freehold-system";
const adminPassword = "admin-password-of-the-restarted-redis";
const namespace = "acme";
const agent = "slowpoke";
const runs = 10;
/** The long call: long enough that every run is in it when Redis is killed. */
const longCall = { steps: 16, delayMs: 250 };
const shortCall = { steps: 1, delayMs: 10 };
/** Another tenant's key, written with its own credential before the kill. */
const globexKey = "freehold:globex:probe";
const globexValue = "globex's own value";

let test: OperatorTestCluster;
let redis: RedisServer;
let counter: CounterServer;
let operator: Operator;
let operatorRedis: Redis;
let admin: Redis;
let directory: string;
let worker: { child: ChildProcess; output: () => string } | undefined;
/** What the worker was started with, as the kubelet would have given it. */
let workerRedisUrl = "";
const operatorLogs: string[] = [];
const children: ChildProcess[] = [];

/** Starts a `freehold` command; resolves with the first stdout/stderr text matching `ready`. */
const freehold = (args: readonly string[], environment: Readonly<Record<string, string>>, ready: RegExp) =>
  startFreehold(args, environment, ready, children);

async function kubectlOk(args: readonly string[], input?: string): Promise<string> {
  const result = await test.kubectl(args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

async function apply(objects: readonly object[]): Promise<void> {
  await kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
}

const secretValue = (secretNamespace: string, name: string, key: string): Promise<string> =>
  readSecretValue(test.kubectl, secretNamespace, name, key);

/** The reasons of the Events about a Tenant (cluster-scoped: they are in `default`). */
async function tenantEvents(name: string): Promise<string[]> {
  const events = await getJson<{ items: { reason: string }[] }>(test.kubectl, [
    "-n",
    "default",
    "events",
    `--field-selector=involvedObject.name=${name},involvedObject.kind=Tenant`,
  ]);
  return events.items.map((event) => event.reason);
}

/** A connection that fails at once instead of retrying, for probes. */
async function connect(url: string): Promise<Redis> {
  const client = probeClient(url);
  await client.connect();
  return client;
}

/** The users of the connections Redis has open (`CLIENT LIST`, as the admin). */
async function connectedUsers(): Promise<string[]> {
  const list = (await admin.call("CLIENT", "LIST")) as string;
  return list
    .split("\n")
    .map((line) => /(?:^| )user=(\S+)/.exec(line)?.[1])
    .filter((user): user is string => user !== undefined);
}

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "freehold-tenant-redis-restart-"));
  [test, redis, counter] = await Promise.all([
    startOperatorTestCluster(),
    startRedisServer({ password: adminPassword, appendOnly: true }),
    startCounterServer({ transport: "http" }),
  ]);
  admin = new Redis(redis.url, { maxRetriesPerRequest: 2 });
  admin.on("error", () => undefined);
  operatorRedis = new Redis(redis.url, { maxRetriesPerRequest: 2 });
  operatorRedis.on("error", () => undefined);
  await kubectlOk(["create", "namespace", operatorNamespace]);
  // Stand-ins for the chart's ClusterRoles the Tenant reconciler binds.
  await apply(
    ["freehold-workload-manager", "freehold-tenant-admin"].map((name) => ({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name },
      rules: [{ apiGroups: ["freehold.dev"], resources: ["agents"], verbs: ["get"] }],
    })),
  );
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(test.cluster.kubeconfig);
  operator = createOperator({
    kubeConfig,
    translate: { runtimeImage: "ghcr.io/freehold/runtime:0.1.0", workerRedisUrl: redis.url },
    servedNamespaces: [],
    operatorNamespace,
    operatorServiceAccount: "freehold-operator",
    redis: operatorRedis,
    // The counter MCP server runs on 127.0.0.1.
    mcpServer: { retryMs: 5_000, timeoutMs: 2_000, allowInternalAddresses: true },
    log: (line) => operatorLogs.push(line),
  });
  await operator.start();
  await apply(
    (["acme", "globex"] as const).map((name) => ({
      apiVersion: "freehold.dev/v1alpha1",
      kind: "Tenant",
      metadata: { name },
      spec: {
        namespaces: [name],
        admins: [{ group: `${name}:platform` }],
        quotas: { agents: 5, runsPerMinute: 600 },
      },
    })),
  );
  for (const name of ["acme", "globex"]) {
    await eventually(async () => {
      expect(condition(await getJson<Stored>(test.kubectl, ["tenant", name]), "Ready")).toMatchObject({
        status: "True",
      });
    }, 60_000);
  }
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await operator.stop();
  admin.disconnect();
  operatorRedis.disconnect();
  await Promise.all([test.stop(), redis.stop(), counter.close()]);
  rmSync(directory, { recursive: true, force: true });
});

describe("acme's worker, started with what the operator rendered", () => {
  it("reads only acme's Redis credential, from the Secret freehold-redis", async () => {
    const script = join(directory, "model-script.json");
    writeFileSync(
      script,
      JSON.stringify({
        model: "scripted-slow",
        turns: [
          { toolCalls: [{ name: "slow", arguments: shortCall }] },
          { toolCalls: [{ name: "slow", arguments: longCall }] },
          { text: "Both steps are done." },
        ],
      }),
    );
    const model = await freehold(["model", "serve", "--script", script], {}, /at (http:\/\/\S+\/v1)/);
    const baseUrl = model.match[1] ?? "";
    await apply([
      {
        apiVersion: "freehold.dev/v1alpha1",
        kind: "Model",
        metadata: { name: "scripted", namespace },
        spec: { provider: "openai-compatible", model: "scripted-slow", baseUrl },
      },
      {
        apiVersion: "freehold.dev/v1alpha1",
        kind: "MCPServer",
        metadata: { name: "counter", namespace },
        spec: { http: { url: counter.url } },
      },
      {
        apiVersion: "freehold.dev/v1alpha1",
        kind: "Agent",
        metadata: { name: agent, namespace },
        spec: {
          model: { ref: "scripted" },
          instructions: "Do the short step, then the long one, with the slow tool.",
          tools: [{ mcpServer: "counter", allow: ["slow"] }],
          limits: { maxSteps: 6 },
          runtime: { concurrency: runs },
        },
      },
    ]);
    const { args, environment } = await renderedWorker({
      kubectl: test.kubectl,
      namespace,
      agent,
      directory,
      secrets: ["freehold-redis"],
      timeoutMs: 60_000,
    });
    workerRedisUrl = environment.FREEHOLD_REDIS_URL ?? "";
    const url = new URL(workerRedisUrl);
    expect(decodeURIComponent(url.username)).toBe(tenantUserName("acme"));
    expect(url.port).toBe(String(redis.port));
    for (const value of Object.values(environment)) expect(value).not.toContain(adminPassword);
    expect(args).toContain(String(runs)); // --concurrency: every run at once
    worker = await freehold(args, environment, /worker ready/);
  }, 120_000);
});

describe("a Redis SIGKILLed while runs are in flight, restarted without an ACL file", () => {
  const ids: string[] = [];

  it("gets acme's user back from the operator; the worker reconnects and every run ends once", async () => {
    if (worker === undefined) throw new Error("the worker did not start (see the test before)");
    const running = worker;
    const secretPassword = await secretValue(namespace, "freehold-redis", "password");
    // Another tenant's data, written with its own credential, to check acme cannot reach it after.
    const globex = await connect(await secretValue("globex", "freehold-redis", "url"));
    expect(await globex.set(globexKey, globexValue)).toBe("OK");
    globex.disconnect();
    expect(await tenantEvents("acme")).not.toContain("RedisUserRecreated");

    // Runs started with acme's credential, a quarter of a second apart, so their long calls are at
    // different points when Redis goes.
    const acme = new Redis(workerRedisUrl, { maxRetriesPerRequest: null });
    const starter = { redis: acme, store: createRunStore(acme), queues: createAgentQueues(acme) };
    for (let index = 0; index < runs; index++) {
      ids.push((await startRun(starter, { namespace, agent, input: `job ${index}` })).id);
      await delay(250);
    }
    await starter.queues.close();
    acme.disconnect();
    const longCalls = (): number =>
      counter.calls().filter((call) => call.arguments.steps === longCall.steps).length;
    await eventually(() => {
      if (longCalls() < runs)
        throw new Error(
          `only ${longCalls()} of ${runs} runs reached their long call; worker log:\n${running.output()}`,
        );
    }, 60_000);

    // Every run is in its long call (4 s each): kill Redis, keep it down 2 s so that the earliest
    // calls end while it is gone, then start it on the same port and data folder, without ACL file.
    await redis.kill();
    await delay(2_000);
    await redis.restart();
    const userAtFirstLook = (await admin.call("ACL", "GETUSER", tenantUserName("acme"))) !== null;
    await eventually(async () => {
      const reasons = await tenantEvents("acme");
      if (!reasons.includes("RedisUserRecreated"))
        throw new Error(`no RedisUserRecreated Event for acme; its Events: ${reasons.join(", ")}`);
      expect(await tenantEvents("globex")).toContain("RedisUserRecreated");
    }, 60_000);

    // Observed as the admin: acme's credential is held by the worker alone from here on.
    const store = createRunStore(admin);
    let states: RunState[] = [];
    await eventually(async () => {
      states = await Promise.all(ids.map((id) => store.require(namespace, id)));
      const open = states.filter((state) => !isTerminal(state.status));
      if (open.length > 0)
        throw new Error(
          `${open.length} of ${runs} runs did not end (${open.map((state) => `${state.id} ${state.status}`).join(", ")}); ` +
            `worker log:\n${running.output()}`,
        );
    }, 120_000);
    expect(
      states.filter((state) => state.status !== "completed").map((state) => [state.id, state.status]),
    ).toEqual([]);
    for (const id of ids) {
      const ends = (await store.readEvents(namespace, id)).filter(({ event }) => event.type === "run-end");
      expect(ends, `run-end events of run ${id}`).toHaveLength(1);
    }

    // The same worker process, on the same password: no rotation, no restart.
    expect(running.child.exitCode).toBeNull();
    expect(await secretValue(namespace, "freehold-redis", "password")).toBe(secretPassword);
    expect(await secretValue(namespace, "freehold-redis", "url")).toBe(workerRedisUrl);
    expect(await connectedUsers()).toContain(tenantUserName("acme"));

    // Executions as the MCP server saw them, grouped by the call's idempotency key.
    const calls = counter.calls().filter((call) => call.tool === "slow");
    const executions = (steps: number, id: string): Map<string, number> => {
      const byKey = new Map<string, number>();
      for (const call of calls) {
        if (call.arguments.steps !== steps || call.idempotencyKey?.startsWith(`${id}-`) !== true) continue;
        byKey.set(call.idempotencyKey, (byKey.get(call.idempotencyKey) ?? 0) + 1);
      }
      return byKey;
    };
    // A failed attempt is what the worker logs when a run's step could not be checkpointed.
    const log = running.output();
    const failedAttempts = (id: string): number =>
      log.split("\n").filter((line) => line.startsWith(`run ${id}: attempt `) && line.includes(" failed"))
        .length;
    const reruns: string[] = [];
    for (const id of ids) {
      // The short call had completed (and been checkpointed) before the kill: it never runs again.
      expect([...executions(shortCall.steps, id).values()], `short call of run ${id}`).toEqual([1]);
      // The long call was in flight: one call (one key), sent again only by a retry of its run.
      const long = [...executions(longCall.steps, id).entries()];
      expect(long, `long call of run ${id}`).toHaveLength(1);
      const [key, count] = long[0] ?? ["", 0];
      expect(count, `executions of ${key}`).toBeGreaterThanOrEqual(1);
      expect(count - 1, `re-executions of ${key} beyond the failed attempts of its run`).toBeLessThanOrEqual(
        failedAttempts(id),
      );
      if (count > 1) reruns.push(`${key} x${count}`);
    }
    expect(calls.every((call) => ids.some((id) => call.idempotencyKey?.startsWith(`${id}-`)))).toBe(true);
    const seen = (pattern: RegExp): number => log.split("\n").filter((line) => pattern.test(line)).length;
    console.log(
      `tenant Redis restart: ${runs} runs completed (one run-end each); ${calls.length} slow executions at the ` +
        `MCP server (${runs} short, ${calls.length - runs} long); ${reruns.length} long calls in flight at the ` +
        `kill ran twice${reruns.length > 0 ? ` (${reruns.join(", ")})` : ""}; acme's user there at the first ` +
        `look after the restart: ${userAtFirstLook}; worker log: ${seen(/ECONNREFUSED/)} ECONNREFUSED, ` +
        `${seen(/WRONGPASS|NOAUTH/)} WRONGPASS/NOAUTH, ${seen(/: attempt \d+ failed/)} failed attempts retried`,
    );
  }, 240_000);

  it("still refuses acme's credential on globex's keys", async () => {
    const acme = await connect(workerRedisUrl);
    try {
      expect(await acme.set(`freehold:${namespace}:after-restart`, "yes")).toBe("OK");
      expect(await refusal(acme.get(globexKey))).toMatch(/^NOPERM/);
      expect(await refusal(acme.set(globexKey, "acme was here"))).toMatch(/^NOPERM/);
      expect(await refusal(acme.del(globexKey))).toMatch(/^NOPERM/);
      expect(await refusal(acme.call("KEYS", "*"))).toMatch(/^NOPERM/);
    } finally {
      acme.disconnect();
    }
    // Globex's key came back from the append-only file, unchanged.
    expect(await admin.get(globexKey)).toBe(globexValue);
  });
});
