/**
 * The wall between tenants in Redis, attacked with a tenant's real credential: a real redis-server
 * with a password on its default user (and DEBUG enabled, so the ACL alone must refuse it), users
 * made by applyTenantUser for acme (namespaces acme and acme-dev) and globex (namespace globex),
 * globex with a run, its events, a queued BullMQ job, limits and usage. Every attack asserts Redis's
 * exact refusal, and that nothing in Redis changed: every key with its content, the configuration,
 * the ACL, the scripts and functions, and database 1.
 */
import { createHash } from "node:crypto";
import { createConnection } from "node:net";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  applyTenantUser,
  createAgentQueues,
  createRunStore,
  limitsKey,
  newRun,
  removeTenantUser,
  tenancyKey,
  tokensUsageKey,
  writeTenancy,
  type RedisServer,
} from "../src/index.ts";
import { startTenantRedis, tenantPassword, type TenantRedis } from "./tenant-fixture.ts";

const acmePassword = tenantPassword("acme");

let redis: TenantRedis;
let server: RedisServer;
let admin: Redis;
let adminDb1: Redis;
const opened: Redis[] = [];

/** A connection with a tenant's credential (no retries: a refused connection fails at once). */
function connect(user: string, password: string): Redis {
  const connection = new Redis({
    host: "127.0.0.1",
    port: server.port,
    username: user,
    password,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  connection.on("error", () => undefined);
  opened.push(connection);
  return connection;
}

const acme = (): Redis => connect("freehold-tenant-acme", acmePassword);

/** Redis's first reply line to `AUTH user password`, sent on a plain socket (no client in between). */
async function authenticate(user: string, password: string): Promise<string> {
  const socket = createConnection({ host: "127.0.0.1", port: server.port });
  try {
    const reply = new Promise<string>((resolve, reject) => {
      let text = "";
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes("\r\n")) resolve(text.slice(0, text.indexOf("\r\n")));
      });
      socket.once("error", reject);
    });
    const parts = ["AUTH", user, password];
    socket.write(
      `*${parts.length}\r\n${parts.map((part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`).join("")}`,
    );
    return await reply;
  } finally {
    socket.destroy();
  }
}
const wrongPassword = "-WRONGPASS invalid username-password pair or user is disabled.";

const globexRun = "run-globex-1";
const globexKeys = {
  secret: "freehold:globex:secret",
  run: `freehold:globex:run:${globexRun}`,
  events: `freehold:globex:run:${globexRun}:events`,
  dispatch: "freehold:globex:dispatch",
  list: "freehold:globex:list",
  usage: tokensUsageKey("globex", new Date()),
};
const loadedScript = "return redis.call('GET', KEYS[1])";
const loadedSha = createHash("sha1").update(loadedScript).digest("hex");

beforeAll(async () => {
  redis = await startTenantRedis({ extraArguments: ["--enable-debug-command", "yes"], adminRetries: 1 });
  ({ server, admin } = redis);
  adminDb1 = new Redis(server.url, { db: 1 });
  await redis.addTenant({
    tenant: "acme",
    namespaces: ["acme", "acme-dev"],
    limits: { runsPerMinute: 10, tokensPerDay: 1000 },
  });
  await redis.addTenant({
    tenant: "globex",
    namespaces: ["globex"],
    limits: { runsPerMinute: 99, tokensPerDay: 99_999 },
  });
  // globex's data: a run with its events, a queued job, a string, a list, usage; acme's own keys.
  const store = createRunStore(admin);
  await store.create(newRun({ id: globexRun, namespace: "globex", agent: "billing", input: "Pay INV-9" }), [
    {
      type: "run-start",
      runId: globexRun,
      time: new Date().toISOString(),
      agent: "billing",
      input: "Pay INV-9",
    },
  ]);
  const queues = createAgentQueues(admin);
  await queues.enqueue("globex", "billing", globexRun, { key: "start" });
  await queues.close();
  await admin.set(globexKeys.secret, "globex's secret");
  await admin.rpush(globexKeys.list, "one", "two");
  await admin.incrby(globexKeys.usage, 500);
  await admin.set("freehold:acme:own", "acme's own");
  await admin.rpush("freehold:acme:list", "a");
  await admin.script("LOAD", loadedScript);
  await adminDb1.set("freehold:globex:in-db1", "db1");
});

afterAll(async () => {
  for (const connection of opened) connection.disconnect();
  adminDb1.disconnect();
  await redis.stop();
});

/** Everything an attack could change, read with the admin credential. */
async function snapshot(): Promise<unknown> {
  const names = (await admin.keys("*")).sort();
  const contents: Record<string, unknown> = {};
  for (const key of names) {
    const type = await admin.type(key);
    const expires = (await admin.pttl(key)) > 0;
    if (type === "string") contents[key] = { type, expires, value: await admin.get(key) };
    else if (type === "hash") contents[key] = { type, expires, value: await admin.hgetall(key) };
    else if (type === "list") contents[key] = { type, expires, value: await admin.lrange(key, 0, -1) };
    else if (type === "set") contents[key] = { type, expires, value: (await admin.smembers(key)).sort() };
    else if (type === "zset")
      contents[key] = { type, expires, value: await admin.zrange(key, "0", "-1", "WITHSCORES") };
    else if (type === "stream") contents[key] = { type, expires, value: await admin.xrange(key, "-", "+") };
    else contents[key] = { type, expires };
  }
  return {
    contents,
    config: await admin.config("GET", "maxmemory*"),
    persistence: await admin.config("GET", "appendonly"),
    acl: ((await admin.call("ACL", "LIST")) as string[]).sort(),
    scripts: await admin.script("EXISTS", loadedSha),
    functions: await admin.call("FUNCTION", "LIST"),
    database1: await adminDb1.keys("*"),
    alive: await admin.ping(),
  };
}

/** The refusal of a command the user may not run. */
const command = (name: string): string => `NOPERM this user has no permissions to run the '${name}' command`;
const keys = "NOPERM this user has no permissions to access one of the keys used as arguments";
const channels = "NOPERM this user has no permissions to access one of the channels used as arguments";
/** What a script gets when it reaches a key the user may not touch. */
const scriptKeys =
  /^ERR The user executing the script can't access at least one of the keys mentioned in the command arguments script: [0-9a-f]{40}, on @user_script:1\.$/;

interface Attack {
  readonly name: string;
  readonly run: (connection: Redis) => Promise<unknown>;
  readonly refusal: string | RegExp;
}

const today = new Date().toISOString().slice(0, 10);

const attacks: readonly Attack[] = [
  // globex's keys, with every kind of command acme may otherwise run
  { name: "GET a globex key", run: (c) => c.get(globexKeys.secret), refusal: keys },
  { name: "SET a globex key", run: (c) => c.set(globexKeys.secret, "acme was here"), refusal: keys },
  { name: "DEL globex's run", run: (c) => c.del(globexKeys.run), refusal: keys },
  { name: "HGETALL globex's run", run: (c) => c.hgetall(globexKeys.run), refusal: keys },
  { name: "HSET globex's run state", run: (c) => c.hset(globexKeys.run, "state", "{}"), refusal: keys },
  { name: "XREAD globex's events", run: (c) => c.xread("STREAMS", globexKeys.events, "0"), refusal: keys },
  {
    name: "XREAD BLOCK on its own stream and globex's",
    run: (c) => c.xread("BLOCK", 10, "STREAMS", "freehold:acme:s", globexKeys.events, "0", "0"),
    refusal: keys,
  },
  {
    name: "XADD to globex's events",
    run: (c) => c.xadd(globexKeys.events, "*", "event", "{}"),
    refusal: keys,
  },
  {
    name: "ZRANGE globex's dispatch set",
    run: (c) => c.zrange(globexKeys.dispatch, "0", "-1"),
    refusal: keys,
  },
  {
    name: "BZPOPMIN on globex's queue marker",
    run: (c) => c.bzpopmin("freehold:globex:agent:{globex.billing}:marker", 0.01),
    refusal: keys,
  },
  {
    name: "RPOPLPUSH from its own list into globex's",
    run: (c) => c.rpoplpush("freehold:acme:list", globexKeys.list),
    refusal: keys,
  },
  {
    name: "RENAME globex's run into acme",
    run: (c) => c.rename(globexKeys.run, "freehold:acme:stolen"),
    refusal: keys,
  },
  {
    name: "RENAME acme's key over globex's",
    run: (c) => c.rename("freehold:acme:own", globexKeys.secret),
    refusal: keys,
  },
  {
    name: "COPY globex's run into acme",
    run: (c) => c.copy(globexKeys.run, "freehold:acme:copy"),
    refusal: command("copy"),
  },
  {
    name: "a key of a namespace that starts with acme's name (acme-devops)",
    run: (c) => c.set("freehold:acme-devops:x", "1"),
    refusal: keys,
  },
  {
    name: "MULTI with a globex read inside",
    run: (c) => c.multi().get(globexKeys.secret).exec(),
    refusal:
      "EXECABORT Transaction discarded because of: NOPERM this user has no permissions to run the 'exec' command",
  },
  // scripts
  {
    name: "EVAL declaring a globex key",
    run: (c) => c.eval("return redis.call('GET', KEYS[1])", 1, globexKeys.secret),
    refusal: keys,
  },
  {
    name: "EVAL reading an undeclared globex key",
    run: (c) => c.eval(`return redis.call('GET', '${globexKeys.secret}')`, 0),
    refusal: scriptKeys,
  },
  {
    name: "EVAL writing an undeclared globex key after declaring its own",
    run: (c) => c.eval(`redis.call('SET', '${globexKeys.secret}', 'x') return 1`, 1, "freehold:acme:own"),
    refusal: scriptKeys,
  },
  {
    name: "EVALSHA of a loaded script on a globex key",
    run: (c) => c.evalsha(loadedSha, 1, globexKeys.secret),
    refusal: keys,
  },
  // pub/sub
  {
    name: "SUBSCRIBE to a globex channel",
    run: (c) => c.subscribe("freehold:globex:events"),
    refusal: channels,
  },
  { name: "PSUBSCRIBE to every freehold channel", run: (c) => c.psubscribe("freehold:*"), refusal: channels },
  {
    name: "PSUBSCRIBE to globex's channels",
    run: (c) => c.psubscribe("freehold:globex:*"),
    refusal: channels,
  },
  {
    name: "PUBLISH on a globex channel",
    run: (c) => c.publish("freehold:globex:events", "x"),
    refusal: channels,
  },
  {
    name: "PUBSUB CHANNELS (lists every tenant's)",
    run: (c) => c.call("PUBSUB", "CHANNELS"),
    refusal: command("pubsub|channels"),
  },
  // listing keys
  { name: "KEYS *", run: (c) => c.keys("*"), refusal: command("keys") },
  { name: "SCAN (not filtered by key patterns)", run: (c) => c.scan(0), refusal: command("scan") },
  { name: "RANDOMKEY", run: (c) => c.randomkey(), refusal: command("randomkey") },
  { name: "DBSIZE", run: (c) => c.dbsize(), refusal: command("dbsize") },
  // the server
  { name: "FLUSHALL", run: (c) => c.flushall(), refusal: command("flushall") },
  { name: "FLUSHDB", run: (c) => c.flushdb(), refusal: command("flushdb") },
  {
    name: "CONFIG SET maxmemory",
    run: (c) => c.config("SET", "maxmemory", "1"),
    refusal: command("config|set"),
  },
  {
    name: "CONFIG GET requirepass",
    run: (c) => c.config("GET", "requirepass"),
    refusal: command("config|get"),
  },
  { name: "ACL LIST", run: (c) => c.call("ACL", "LIST"), refusal: command("acl|list") },
  {
    name: "ACL SETUSER itself to every key",
    run: (c) => c.call("ACL", "SETUSER", "freehold-tenant-acme", "~*", "+@all"),
    refusal: command("acl|setuser"),
  },
  {
    name: "DEBUG SLEEP (enabled on this server)",
    run: (c) => c.call("DEBUG", "SLEEP", "0"),
    refusal: command("debug"),
  },
  { name: "SCRIPT FLUSH", run: (c) => c.script("FLUSH"), refusal: command("script|flush") },
  {
    name: "FUNCTION LOAD",
    run: (c) =>
      c.call("FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('x', function() return 1 end)"),
    refusal: command("function|load"),
  },
  { name: "FUNCTION FLUSH", run: (c) => c.call("FUNCTION", "FLUSH"), refusal: command("function|flush") },
  { name: "SELECT 1", run: (c) => c.select(1), refusal: command("select") },
  {
    name: "MOVE its key to database 1",
    run: (c) => c.move("freehold:acme:own", 1),
    refusal: command("move"),
  },
  { name: "SWAPDB 0 1", run: (c) => c.swapdb(0, 1), refusal: command("swapdb") },
  { name: "MONITOR", run: (c) => c.call("MONITOR"), refusal: command("monitor") },
  { name: "CLIENT LIST", run: (c) => c.client("LIST"), refusal: command("client|list") },
  {
    name: "CLIENT KILL of globex's connections",
    run: (c) => c.client("KILL", "USER", "freehold-tenant-globex"),
    refusal: command("client|kill"),
  },
  { name: "SLOWLOG GET", run: (c) => c.slowlog("GET"), refusal: command("slowlog|get") },
  {
    name: "MIGRATE globex's run elsewhere",
    run: (c) => c.call("MIGRATE", "127.0.0.1", "1", globexKeys.run, "0", "100"),
    refusal: command("migrate"),
  },
  { name: "SHUTDOWN", run: (c) => c.call("SHUTDOWN", "NOSAVE"), refusal: command("shutdown") },
  // Redis Cluster: the slot map and state only (what a cluster client asks), nothing that changes it
  { name: "CLUSTER RESET", run: (c) => c.call("CLUSTER", "RESET"), refusal: command("cluster|reset") },
  {
    name: "CLUSTER MEET (join another node)",
    run: (c) => c.call("CLUSTER", "MEET", "127.0.0.1", "1"),
    refusal: command("cluster|meet"),
  },
  { name: "CLUSTER NODES", run: (c) => c.call("CLUSTER", "NODES"), refusal: command("cluster|nodes") },
  {
    name: "RESET to fall back to the default user, then GET a globex key",
    run: async (c) => {
      await c.call("RESET");
      return c.get(globexKeys.secret);
    },
    refusal: "NOAUTH Authentication required.",
  },
  // its own limits and tenancy: read, never write
  {
    name: "HSET its own limits (raise runsPerMinute)",
    run: (c) => c.hset(limitsKey("acme"), "runsPerMinute", "1000000"),
    refusal: keys,
  },
  { name: "DEL its own limits", run: (c) => c.del(limitsKey("acme")), refusal: keys },
  {
    name: "EVAL declaring its own limits (scripts' keys count as writes)",
    run: (c) => c.eval("return redis.call('HGET', KEYS[1], 'runsPerMinute')", 1, limitsKey("acme")),
    refusal: keys,
  },
  {
    name: "EVAL writing its own limits without declaring them",
    run: (c) => c.eval(`return redis.call('HSET', '${limitsKey("acme")}', 'tokensPerDay', '1')`, 0),
    refusal: scriptKeys,
  },
  {
    name: "RENAME its own limits away",
    run: (c) => c.rename(limitsKey("acme"), `freehold-usage:{acme}:limits`),
    refusal: keys,
  },
  {
    name: "SET freehold-tenancy:acme to another tenant",
    run: (c) => c.set(tenancyKey("acme"), "nobody"),
    refusal: keys,
  },
  {
    name: "DEL freehold-tenancy:acme-dev (escape quotas)",
    run: (c) => c.del(tenancyKey("acme-dev")),
    refusal: keys,
  },
  {
    name: "SET freehold-tenancy:globex (claim globex's namespace)",
    run: (c) => c.set(tenancyKey("globex"), "acme"),
    refusal: keys,
  },
  // globex's limits and usage
  { name: "HGETALL globex's limits", run: (c) => c.hgetall(limitsKey("globex")), refusal: keys },
  {
    name: "INCRBY globex's token usage (exhaust its quota)",
    run: (c) => c.incrby(`freehold-usage:{globex}:tokens:${today}`, 1_000_000),
    refusal: keys,
  },
];

describe("acme's Redis credential", () => {
  it("works on acme's own keys and reads its limits and tenancy", async () => {
    const connection = acme();
    expect(await connection.get("freehold:acme:own")).toBe("acme's own");
    expect(await connection.set("freehold:acme-dev:scratch", "1", "PX", 60_000)).toBe("OK");
    expect(await connection.hget(limitsKey("acme"), "runsPerMinute")).toBe("10");
    expect(await connection.get(tenancyKey("acme-dev"))).toBe("acme");
    expect(await connection.incrby(`freehold-usage:{acme}:tokens:${today}`, 0)).toBe(0);
    expect(await connection.del("freehold:acme-dev:scratch", `freehold-usage:{acme}:tokens:${today}`)).toBe(
      2,
    );
  });

  it.each(attacks)("is refused: $name", async ({ run, refusal }) => {
    const before = await snapshot();
    const connection = acme();
    const error = await run(connection).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error, "the attack was not refused").toBeInstanceOf(Error);
    const message = (error as Error).message;
    if (typeof refusal === "string") expect(message).toBe(refusal);
    else expect(message).toMatch(refusal);
    connection.disconnect();
    expect(await snapshot()).toEqual(before);
  });

  it("has at least 50 attacks", () => {
    expect(attacks.length).toBeGreaterThanOrEqual(50);
  });
});

describe("the tenant user's lifecycle", () => {
  it("says whether it created the user, and keeps connections when the same password is applied again", async () => {
    const scope = { tenant: "initech", namespaces: ["initech"], password: "initech-password-0123456789" };
    expect(await applyTenantUser(admin, scope)).toEqual({ created: true, passwordChanged: false });
    const connection = connect("freehold-tenant-initech", scope.password);
    await connection.set("freehold:initech:x", "1");
    expect(await applyTenantUser(admin, scope)).toEqual({ created: false, passwordChanged: false });
    expect(await connection.get("freehold:initech:x")).toBe("1");
    await removeTenantUser(admin, "initech");
  });

  it("replaces the password: the old one is refused (WRONGPASS) and its connections closed, the new one works", async () => {
    const old = "rotate-old-password-0123456789";
    const fresh = "rotate-new-password-0123456789";
    await applyTenantUser(admin, { tenant: "hooli", namespaces: ["hooli"], password: old });
    const before = connect("freehold-tenant-hooli", old);
    await before.set("freehold:hooli:x", "1");

    expect(await applyTenantUser(admin, { tenant: "hooli", namespaces: ["hooli"], password: fresh })).toEqual(
      {
        created: false,
        passwordChanged: true,
      },
    );
    expect(await authenticate("freehold-tenant-hooli", old)).toBe(wrongPassword);
    expect(await authenticate("freehold-tenant-hooli", fresh)).toBe("+OK");
    await expect(before.get("freehold:hooli:x")).rejects.toThrow();
    const after = connect("freehold-tenant-hooli", fresh);
    expect(await after.get("freehold:hooli:x")).toBe("1");
    // The rules follow a reset: a namespace dropped from the tenant is out of reach at once.
    await applyTenantUser(admin, { tenant: "hooli", namespaces: ["hooli-2"], password: fresh });
    await expect(after.get("freehold:hooli:x")).rejects.toThrow(keys);
    await removeTenantUser(admin, "hooli");
  });

  it("removes the user: its connections are closed and new ones refused", async () => {
    const password = "umbrella-password-0123456789";
    await applyTenantUser(admin, { tenant: "umbrella", namespaces: ["umbrella"], password });
    const open = connect("freehold-tenant-umbrella", password);
    await open.set("freehold:umbrella:x", "1");
    await removeTenantUser(admin, "umbrella");
    await expect(open.get("freehold:umbrella:x")).rejects.toThrow();
    expect(await authenticate("freehold-tenant-umbrella", password)).toBe(wrongPassword);
    expect(await admin.get("freehold:umbrella:x")).toBe("1");
  });

  it("refuses names that would widen a key pattern", async () => {
    await expect(
      applyTenantUser(admin, { tenant: "acme", namespaces: ["*"], password: acmePassword }),
    ).rejects.toMatchObject({ code: "tenancy.invalid-name" });
    await expect(
      writeTenancy(admin, { tenant: "glob?x", namespaces: ["globex"], limits: {} }),
    ).rejects.toMatchObject({ code: "tenancy.invalid-name" });
  });
});
