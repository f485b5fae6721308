/**
 * `freehold gateway`'s edge flags reach the gateway: served as a person would start it, on a real
 * Redis, an allowed origin is served and another refused, a second event stream past
 * `--max-streams-per-caller` is refused, and a caller past `--burst` gets 429s; a bad value keeps
 * the gateway from starting.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAgentRegistry, startRedisServer, type RedisServer } from "@freehold/handoff";
import { Command } from "commander";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { registerGatewayCommand } from "../src/commands/gateway.ts";
import { captureOutput } from "../src/output.ts";

const token = "0123456789abcdef0123456789abcdef";
const namespace = "edge";
let redis: RedisServer;
let folder: string;
let gatewayUrl: string;
let stop: () => void;
let done: Promise<void>;

/** `freehold gateway <args>` with the token and policy files; resolves when it is stopped. */
function gateway(args: readonly string[], output = captureOutput(), stopped = Promise.resolve()) {
  const program = new Command("freehold").exitOverride();
  registerGatewayCommand(program, {
    output,
    environment: {},
    stopped: () => stopped,
  });
  return program.parseAsync(
    [
      "gateway",
      "--redis-url",
      redis.url,
      "--port",
      "0",
      "--token-file",
      join(folder, "tokens.csv"),
      "--policy-file",
      join(folder, "policy.yaml"),
      ...args,
    ],
    { from: "user" },
  );
}

beforeAll(async () => {
  redis = await startRedisServer();
  folder = mkdtempSync(join(tmpdir(), "freehold-gateway-edge-"));
  writeFileSync(join(folder, "tokens.csv"), `${token},ann,testers\n`);
  chmodSync(join(folder, "tokens.csv"), 0o600);
  writeFileSync(
    join(folder, "policy.yaml"),
    `bindings: [{ namespace: "*", role: admin, subjects: [{ group: testers }] }]\n`,
  );
  const connection = new Redis(redis.url);
  await createAgentRegistry(connection).register(namespace, { name: "idle", description: "Never works." });
  connection.disconnect();
  const output = captureOutput();
  done = gateway(
    [
      "--allowed-origin",
      "https://console.acme.com,https://ops.acme.com",
      "--requests-per-second",
      "1",
      "--burst",
      "5",
      "--max-streams-per-caller",
      "1",
    ],
    output,
    new Promise((resolve) => {
      stop = resolve;
    }),
  ).then(() => undefined);
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
  stop();
  await done;
  await redis.stop();
  rmSync(folder, { recursive: true, force: true });
});

const authorization = { authorization: `Bearer ${token}` };

describe("freehold gateway's edge flags", () => {
  it("serves the allowed origins and refuses others; caps each caller's streams and burst", async () => {
    // Each request past the origin check takes one of the caller's 5 tokens (1 more a second).
    const allowed = await fetch(`${gatewayUrl}/v1/namespaces/${namespace}/agents`, {
      headers: { ...authorization, origin: "https://ops.acme.com" },
    });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://ops.acme.com");
    const foreign = await fetch(`${gatewayUrl}/v1/namespaces/${namespace}/agents`, {
      headers: { ...authorization, origin: "https://evil.example" },
    });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ code: "request.origin-forbidden" });

    const started = await fetch(`${gatewayUrl}/v1/namespaces/${namespace}/agents/idle/runs`, {
      method: "POST",
      headers: { ...authorization, "content-type": "application/json" },
      body: JSON.stringify({ input: "Hello" }),
    });
    expect(started.status).toBe(201);
    const { id } = (await started.json()) as { id: string };
    const events = `${gatewayUrl}/v1/namespaces/${namespace}/runs/${id}/events`;
    const first = new AbortController();
    const stream = await fetch(events, { headers: authorization, signal: first.signal });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const second = await fetch(events, { headers: authorization });
    expect(second.status).toBe(429);
    expect(await second.json()).toMatchObject({ code: "events.too-many-streams" });
    first.abort();

    // The burst is spent: a handful of requests at once cannot all pass.
    const flood = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const response = await fetch(`${gatewayUrl}/v1/namespaces/${namespace}/agents`, {
          headers: authorization,
        });
        const body = (await response.json()) as { code?: string };
        return `${response.status} ${body.code ?? ""}`.trim();
      }),
    );
    expect(flood).toContain("429 request.rate-limited");
  });

  it("refuses a bad value before it starts, saying what to write", async () => {
    await expect(gateway(["--burst", "0"])).rejects.toMatchObject({
      code: "cli.invalid-option",
      message: '--burst (or FREEHOLD_GATEWAY_BURST) must be a whole number from 1 to 1000000, not "0"',
    });
    await expect(gateway(["--allowed-origin", "https://console.acme.com/app"])).rejects.toMatchObject({
      code: "cli.invalid-option",
    });
  });

  it("refuses a console OIDC client the gateway would not take the tokens of", async () => {
    await expect(gateway(["--console-oidc-client-id", "freehold-console"])).rejects.toMatchObject({
      code: "cli.console-oidc-needs-issuer",
    });
    await expect(
      gateway([
        "--oidc-issuer",
        "https://login.acme.com",
        "--oidc-audience",
        "freehold-api",
        "--console-oidc-client-id",
        "freehold-console",
      ]),
    ).rejects.toMatchObject({
      code: "cli.console-oidc-audience",
      message:
        "the console sends ID tokens for its client id freehold-console, which --oidc-audience does not name: add --oidc-audience freehold-console",
    });
  });
});
